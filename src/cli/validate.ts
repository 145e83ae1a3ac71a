/**
 * `scimform validate`: offline checks of the configuration and identity files (YAML syntax,
 * schema, semantics). Never touches the network. Exit 0 when clean, 1 with problems.
 */
import { relative, resolve, sep } from 'node:path';
import type { CliContext } from './context.js';
import { formatLocation, ScimformError, type ValidationIssue } from '../errors.js';
import { selectTargets, validateRepository } from '../config/index.js';
import { plural } from '../render/format.js';

export async function run(ctx: CliContext, options: Record<string, unknown>, _args: string[]): Promise<number> {
  let report: Awaited<ReturnType<typeof validateRepository>>;
  try {
    report = await validateRepository(ctx.config, { cwd: ctx.cwd });
  } catch (error) {
    // Editors and bots reading JSON get even a missing config file as data.
    if (options.format !== 'json' || !(error instanceof ScimformError)) throw error;
    const errors = [{ file: ctx.config, line: 1, column: 1, path: '', message: error.hint ? `${error.message}. ${error.hint}` : error.message }];
    ctx.out(JSON.stringify({ valid: false, errors, users: 0, groups: 0, files: 0, targets: 0 }, null, 2));
    return 1;
  }
  const { issues, config, desired } = report;
  // An unknown --target is worth reporting only once the files themselves are sound.
  const targets = config && issues.length === 0 ? selectTargets(config, ctx.target) : (config?.targets ?? []);
  const counts = {
    users: desired?.users.length ?? 0,
    groups: desired?.groups.length ?? 0,
    files: desired ? desired.files.length - 1 : 0, // the identity files, not the config file
    targets: targets.length,
  };

  // Paths relative to where the command runs, so a terminal or editor can open them and they
  // match the GitHub annotations; the same as the config-relative ones when run beside the config.
  const configDir = config?.dir ?? resolve(ctx.cwd, ctx.config, '..');
  const located = issues.map((issue) => ({ ...issue, file: relative(ctx.cwd, resolve(configDir, issue.file)).split(sep).join('/') }));

  if (ctx.env.GITHUB_ACTIONS === 'true') {
    // The runner reads workflow commands from both streams: with JSON on stdout they go to
    // stderr, so what a step captures from stdout stays one JSON document.
    const emit = options.format === 'json' ? ctx.warn : ctx.out;
    for (const issue of located) emit(annotation(issue, issue.file));
  }

  if (options.format === 'json') {
    const errors = located.map(({ file, line, column, path, message }) => ({ file, line, column, path, message }));
    ctx.out(JSON.stringify({ valid: issues.length === 0, errors, ...counts }, null, 2));
    return issues.length === 0 ? 0 : 1;
  }

  if (issues.length > 0) {
    for (const issue of located) ctx.warn(`${formatLocation(issue)}: ${issue.message}`);
    ctx.warn(`error: ${issues.length === 1 ? '1 problem found. Fix it' : `${issues.length} problems found. Fix them`} and run \`scimform validate\` again.`);
    return 1;
  }
  ctx.out(`OK: ${plural(counts.users, 'user')}, ${plural(counts.groups, 'group')} in ${plural(counts.files, 'file')}, ${plural(counts.targets, 'target')}`);
  return 0;
}

/** A GitHub Actions workflow command; data and properties escaped as the runner expects. */
function annotation(issue: ValidationIssue, file: string): string {
  const data = (s: string) => s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
  const property = (s: string) => data(s).replaceAll(':', '%3A').replaceAll(',', '%2C');
  return `::error file=${property(file)},line=${issue.line},col=${issue.column}::${data(issue.message)}`;
}
