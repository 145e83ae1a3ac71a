/** What every command gets from the shell: streams, environment and the common options. */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface CommonOptions {
  config: string;
  target: string[];
  color: boolean;
  quiet: boolean;
  verbose: boolean;
}

export interface CliContext extends CliIO, CommonOptions {
  /** Print a line to stdout. */
  out(line: string): void;
  /** Print a line to stderr (progress, notes); suppressed by `--quiet`. */
  note(line: string): void;
  /** Print a line to stderr even under `--quiet` (warnings). */
  warn(line: string): void;
  /** An `AbortSignal` that fires on the first SIGINT/SIGTERM. */
  signal: AbortSignal;
  /**
   * For a command that can stop at once without losing track of what it did (apply's writes):
   * returns a signal that fires on the second SIGINT/SIGTERM. Unclaimed, a second signal exits.
   */
  claimStop(): AbortSignal;
}

/** Colour only on a TTY, never with NO_COLOR set or `--no-color` (https://no-color.org). */
export function useColor(io: CliIO, requested: boolean): boolean {
  if (!requested) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  return io.stdout.isTTY === true;
}

export function makeContext(io: CliIO, options: CommonOptions, signal: AbortSignal, claimStop: () => AbortSignal = () => new AbortController().signal): CliContext {
  return {
    ...io,
    ...options,
    color: useColor(io, options.color),
    signal,
    claimStop,
    out: (line) => void io.stdout.write(`${line}\n`),
    note: (line) => {
      if (!options.quiet) io.stderr.write(`${line}\n`);
    },
    warn: (line) => void io.stderr.write(`${line}\n`),
  };
}
