import { ScimformError, ValidationError, formatLocation } from '../errors.js';
import { safeText } from '../render/format.js';
import type { CliIO } from './context.js';

/**
 * Prints an error for people: one line, plus a hint line when there is one. Messages quote names,
 * ids, URLs and paths from the files, a saved plan or the server: they are escaped as the plan
 * escapes them, so none can add a line, a workflow command or a terminal escape.
 */
export function reportError(error: unknown, io: CliIO, verbose: boolean): void {
  const write = (line: string) => void io.stderr.write(`${line}\n`);
  if (error instanceof ValidationError) {
    for (const issue of error.issues) write(`${formatLocation(issue)}: ${safeText(issue.message)}`);
    write(`error: ${error.issues.length} problem${error.issues.length === 1 ? '' : 's'} found. ${safeText(error.hint ?? '')}`.trimEnd());
  } else if (error instanceof ScimformError) {
    const where = error.location ? `${formatLocation(error.location)}: ` : '';
    write(`error: ${where}${safeText(error.message)}`);
    if (error.hint) write(`  ${safeText(error.hint)}`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    write(`error: internal error: ${safeText(message)}`);
    if (!verbose) write('  This is a bug in scimform. Run again with --verbose for the stack trace, and report it.');
  }
  if (verbose && error instanceof Error && error.stack) write(error.stack);
}
