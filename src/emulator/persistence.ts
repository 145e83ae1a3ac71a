/**
 * The `--data` file: loaded at start, rewritten after every write. Written to a temporary file,
 * flushed to disk, then renamed over the old one, so a crash leaves either the old or the new
 * state, never half of one.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { ScimformError } from '../errors.js';
import { NotAFileError, readRegularFileSync } from '../files.js';

export interface DataFile {
  users?: unknown[];
  groups?: unknown[];
}

export function loadDataFile(file: string): DataFile | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readRegularFileSync(file).toString('utf8'));
  } catch (error) {
    if (error instanceof NotAFileError) {
      throw new ScimformError(`the emulator data file ${file} is ${error.kind}, not a regular file`, {
        hint: 'Give --data a path to a JSON file (the emulator creates it when it is missing, and rewrites it after every write).',
      });
    }
    throw new ScimformError(`the emulator data file ${file} is not valid JSON: ${(error as Error).message}`, {
      hint: 'Fix or delete the file; the emulator writes it as { "users": [...], "groups": [...] }.',
    });
  }
  const data = parsed as DataFile;
  if (!parsed || typeof parsed !== 'object' || (data.users !== undefined && !Array.isArray(data.users)) || (data.groups !== undefined && !Array.isArray(data.groups))) {
    throw new ScimformError(`the emulator data file ${file} does not hold { "users": [...], "groups": [...] }`, {
      hint: 'Fix or delete the file; the emulator creates it when it is missing.',
    });
  }
  return data;
}

export function saveDataFile(file: string, data: DataFile): void {
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ version: 1, ...data })}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  try {
    // Make the rename itself durable (POSIX); not every platform lets a directory be opened.
    const dirFd = openSync(dirname(file), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    /* best effort */
  }
}
