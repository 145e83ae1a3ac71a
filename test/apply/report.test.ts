import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { countOutcomes } from '../../src/apply/executor.js';
import { createProgressReporter, formatProgress, renderApplyReport } from '../../src/apply/report.js';
import type { ApplyReport, OperationOutcome } from '../../src/apply/types.js';
import { safeText } from '../../src/render/format.js';
import { ESCAPED_NAMES, HOSTILE_NAMES, expectSafeOutput } from '../helpers/hostile.js';

function report(outcomes: OperationOutcome[], extra: Partial<ApplyReport> = {}): ApplyReport {
  return { target: 'lightstep', outcomes, counts: countOutcomes(outcomes), interrupted: false, writes: outcomes.length, durationMs: 2345, ...extra };
}

describe('renderApplyReport', () => {
  test('a clean run is one line of counts', () => {
    const text = renderApplyReport(
      report([
        { key: 'user:a@x.io', kind: 'createUser', status: 'done' },
        { key: 'user:b@x.io', kind: 'updateUser', status: 'done' },
        { key: 'user:c@x.io', kind: 'deactivateUser', status: 'done' },
      ]),
      { color: false },
    );
    expect(text).toBe('Apply lightstep: 1 created, 1 updated, 1 deactivated, 0 deleted, 0 failed, 0 skipped (3 writes, 2.3 s).\n');
  });

  test('lists failures, stale, partial, skipped, adopted and manual operations with their reasons', () => {
    const text = renderApplyReport(
      report([
        { key: 'group:Admins', kind: 'createGroup', status: 'partial', notAdded: ['bad@x.io'], message: "not added: bad@x.io (its create failed); the group's other changes were sent" },
        { key: 'group:Ops', kind: 'updateGroupMembers', status: 'skipped', notAdded: ['bad@x.io'], message: 'not sent: its only change was adding bad@x.io (its create failed)' },
        { key: 'user:bad@x.io', kind: 'createUser', status: 'failed', message: 'HTTP 400: email domain not allowed' },
        { key: 'user:jane@x.io', kind: 'updateUser', status: 'stale', message: 'changed on the server since the plan (HTTP 412), not forced; re-run plan' },
        { key: 'user:new@x.io', kind: 'createUser', status: 'adopted', message: 'HTTP 409 on create: adopted the existing user new@x.io (id 7)' },
        { key: 'manual:1', kind: 'manual', status: 'manual', message: "group Ops: add a@x.io: this target's groups are read-only" },
      ]),
      { color: false },
    );
    expect(text.split('\n')).toEqual([
      'Apply lightstep: 2 created, 0 updated, 0 deactivated, 0 deleted, 1 failed, 1 skipped, 1 stale, 1 manual (6 writes, 2.3 s).',
      '  failed      user:bad@x.io (createUser): HTTP 400: email domain not allowed',
      '  stale       user:jane@x.io (updateUser): changed on the server since the plan (HTTP 412), not forced; re-run plan',
      "  partial     group:Admins (createGroup): not added: bad@x.io (its create failed); the group's other changes were sent",
      '  skipped     group:Ops (updateGroupMembers): not sent: its only change was adding bad@x.io (its create failed)',
      '  adopted     user:new@x.io (createUser): HTTP 409 on create: adopted the existing user new@x.io (id 7)',
      "  manual      group Ops: add a@x.io: this target's groups are read-only",
      '',
    ]);
  });

  test('an outcome that could not be learnt is counted and listed as unknown, not as failed', () => {
    const text = renderApplyReport(
      report([{ key: 'user:a@x.io', kind: 'createUser', status: 'unknown', message: 'POST /Users may or may not have been applied: no answer; the look-up that would tell failed too (timeout)' }]),
      { color: false },
    );
    expect(text.split('\n')).toEqual([
      'Apply lightstep: 0 created, 0 updated, 0 deactivated, 0 deleted, 0 failed, 0 skipped, 1 unknown (1 write, 2.3 s).',
      '  unknown     user:a@x.io (createUser): POST /Users may or may not have been applied: no answer; the look-up that would tell failed too (timeout)',
      '',
    ]);
  });

  test('an interrupted run says what ran and what did not', () => {
    const text = renderApplyReport(
      report(
        [
          { key: 'user:a@x.io', kind: 'createUser', status: 'done' },
          { key: 'user:b@x.io', kind: 'createUser', status: 'not-started', message: 'not started: apply was interrupted' },
        ],
        { interrupted: true, writes: 1 },
      ),
      { color: false },
    );
    expect(text).toContain('  not started user:b@x.io (createUser): not started: apply was interrupted');
    expect(text).toContain('Interrupted: 1 of 2 operations ran, 1 not started. Run apply again to finish; it converges.');
    expect(text).toContain('(1 write, 2.3 s)');
  });

  test('names, ids and server messages are escaped as the plan escapes them: none adds a line, a workflow command or a terminal escape', () => {
    const outcomes: OperationOutcome[] = HOSTILE_NAMES.flatMap((name): OperationOutcome[] => [
      { key: `user:${name}`, kind: 'createUser', status: 'adopted', message: `HTTP 409 on create: adopted the existing user ${name} (id ${name})` },
      { key: `user:${name}`, kind: 'updateUser', status: 'failed', message: `HTTP 400: ${name}` },
      { key: `user:${name}`, kind: 'deactivateUser', status: 'done' },
      { key: `manual:${name}`, kind: 'manual', status: 'manual', message: `group ${name}: add ${name}: this target's groups are read-only` },
    ]);
    const text = renderApplyReport(report(outcomes, { stopped: `the service rejected the token: ${HOSTILE_NAMES[0]}` }), { color: false, verbose: true });
    expectSafeOutput(text);
    // The counts line, 4 lines per name, the stop line.
    expect(text.trimEnd().split('\n')).toHaveLength(1 + 4 * HOSTILE_NAMES.length + 1);
    for (const [index, name] of HOSTILE_NAMES.entries()) {
      // Inside a line, a name shows as safeText shows it; as a whole, as ESCAPED_NAMES says.
      const inside = safeText(`=${name}`).slice(1);
      expect(safeText(name)).toBe(ESCAPED_NAMES[index]);
      expect(text).toContain(`  failed      user:${inside} (updateUser): HTTP 400: ${inside}`);
      expect(text).toContain(`  adopted     user:${inside} (createUser): HTTP 409 on create: adopted the existing user ${inside} (id ${inside})`);
      expect(text).toContain(`  manual      group ${inside}: add ${inside}: this target's groups are read-only`);
      expect(text).toContain(`  done        user:${inside} (deactivateUser)`);
    }
    expect(text).toContain(`Stopped: the service rejected the token: ${ESCAPED_NAMES[0]}.`);
  });

  test.each([
    [true, true],
    [false, false],
  ])('colour %s → escape codes %s', (color, escapes) => {
    const text = renderApplyReport(report([{ key: 'user:a@x.io', kind: 'createUser', status: 'failed', message: 'x' }]), { color });
    expect(text.includes('\u001b[')).toBe(escapes);
  });
});

describe('progress', () => {
  test('formatProgress shows done/total, failures and the rate', () => {
    expect(formatProgress('lightstep', { done: 30, total: 120, failed: 2, skipped: 1, inFlight: 4 }, 2000)).toBe(
      'lightstep: 30/120 operations, 2 failed, 1 skipped, 4 in flight, 15.0/s',
    );
  });

  test.each([
    { tty: true, expected: ['\r\u001b[2Klightstep: 1/3', '\r\u001b[2Klightstep: 2/3', '\r\u001b[2Klightstep: 3/3', '\r\u001b[2Klightstep: 3/3'] },
    { tty: false, expected: ['lightstep: 2/3', 'lightstep: 3/3'] },
  ])('on a terminal $tty: rewrites one line, else prints a plain line per interval', ({ tty, expected }) => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    let clock = 0;
    const reporter = createProgressReporter({ stream, tty, target: 'lightstep', intervalMs: 5000, now: () => clock });
    for (const [done, at] of [
      [1, 1000],
      [2, 6000],
      [3, 7000],
    ] as const) {
      clock = at;
      reporter.update({ done, total: 3, failed: 0, skipped: 0, inFlight: 0 });
    }
    reporter.finish();
    expect(chunks.map((chunk) => chunk.slice(0, chunk.indexOf(' operations')))).toEqual(expected);
  });

  test('on a terminal, updates closer together than the redraw interval are drawn once, and finish draws the last', () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    let clock = 0;
    const reporter = createProgressReporter({ stream, tty: true, target: 'lightstep', redrawMs: 100, now: () => clock });
    for (let done = 1; done <= 50; done++) {
      clock = done * 5;
      reporter.update({ done, total: 50, failed: 0, skipped: 0, inFlight: 0 });
    }
    reporter.finish();
    // Drawn at 5 ms (done 1), 105 ms (21), 205 ms (41), then the final state.
    expect(chunks.map((chunk) => chunk.slice(0, chunk.indexOf(' operations')))).toEqual(
      ['1/50', '21/50', '41/50', '50/50'].map((count) => `\r\u001b[2Klightstep: ${count}`),
    );
    expect(chunks.at(-1)?.endsWith('\n')).toBe(true);
  });
});
