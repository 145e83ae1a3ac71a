/** `--audit-log FILE`: one JSON line per write, appended (SPEC §5). */
import { closeSync, openSync, writeSync } from 'node:fs';
import { ScimformError } from '../errors.js';
import type { AuditEntry } from './types.js';

export interface AuditLog {
  write(entry: AuditEntry): void;
  close(): Promise<void>;
}

/** One line, keys in a fixed order so logs diff and grep well. Only the fields of `AuditEntry`: no body, no token. */
export function formatAuditLine(entry: AuditEntry): string {
  const { time, target, operation, kind, method, path, status, durationMs, outcome, userName } = entry;
  return `${JSON.stringify({ time, target, operation, kind, method, path, status, durationMs, outcome, ...(userName === undefined ? {} : { userName }) })}\n`;
}

/**
 * Opens `path` for appending (created with mode 0600 when new). Each entry is written at once with
 * a synchronous append, so an interrupted apply still leaves every write it made in the log.
 */
export function openAuditLog(path: string): AuditLog {
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o600);
  } catch (error) {
    throw new ScimformError(`cannot open the audit log ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      hint: 'Give --audit-log a path in a folder that exists and is writable.',
      cause: error,
    });
  }
  let open = true;
  return {
    write(entry) {
      if (open) writeSync(fd, formatAuditLine(entry));
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
