/**
 * Waits that end at a deadline to a fraction of a millisecond, for injected latency, without
 * keeping the event loop busy.
 *
 * Node's timers count whole milliseconds of a clock read once per turn of the event loop: one
 * set for 10 ms answered 10.8 ms after the request on average, one set for the fraction left
 * fires up to 2 ms early. Waiting out the rest on each turn of the loop is exact but never lets
 * the loop sleep: measured at 1,400 requests a second, 4.8 million turns for 10,000 answers, a
 * whole core that a client on the same machine then does not have. Instead one thread per
 * process sleeps in `Atomics.wait`, which takes fractions of a millisecond, until the earliest
 * deadline, and wakes the event loop with a message. If that thread cannot run, waits fall back
 * to the timer and the turns of the loop.
 */
import { Worker } from 'node:worker_threads';

/** No deadline: the thread sleeps until one is set. */
const NONE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The thread's whole program, plain JavaScript evaluated as a script. It reads the earliest
 * deadline (process.hrtime nanoseconds) from shared memory, sleeps until then or until the
 * event loop changes it (a new generation), and posts one message per deadline reached.
 */
const THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const { deadline, generation, NONE } = workerData;
for (;;) {
  const seen = Atomics.load(generation, 0);
  const due = Atomics.load(deadline, 0);
  if (due === NONE) { Atomics.wait(generation, 0, seen); continue; }
  const left = Number(due - process.hrtime.bigint()) / 1e6;
  if (left > 0) { Atomics.wait(generation, 0, seen, left); continue; }
  Atomics.compareExchange(deadline, 0, due, NONE);
  parentPort.postMessage(0);
}`;

interface Waiter {
  /** In `performance.now()` milliseconds. */
  deadline: number;
  resolve: () => void;
}

interface Clock {
  wait(deadline: number): Promise<void>;
  /** Settles once the thread runs (about 20 ms after it is started). */
  ready: Promise<void>;
}

let clock: Clock | undefined;

/**
 * Resolves once `performance.now()` reaches `deadline`, never before; undefined when it already
 * has. All emulators in a process share one clock thread.
 */
export function waitUntil(deadline: number): Promise<void> | undefined {
  if (performance.now() >= deadline) return undefined;
  clock ??= createClock();
  return clock.wait(deadline);
}

/**
 * Starts the clock thread ahead of the first wait, which would otherwise wait for the thread to
 * start too (a first answer 11 ms late, measured); resolves once it runs.
 */
export function startClock(): Promise<void> {
  clock ??= createClock();
  return clock.ready;
}

function createClock(): Clock {
  const deadline = new BigInt64Array(new SharedArrayBuffer(8));
  const generation = new Int32Array(new SharedArrayBuffer(4));
  deadline[0] = NONE;
  // Sorted by deadline; answers mostly arrive in deadline order, so a new one goes at the end.
  const waiting: Waiter[] = [];
  let broken = false;

  const arm = () => {
    const first = waiting[0];
    // performance.now() is read before hrtime, so the thread's deadline is never earlier than ours.
    const due = first === undefined ? NONE : process.hrtime.bigint() + BigInt(Math.ceil((first.deadline - performance.now()) * 1e6));
    Atomics.store(deadline, 0, due);
    Atomics.add(generation, 0, 1);
    Atomics.notify(generation, 0);
  };
  const wake = () => {
    const now = performance.now();
    let due = 0;
    while (due < waiting.length && waiting[due]!.deadline <= now) due++;
    for (const waiter of waiting.splice(0, due)) waiter.resolve();
    // Like a timer, the thread keeps the process alive only while someone waits.
    if (waiting.length === 0) thread.unref();
    arm();
  };
  const fallBack = () => {
    broken = true;
    for (const waiter of waiting.splice(0)) void waitOnLoop(waiter.deadline).then(waiter.resolve);
  };

  let thread: Worker;
  try {
    thread = new Worker(THREAD, { eval: true, workerData: { deadline, generation, NONE } });
  } catch {
    return { wait: waitOnLoop, ready: Promise.resolve() };
  }
  // A thread that fails to start settles it too: waits have fallen back by then.
  const ready = new Promise<void>((resolve) => {
    thread.once('online', resolve);
    thread.once('error', () => resolve());
    thread.once('exit', () => resolve());
  });
  thread.on('message', wake);
  thread.on('error', fallBack);
  thread.on('exit', fallBack);
  thread.unref();

  return {
    ready,
    wait(at: number): Promise<void> {
      if (broken) return waitOnLoop(at);
      return new Promise((resolve) => {
        let index = waiting.length;
        while (index > 0 && waiting[index - 1]!.deadline > at) index--;
        waiting.splice(index, 0, { deadline: at, resolve });
        if (waiting.length === 1) thread.ref();
        if (index === 0) arm();
      });
    },
  };
}

/** A timer for the time left, then every turn of the event loop until the deadline. */
function waitOnLoop(deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (performance.now() >= deadline ? resolve() : setImmediate(check));
    setTimeout(check, Math.max(0, deadline - performance.now()));
  });
}
