/** Reading a file the user named: regular files only, refused before a blocking read. */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { NotAFileError, readRegularFile, readRegularFileSync } from '../src/files.js';

const dirs: string[] = [];
const fifos: string[] = [];
afterEach(() => {
  // A reader the code under test left waiting on a pipe would hold a thread forever: give it an end.
  for (const fifo of fifos.splice(0)) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // No reader is waiting.
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'scimform-files-'));
  dirs.push(dir);
  return dir;
}

/** A named pipe nobody writes to. */
function namedPipe(file: string): string {
  execFileSync('mkfifo', [file]);
  fifos.push(file);
  return file;
}

/** Fails, rather than waiting for the test's timeout, when `promise` is still pending after a second. */
function soon<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('still waiting after 1 s')), 1_000)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const readers = [
  ['readRegularFile', (file: string) => readRegularFile(file)],
  ['readRegularFileSync', async (file: string) => readRegularFileSync(file)],
] as const;

describe.each(readers)('%s', (_name, read) => {
  test('reads a regular file', async () => {
    const file = path.join(folder(), 'a.yaml');
    writeFileSync(file, 'users: []\n');
    expect((await read(file)).toString('utf8')).toBe('users: []\n');
  });

  test.skipIf(process.platform === 'win32').each([
    ['a named pipe nobody writes to', (dir: string) => namedPipe(path.join(dir, 'pipe.yaml')), 'a named pipe (FIFO)'],
    ['a folder', (dir: string) => (mkdirSync(path.join(dir, 'sub')), path.join(dir, 'sub')), 'a folder'],
    ['a device that never ends', () => '/dev/zero', 'a character device'],
  ])('refuses %s at once, saying what it is', async (_what, make, kind) => {
    const file = make(folder());
    const error = await soon(read(file)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotAFileError);
    expect(error).toMatchObject({ path: file, kind, message: `${file} is ${kind}, not a regular file` });
  });

  test('passes on what Node says of a file that is not there', async () => {
    await expect(read(path.join(folder(), 'missing.yaml'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
