/** `--audit-log FILE`: one JSON line per write, appended (SPEC §5). */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ScimformError } from '../errors.js';
import { safeJson } from '../render/format.js';
import type { AuditEntry } from './types.js';

export interface AuditLog {
  /** Appends one line; throws when it cannot, and from then on writes nothing more (see `failure`). */
  write(entry: AuditEntry): void;
  /** Why a line could not be written, once one could not. */
  readonly failure: ScimformError | undefined;
  close(): Promise<void>;
}

/**
 * One line, keys in a fixed order so logs diff and grep well. Only the fields of `AuditEntry`: no body, no token.
 * A userName is escaped the JSON way where the plan shows it escaped, as in saved plans: the value reads back the same,
 * and a log read with `tail` or shipped to a CI log carries no bidi control or terminal escape.
 */
export function formatAuditLine(entry: AuditEntry): string {
  const { time, target, operation, kind, method, path, status, durationMs, outcome, userName } = entry;
  return `${safeJson(JSON.stringify({ time, target, operation, kind, method, path, status, durationMs, outcome, ...(userName === undefined ? {} : { userName }) }))}\n`;
}

/** `ENOSPC (no space left on device)`: the code and what it means, as Node words it. */
function describeSystemError(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (typeof code !== 'string') return String(error);
  // Node's message is `ENOSPC: no space left on device, write`.
  const meaning = /^[A-Z0-9_]+: (.*?)(?:, \w+)?$/.exec(message ?? '')?.[1];
  return meaning ? `${code} (${meaning})` : code;
}

/** Why `path` cannot be opened for appending, and what to give instead. */
function openFailure(path: string, error: unknown): ScimformError {
  const code = (error as NodeJS.ErrnoException).code;
  const [why, hint] =
    code === 'EISDIR'
      ? ['it is a folder', `Give --audit-log a file, for example ${join(path, 'scimform-audit.jsonl')} (it is created when missing, and appended to).`]
      : code === 'ENOENT'
        ? [`the folder ${dirname(path)} does not exist`, 'Create the folder first, or give --audit-log a file in a folder that exists.']
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? [`it is not writable (${describeSystemError(error)})`, 'Give --audit-log a file this user can append to.']
          : [describeSystemError(error), 'Give --audit-log a file in a folder that exists and is writable.'];
  return new ScimformError(`cannot open the audit log ${path}: ${why}`, { hint, cause: error });
}

/**
 * Whether the regular file `fd` is open on ends in the middle of a line: not empty, and its last
 * byte no line feed. The byte is read through a second, read-only descriptor: the log itself is
 * opened write-only, as a named pipe must be (a reader of our own would keep the pipe from
 * breaking when its real reader goes, and lines written then would be lost without an error).
 * A log this user may append to but not read goes unchecked.
 */
function endsMidLine(path: string, fd: number): boolean {
  const stats = fstatSync(fd);
  if (!stats.isFile() || stats.size === 0) return false;
  let reader: number | undefined;
  try {
    reader = openSync(path, 'r');
    const last = Buffer.alloc(1);
    return readSync(reader, last, 0, 1, stats.size - 1) === 1 && last[0] !== 0x0a;
  } catch {
    return false;
  } finally {
    if (reader !== undefined) closeSync(reader);
  }
}

/**
 * Opens `path` for appending (created with mode 0600 when new). Each entry is written at once with
 * a synchronous append, so an interrupted apply still leaves every write it made in the log. After
 * a failed write (a full disk) nothing more is appended: a line cut short, followed by others,
 * would make a log that reads as whole when it is not.
 */
export function openAuditLog(path: string): AuditLog {
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o600);
  } catch (error) {
    throw openFailure(path, error);
  }
  let cutShort = endsMidLine(path, fd);
  let open = true;
  let failure: ScimformError | undefined;
  return {
    write(entry) {
      if (failure) throw failure;
      if (!open) return;
      // A line an earlier apply left cut short (its disk was full) is ended, so this one starts a line of its own.
      const bytes = Buffer.from(`${cutShort ? '\n' : ''}${formatAuditLine(entry)}`);
      try {
        // A write may take part of the line (a disk filling up); the next one then says why it takes no more.
        for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
        cutShort = false;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const fix =
          code === 'ENOSPC' || code === 'EDQUOT'
            ? 'Free space on its disk, or give --audit-log another file,'
            : code === 'EPIPE'
              ? 'Keep the pipe\'s reader running until apply ends, or give --audit-log a file,'
              : 'Give --audit-log another file,';
        failure = new ScimformError(`cannot write the audit log ${path}: ${describeSystemError(error)}`, {
          hint: `${fix} and run apply again; it converges.`,
          cause: error,
        });
        throw failure;
      }
    },
    get failure() {
      return failure;
    },
    close() {
      if (open) {
        open = false;
        closeSync(fd);
      }
      return Promise.resolve();
    },
  };
}
