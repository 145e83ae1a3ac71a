/**
 * Reading a file the user named (the configuration, an identity file, a saved plan, an event
 * payload). Only regular files are read: reading a named pipe blocks until something writes to
 * it, which may be never (and no signal ends a read that waits in the thread pool), and a device
 * such as /dev/zero never ends.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, statSync, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';

/** A path that names something other than a regular file; `kind` says what, as a sentence needs it. */
export class NotAFileError extends Error {
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    super(`${path} is ${kind}, not a regular file`);
    this.name = 'NotAFileError';
  }
}

/** What `stats` describes, when it is no regular file. */
export function fileKind(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

// Opening a named pipe for reading waits for a writer unless it is opened non-blocking. (Windows has no such flag, nor such pipes.)
const READ_NOW = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * The bytes of `path`, a regular file. Throws `NotAFileError` before reading anything else (the
 * kind is checked on the opened file too, so a file swapped for a pipe in between is refused), and
 * Node's own errors (ENOENT, EACCES…) as they come.
 */
export async function readRegularFile(path: string): Promise<Buffer> {
  const kind = fileKind(await stat(path));
  if (kind !== undefined) throw new NotAFileError(path, kind);
  const handle = await open(path, READ_NOW);
  try {
    const opened = fileKind(await handle.stat());
    if (opened !== undefined) throw new NotAFileError(path, opened);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** `readRegularFile`, synchronously, for start-up code that cannot wait. */
export function readRegularFileSync(path: string): Buffer {
  const kind = fileKind(statSync(path));
  if (kind !== undefined) throw new NotAFileError(path, kind);
  const fd = openSync(path, READ_NOW);
  try {
    const opened = fileKind(fstatSync(fd));
    if (opened !== undefined) throw new NotAFileError(path, opened);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
