import { safeText } from './render/format.js';

/** Where something was declared: a file (relative to the config file's folder, `/`-separated), 1-based line and column. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** `file:line:col`, the file name escaped: a name with a newline could otherwise start a line of its own (a workflow command in a CI log). */
export function formatLocation(location: SourceLocation): string {
  return `${safeText(location.file)}:${location.line}:${location.column}`;
}

/**
 * The one error type for failures a person must act on. The CLI prints `message` (prefixed by
 * the location when there is one) and `hint` on one line each, and never a stack trace unless
 * `--verbose`. Anything else that is thrown is a bug.
 */
export class ScimformError extends Error {
  readonly hint: string | undefined;
  readonly location: SourceLocation | undefined;

  constructor(message: string, options: { hint?: string; location?: SourceLocation; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ScimformError';
    this.hint = options.hint;
    this.location = options.location;
  }
}

/** One problem found by `validate` (schema or semantic), located in a file. */
export interface ValidationIssue extends SourceLocation {
  /** JSON-pointer-like path inside the document, e.g. `/users/3/emails/0/value`; `` for the whole file. */
  path: string;
  message: string;
}

/** Raised when loading finds one or more problems; `issues` holds all of them, sorted by file and line. */
export class ValidationError extends ScimformError {
  readonly issues: ValidationIssue[];

  constructor(issues: ValidationIssue[]) {
    const first = issues[0];
    super(
      issues.length === 1 && first
        ? first.message
        : `${issues.length} problems found in the configuration and identity files`,
      { hint: 'Fix the files and run `scimform validate` again.', ...(first ? { location: first } : {}) },
    );
    this.name = 'ValidationError';
    this.issues = issues;
  }
}
