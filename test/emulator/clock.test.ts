/** The clock that ends injected latency: never early, in any order, and without keeping the event loop busy. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { waitUntil } from '../../src/emulator/clock.js';

/** Waits for every deadline at once; resolves with how far past its deadline each one ended. */
async function overshoots(deadlines: number[]): Promise<number[]> {
  return Promise.all(
    deadlines.map(async (deadline) => {
      await waitUntil(deadline);
      return performance.now() - deadline;
    }),
  );
}

describe('waitUntil', () => {
  test('a deadline already reached needs no wait', () => {
    expect(waitUntil(performance.now() - 1)).toBeUndefined();
  });

  test.each([
    ['in order', (i: number) => i],
    ['in reverse order', (i: number) => 99 - i],
    ['interleaved', (i: number) => (i % 2 === 0 ? i : 100 - i)],
  ])('never ends before its deadline, for deadlines set %s, fractions of a millisecond apart', async (_, order) => {
    const start = performance.now() + 5;
    const late = await overshoots(Array.from({ length: 100 }, (_, i) => start + order(i) * 0.37));
    expect(Math.min(...late)).toBeGreaterThanOrEqual(0);
    // Loose, as a busy CI machine wakes threads late: this catches a wait that forgot a deadline.
    expect(late.sort((a, b) => a - b)[50]).toBeLessThan(20);
  });

  test('a deadline set earlier than those already waiting is not held up by them', async () => {
    const now = performance.now();
    const later = waitUntil(now + 400);
    const sooner = await overshoots([now + 20]);
    expect(sooner[0]).toBeLessThan(200);
    await later;
    expect(performance.now()).toBeGreaterThanOrEqual(now + 400);
  });

  test('the process sleeps while it waits: a steady stream of deadlines costs little CPU', async () => {
    // Waiting on each turn of the event loop instead spends about the whole 400 ms on the CPU.
    const start = performance.now() + 5;
    const before = process.cpuUsage();
    await overshoots(Array.from({ length: 800 }, (_, i) => start + i * 0.5 + 0.3));
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000).toBeLessThan(150);
  });

  test('like a timer, a pending wait keeps the process alive, and the process exits once none is pending', () => {
    // The built module in a process of its own (npm test builds first): its exit is what is tested.
    const clock = fileURLToPath(new URL('../../dist/emulator/clock.js', import.meta.url));
    const script = `const { waitUntil } = await import(${JSON.stringify(clock)}); await waitUntil(performance.now() + 100); console.log('waited');`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect({ status: run.status, stdout: run.stdout.trim() }).toEqual({ status: 0, stdout: 'waited' });
  });
});
