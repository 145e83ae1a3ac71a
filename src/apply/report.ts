/** What apply prints: progress while it runs, a summary per target when it ends. Pure formatting. */
import { safeText } from '../render/format.js';
import type { ApplyCounts, ApplyProgress, ApplyReport, OperationOutcome, OutcomeStatus } from './types.js';

const ANSI = { red: '\u001b[31m', yellow: '\u001b[33m', green: '\u001b[32m', cyan: '\u001b[36m', bold: '\u001b[1m', reset: '\u001b[0m' };
type Paint = (colour: keyof typeof ANSI, text: string) => string;

function painter(color: boolean): Paint {
  return (colour, text) => (color ? `${ANSI[colour]}${text}${ANSI.reset}` : text);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** `3 created, 1 updated, 0 deactivated, 0 deleted, 1 failed, 0 skipped` and the rarer counts when not zero. */
export function formatCounts(counts: ApplyCounts): string {
  const parts = [
    `${counts.created} created`,
    `${counts.updated} updated`,
    `${counts.deactivated} deactivated`,
    `${counts.deleted} deleted`,
    `${counts.failed} failed`,
    `${counts.skipped} skipped`,
  ];
  if (counts.unknown > 0) parts.push(`${counts.unknown} unknown`);
  if (counts.stale > 0) parts.push(`${counts.stale} stale`);
  if (counts.manual > 0) parts.push(`${counts.manual} manual`);
  if (counts.notStarted > 0) parts.push(`${counts.notStarted} not started`);
  return parts.join(', ');
}

const LISTED: { status: OutcomeStatus; label: string; colour: keyof typeof ANSI }[] = [
  { status: 'failed', label: 'failed', colour: 'red' },
  { status: 'unknown', label: 'unknown', colour: 'yellow' },
  { status: 'stale', label: 'stale', colour: 'yellow' },
  { status: 'partial', label: 'partial', colour: 'yellow' },
  { status: 'skipped', label: 'skipped', colour: 'yellow' },
  { status: 'adopted', label: 'adopted', colour: 'cyan' },
  { status: 'manual', label: 'manual', colour: 'cyan' },
  { status: 'not-started', label: 'not started', colour: 'yellow' },
];

/** Keys and messages hold userNames, group names, ids and the server's words: escaped, so none can start a line of its own. */
function outcomeLine(outcome: OperationOutcome, label: string, colour: keyof typeof ANSI, paint: Paint): string {
  // A manual item's message already names what to do ("group Admins: add x: …"); its key would only repeat it.
  if (outcome.status === 'manual' && outcome.message) return `  ${paint(colour, label.padEnd(11))} ${safeText(outcome.message)}`;
  const message = outcome.message ? `: ${safeText(outcome.message)}` : '';
  return `  ${paint(colour, label.padEnd(11))} ${safeText(outcome.key)} (${outcome.kind})${message}`;
}

/**
 * The summary of one target: a counts line, then every operation that did not simply succeed
 * (failures with the server's detail, stale and skipped operations with the reason, adoptions,
 * manual items, what an interruption left undone). `verbose` lists the successes too.
 */
export function renderApplyReport(report: ApplyReport, options: { color: boolean; verbose?: boolean }): string {
  const paint = painter(options.color);
  const { counts } = report;
  const troubled = counts.failed + counts.unknown + counts.stale + counts.skipped + counts.notStarted > 0;
  const head = `Apply ${report.target}: ${formatCounts(counts)} (${report.writes} ${report.writes === 1 ? 'write' : 'writes'}, ${seconds(report.durationMs)}).`;
  const lines = [troubled ? paint('bold', head) : paint('green', head)];
  for (const { status, label, colour } of LISTED) {
    for (const outcome of report.outcomes) {
      if (outcome.status === status) lines.push(outcomeLine(outcome, label, colour, paint));
    }
  }
  if (options.verbose) {
    for (const outcome of report.outcomes) {
      if (outcome.status === 'done') lines.push(outcomeLine(outcome, 'done', 'green', paint));
    }
  }
  if (report.stopped) lines.push(paint('yellow', `Stopped: ${safeText(report.stopped)}.`));
  if (report.interrupted) {
    const finished = report.outcomes.filter((outcome) => outcome.status !== 'not-started' && outcome.status !== 'manual').length;
    lines.push(
      paint('yellow', `Interrupted: ${finished} of ${finished + counts.notStarted} operations ran, ${counts.notStarted} not started. Run apply again to finish; it converges.`),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `lightstep: 120/400 operations, 2 failed, 1 skipped, 4 in flight, 35.2/s`. */
export function formatProgress(target: string, progress: ApplyProgress, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (progress.done * 1000) / elapsedMs : 0;
  return `${target}: ${progress.done}/${progress.total} operations, ${progress.failed} failed, ${progress.skipped} skipped, ${progress.inFlight} in flight, ${rate.toFixed(1)}/s`;
}

export interface ProgressReporter {
  update(progress: ApplyProgress): void;
  /** Prints the last state (a plain line; on a terminal, ends the rewritten line). */
  finish(): void;
}

/**
 * Progress on a terminal: one line rewritten in place, at most every `redrawMs` (a terminal that
 * redraws for each of 10,000 operations slows apply down). Elsewhere (CI logs): a plain line every
 * `intervalMs`, so logs show that apply is alive without a line per operation. The line is
 * formatted only when it is printed.
 */
export function createProgressReporter(options: {
  stream: NodeJS.WritableStream;
  tty: boolean;
  target: string;
  intervalMs?: number;
  redrawMs?: number;
  now?: () => number;
}): ProgressReporter {
  const now = options.now ?? Date.now;
  const started = now();
  const every = options.tty ? (options.redrawMs ?? 100) : (options.intervalMs ?? 5000);
  let last: ApplyProgress | undefined;
  // A terminal shows the first update at once; a log's first line comes after one interval.
  let printedAt = options.tty ? -Infinity : started;
  let printedLast = true;
  const print = (progress: ApplyProgress, at: number) => {
    const line = formatProgress(options.target, progress, at - started);
    options.stream.write(options.tty ? `\r\u001b[2K${line}` : `${line}\n`);
    printedAt = at;
    printedLast = true;
  };
  return {
    update(progress) {
      last = progress;
      printedLast = false;
      const at = now();
      if (at - printedAt >= every) print(progress, at);
    },
    finish() {
      if (!last) return;
      if (options.tty) options.stream.write(`\r\u001b[2K${formatProgress(options.target, last, now() - started)}\n`);
      else if (!printedLast) print(last, now());
    },
  };
}
