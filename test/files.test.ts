/** Reading a file the user named: regular files only, refused before a blocking read. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { NotAFileError, readRegularFile, readRegularFileSync } from '../src/files.js';
import { namedPipes, soon } from './helpers/pipes.js';

const dirs: string[] = [];
const pipes = namedPipes();
afterEach(() => {
  pipes.release();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'scimform-files-'));
  dirs.push(dir);
  return dir;
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
    ['a named pipe nobody writes to', (dir: string) => pipes.make(path.join(dir, 'pipe.yaml')), 'a named pipe (FIFO)'],
    ['a folder', (dir: string) => (mkdirSync(path.join(dir, 'sub')), path.join(dir, 'sub')), 'a folder'],
    ['a device that never ends', () => '/dev/zero', 'a character device'],
  ])('refuses %s at once, saying what it is', async (_what, make, kind) => {
    const file = make(folder());
    const error = await soon(read(file), 1_000).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotAFileError);
    expect(error).toMatchObject({ path: file, kind, message: `${file} is ${kind}, not a regular file` });
  });

  test('passes on what Node says of a file that is not there', async () => {
    await expect(read(path.join(folder(), 'missing.yaml'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
