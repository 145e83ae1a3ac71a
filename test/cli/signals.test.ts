/**
 * SIGINT and SIGTERM on the built command (SPEC §5): the first starts nothing new and waits for
 * what is in flight; a second, as a CI runner sends when it cancels a job, stops at once and still
 * reports what was done, with the writes in flight as unknown, in the output and the audit log.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { exampleRepository, type TestRepository } from '../helpers/repo.js';

const bin = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

let repo: TestRepository | undefined;
afterEach(async () => {
  await repo?.close();
  repo = undefined;
});

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test.skipIf(!existsSync(bin))('a second signal ends apply at once: the writes in flight are reported as unknown, and the audit log says so', async () => {
  // Every create takes ten seconds to be answered: the second signal must not wait for them.
  repo = await exampleRepository({ faults: { latencyMs: 10_000, onlyMethods: ['POST'] } });
  const child = spawn(process.execPath, [bin, 'apply', '--auto-approve', '--audit-log', 'audit.jsonl'], {
    cwd: repo.dir,
    env: { ...process.env, ...repo.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = once(child, 'exit');
  const emulator = repo.emulator;
  // examples/basic's target has concurrency 4: four creates stored, their answers ten seconds away.
  await until(() => emulator.users().length === 4, 'four creates in flight');
  child.kill('SIGINT');
  await until(() => stderr.includes('Received SIGINT'), 'the first signal to be seen');
  const stoppedAt = Date.now();
  child.kill('SIGTERM');
  const [code] = await exited;

  expect(Date.now() - stoppedAt).toBeLessThan(5_000);
  expect(code).toBe(1);
  expect(stderr).toContain('Received SIGTERM again: not waiting for the writes in flight; they are reported as unknown.');
  expect(stdout).toMatch(/0 created, .*4 unknown/);
  expect(stdout).toContain('not started');
  // One line per write sent, each saying its outcome is unknown.
  const lines = readFileSync(path.join(repo.dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { method: string; outcome: string });
  expect(lines.map((line) => `${line.method} ${line.outcome}`)).toEqual(Array.from({ length: 4 }, () => 'POST unknown'));
  expect(emulator.users()).toHaveLength(4);
});

test.skipIf(!existsSync(bin))('a second signal while apply only reads (planning) exits at once', async () => {
  repo = await exampleRepository({ faults: { latencyMs: 10_000, onlyMethods: ['GET'] } });
  const child = spawn(process.execPath, [bin, 'apply', '--auto-approve'], { cwd: repo.dir, env: { ...process.env, ...repo.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = once(child, 'exit');
  const emulator = repo.emulator;
  // Started, and waiting for its first read (ten seconds away).
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  child.kill('SIGINT');
  await until(() => stderr.includes('Received SIGINT'), 'the first signal to be seen');
  const stoppedAt = Date.now();
  child.kill('SIGINT');
  const [code] = await exited;
  expect(Date.now() - stoppedAt).toBeLessThan(2_000);
  expect(code).toBe(130);
  expect(emulator.users()).toEqual([]);
});
