/** Named pipes for tests of code that must refuse them, and a guard against a read that waits forever. */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';

/**
 * Makes named pipes nobody writes to; `release` gives any reader left waiting on one (by a
 * regression) its end of file, so the test's worker can exit. Call it after each test.
 */
export function namedPipes(): { make: (file: string) => string; release: () => void } {
  const fifos: string[] = [];
  return {
    make(file) {
      execFileSync('mkfifo', [file]);
      fifos.push(file);
      return file;
    },
    release() {
      for (const fifo of fifos.splice(0)) {
        try {
          closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          // No reader is waiting.
        }
      }
    },
  };
}

/** Fails, rather than waiting for the test's timeout, when `promise` is still pending after `ms`. */
export function soon<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still waiting after ${ms / 1000} s`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
