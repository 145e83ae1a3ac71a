import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { formatAuditLine, openAuditLog } from '../../src/apply/audit.js';
import type { AuditEntry } from '../../src/apply/types.js';
import { ScimformError } from '../../src/errors.js';

const entry: AuditEntry = {
  time: '2026-01-01T00:00:00.000Z',
  target: 'lightstep',
  operation: 'user:jane@example.com',
  kind: 'createUser',
  method: 'POST',
  path: '/Users',
  status: 201,
  durationMs: 12,
  outcome: 'applied',
  userName: 'jane@example.com',
};

describe('formatAuditLine', () => {
  test('README names every field of a line', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const paragraph = /\*\*Audit log\.\*\*[^]*?(?=\n- \*\*)/.exec(readme)?.[0].replace(/\s+/g, ' ') ?? '';
    const words: Record<string, string> = { durationMs: 'duration', userName: 'the userName' };
    for (const key of Object.keys(JSON.parse(formatAuditLine(entry)) as object)) {
      expect(paragraph, key).toContain(words[key] ?? key);
    }
  });
});

describe('openAuditLog', () => {
  test('appends one JSON line per entry, to what the file already holds, and creates it private', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'scimform-audit-')), 'audit.jsonl');
    for (const round of [1, 2]) {
      const log = openAuditLog(file);
      log.write({ ...entry, durationMs: round });
      log.write({ ...entry, method: 'DELETE', path: '/Users/7', status: 'error', outcome: 'unknown', durationMs: round });
      await log.close();
    }
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line) as AuditEntry).map((e) => [e.method, e.status, e.durationMs])).toEqual([
      ['POST', 201, 1],
      ['DELETE', 'error', 1],
      ['POST', 201, 2],
      ['DELETE', 'error', 2],
    ]);
    expect(lines[0]).toBe(
      '{"time":"2026-01-01T00:00:00.000Z","target":"lightstep","operation":"user:jane@example.com","kind":"createUser","method":"POST","path":"/Users","status":201,"durationMs":1,"outcome":"applied","userName":"jane@example.com"}',
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test('a last line an earlier apply left cut short (a full disk) is ended before the next line, which stays whole', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'scimform-audit-')), 'audit.jsonl');
    appendFileSync(file, '{"time":"2026-01-01T00:00:00.000Z","tar');
    const log = openAuditLog(file);
    log.write(entry);
    log.write({ ...entry, durationMs: 13 });
    await log.close();
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines[0]).toBe('{"time":"2026-01-01T00:00:00.000Z","tar');
    expect(lines.slice(1).map((line) => (line === '' ? line : (JSON.parse(line) as AuditEntry).durationMs))).toEqual([12, 13, '']);
  });

  test.skipIf(process.platform === 'win32')('a named pipe whose reader has gone is an error at the next line, not a line lost without one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scimform-audit-'));
    const fifo = join(dir, 'audit.fifo');
    execFileSync('mkfifo', [fifo]);
    // Reads the first line and exits, as `--audit-log >(head -n 1)` would.
    const reader = spawn('head', ['-n', '1', fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    const read = new Promise<string>((resolve) => {
      let text = '';
      reader.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      reader.on('close', () => resolve(text));
    });
    const log = openAuditLog(fifo);
    log.write(entry);
    expect((JSON.parse(await read) as AuditEntry).durationMs).toBe(12);
    expect(() => log.write({ ...entry, durationMs: 13 })).toThrow(`cannot write the audit log ${fifo}: EPIPE (broken pipe)`);
    expect(log.failure?.hint).toBe("Keep the pipe's reader running until apply ends, or give --audit-log a file, and run apply again; it converges.");
    await log.close();
  });

  test('keeps only the audit fields, whatever else an entry object carries', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'scimform-audit-')), 'audit.jsonl');
    const log = openAuditLog(file);
    log.write({ ...entry, body: { name: { givenName: 'Jane' } }, authorization: 'Bearer x' } as AuditEntry);
    await log.close();
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')) as object)).not.toContain('body');
    expect(readFileSync(file, 'utf8')).not.toMatch(/Bearer|givenName/);
  });

  test.skipIf(!existsSync('/dev/full'))('a file that takes no more (a full disk) is an error that says so; nothing more is written after it', async () => {
    const log = openAuditLog('/dev/full');
    const failure = (() => {
      try {
        log.write(entry);
      } catch (error) {
        return error as ScimformError;
      }
      throw new Error('expected a failure');
    })();
    expect(failure).toBeInstanceOf(ScimformError);
    expect(failure.message).toBe('cannot write the audit log /dev/full: ENOSPC (no space left on device)');
    expect(failure.hint).toBe('Free space on its disk, or give --audit-log another file, and run apply again; it converges.');
    expect(log.failure).toBe(failure);
    expect(() => log.write(entry)).toThrow(failure);
    await log.close();
  });

  test('a userName the plan shows escaped is written with JSON escapes, and reads back the same', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'scimform-audit-')), 'audit.jsonl');
    const userName = 'bidi\u202eevil\u200b\u0085\u009b31m##[error]@example.com';
    const log = openAuditLog(file);
    log.write({ ...entry, operation: `user:${userName}`, userName });
    await log.close();
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('"userName":"bidi\\u202eevil\\u200b\\u0085\\u009b31m\\u0023#[error]@example.com"');
    expect(text).not.toMatch(/[\u0080-\u009f\u200b\u202e]|##\[/);
    const read = JSON.parse(text) as AuditEntry;
    expect([read.operation, read.userName]).toEqual([`user:${userName}`, userName]);
  });

  test.each([
    ['a folder', (dir: string) => dir, /^cannot open the audit log (.*): it is a folder$/, 'Give --audit-log a file, for example '],
    [
      'a file in a folder that does not exist',
      (dir: string) => join(dir, 'missing', 'audit.jsonl'),
      /^cannot open the audit log .*: the folder .*missing does not exist$/,
      'Create the folder first, or give --audit-log a file in a folder that exists.',
    ],
  ])('%s is an error that says what it is and what to give instead', (_case, pathIn, message, hint) => {
    const path = pathIn(mkdtempSync(join(tmpdir(), 'scimform-audit-')));
    const failure = (() => {
      try {
        openAuditLog(path);
      } catch (error) {
        return error as ScimformError;
      }
      throw new Error('expected a failure');
    })();
    expect(failure).toBeInstanceOf(ScimformError);
    expect(failure.message).toMatch(message);
    expect(failure.hint).toContain(hint);
  });
});
