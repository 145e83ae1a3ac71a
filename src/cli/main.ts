/**
 * The `scimform` command line: registers every command and its options, builds the context,
 * and is the one place that turns errors into messages for people. Each command lives in its
 * own module, imported only when it runs, so `--help` and `validate` start fast.
 */
import { Command, Option } from 'commander';
import { ScimformError } from '../errors.js';
import { reportError } from './report.js';
import { VERSION } from '../version.js';
import { makeContext, type CliContext, type CliIO, type CommonOptions } from './context.js';


type Action = (ctx: CliContext, options: Record<string, unknown>, args: string[]) => Promise<number>;

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Which targets a command works on: every selected one, exactly one, or none (it reads no configuration). */
type TargetUse = 'many' | 'one' | 'none';

function addCommonOptions(command: Command, targets: TargetUse): Command {
  if (targets !== 'none') {
    command
      .option('-c, --config <file>', 'configuration file', 'scimform.yaml')
      .option('-t, --target <name>', targets === 'one' ? 'the target to read (required)' : 'only this target (repeatable; default: every target)', collect);
  }
  return command
    .option('--no-color', 'never colour the output (also: NO_COLOR set, or not a TTY)')
    .option('-q, --quiet', 'print only the result, no progress or notes')
    .option('-v, --verbose', 'more detail, and a stack trace for internal errors');
}

function formatOption(formats: string[], fallback: string): Option {
  return new Option('--format <format>', 'output format').choices(formats).default(fallback);
}

export function buildProgram(io: CliIO, signal: AbortSignal, setExitCode: (code: number) => void, claimStop?: () => AbortSignal): Command {
  const program = new Command('scimform')
    .description('Declarative GitOps reconciler for SCIM 2.0 users and groups.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
    })
    .exitOverride();

  const register = (command: Command, load: () => Promise<{ run: Action }>, targets: TargetUse = 'many') => {
    command.copyInheritedSettings(program);
    addCommonOptions(command, targets).action(async (...received: unknown[]) => {
      const cmd = received[received.length - 1] as Command;
      const raw = cmd.opts() as Record<string, unknown>;
      const options = {
        ...raw,
        config: (raw.config as string | undefined) ?? 'scimform.yaml',
        target: (raw.target as string[] | undefined) ?? [],
        quiet: raw.quiet === true,
        verbose: raw.verbose === true,
      } as Record<string, unknown> & CommonOptions;
      const args = cmd.args;
      const ctx = makeContext(io, options, signal, claimStop);
      try {
        const { run } = await load();
        setExitCode(await run(ctx, options, args));
      } catch (error) {
        reportError(error, io, options.verbose);
        setExitCode(1);
      }
    });
    program.addCommand(command);
  };

  register(
    new Command('validate')
      .description('check the configuration and identity files offline (syntax, schema, semantics); no network')
      .addOption(formatOption(['text', 'json'], 'text')),
    () => import('./validate.js'),
  );

  register(
    new Command('plan')
      .description('read the live state of each target and print what apply would change')
      .option('-o, --out <file>', 'also write the saved plan (JSON) to this file, for `apply <file>`')
      .addOption(formatOption(['text', 'markdown', 'json'], 'text'))
      .option('--detailed-exitcode', 'exit 2 when there are changes, 0 when there are none')
      .option('--allow-mass-removal', 'override the removal guards (maxRemovals, empty desired state, emptied groups)'),
    () => import('./plan.js'),
  );

  register(
    new Command('apply')
      .description('make each target match the files: apply a saved plan, or plan and then apply')
      .argument('[plan]', 'a saved plan written by `plan --out`')
      .option('--auto-approve', 'do not ask for confirmation (required when not on a TTY)')
      .option('--allow-mass-removal', 'override the removal guards (maxRemovals, empty desired state, emptied groups)')
      .option('--audit-log <file>', 'append one JSON line per write request to this file'),
    () => import('./apply.js'),
  );

  register(
    new Command('drift')
      .description('plan with detailed exit codes, for scheduled polling: 0 in sync, 2 drift, 1 error')
      .addOption(formatOption(['text', 'markdown', 'json'], 'text')),
    () => import('./drift.js'),
  );

  register(
    new Command('import')
      .description('write identity YAML from the live state of one target')
      .option('-o, --out <dir>', 'folder to write the identity files to', 'identities')
      .addOption(new Option('--split <how>', 'how to split users into files').choices(['none', 'group', 'domain']).default('none'))
      .option('--force', 'overwrite existing files'),
    () => import('./import.js'),
    'one',
  );

  register(
    new Command('ids')
      .description('print the userName/externalId → live id map of one target, for re-keying after a migration')
      .addOption(formatOption(['csv', 'json'], 'csv'))
      .option('--join <target>', 'also print the id of each user in this other target (old id → new id)'),
    () => import('./ids.js'),
    'one',
  );

  register(
    new Command('emulate')
      .description('run a local SCIM 2.0 server for demos, tests and benchmarks (prints its URL first)')
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--port <port>', 'port (0 picks a free one)', '0')
      .addOption(new Option('--profile <profile>', 'behave like this kind of target').choices(['lightstep', 'generic']).default('generic'))
      .addOption(new Option('--pagination <style>', 'pagination style').choices(['cursor', 'index']))
      .option('--max-page-size <n>', 'cap the `count` of list requests')
      .option('--data <file>', 'load users and groups from this JSON file and save changes to it')
      .option('--token <token>', 'bearer token to require (default: $SCIMFORM_EMULATOR_TOKEN, else none)')
      .option('--latency <ms>', 'time from each request to its answer, in milliseconds')
      .option('--rate-429 <rate>', 'fraction of requests answered 429 (0..1)')
      .option('--retry-after <seconds>', 'Retry-After sent with 429s (absent: none)')
      .option('--rate-5xx <rate>', 'fraction of requests answered 503 (0..1)')
      .option('--rate-reset <rate>', 'fraction of requests whose connection is reset (0..1)')
      .option('--rate-lost-response <rate>', 'fraction of writes applied but whose response is lost (0..1)')
      .option('--seed <n>', 'seed for the fault injection, for reproducible runs')
      .option('--drop-domain <domain...>', 'answer 201 to a user created with a userName in this domain, then not keep it, as Lightstep does with a domain the organisation does not allow')
      .option('--request-log <file>', 'append one JSON line per request to this file'),
    () => import('./emulate.js'),
    'none',
  );

  register(
    new Command('github')
      .description('workflow steps for GitHub Actions: preflight, comment (sticky plan comment), reviewed-plan, apply (reviewed plan or a fresh one)')
      .argument('<step>', 'preflight | comment | reviewed-plan | apply')
      .option('--plan <file>', 'comment: the saved plan (`plan --out`) to post, one comment per target')
      .option('--reviewed <file>', 'apply: the saved plan reviewed on the pull request, applied only if still valid')
      .option('--repo <owner/name>', 'repository (default: $GITHUB_REPOSITORY)')
      .option('--pr <number>', 'pull request (default: from $GITHUB_EVENT_PATH)')
      .option('--sha <sha>', 'reviewed-plan: the merged commit (default: $GITHUB_SHA)')
      .option('--api-url <url>', 'GitHub API (default: $GITHUB_API_URL, else https://api.github.com)')
      .option('--artifact-prefix <prefix>', 'reviewed-plan: saved-plan artifacts are named PREFIX + pull request number', 'scimform-plan-pr-')
      .option('--auto-approve', 'apply: do not ask for confirmation')
      .option('--allow-mass-removal', 'apply: override the removal guards')
      .option('--audit-log <file>', 'apply: append one JSON line per write request to this file'),
    () => import('./github.js'),
  );

  return program;
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const controller = new AbortController();
  // The second signal: apply's writes in flight are no longer waited for, and reported as unknown
  // (a CI runner cancelling a job sends SIGINT, then SIGTERM a few seconds later). A command that
  // did not claim it has nothing to lose by exiting at once; a third signal always does.
  const stopping = new AbortController();
  let claimed = false;
  const claimStop = (): AbortSignal => {
    claimed = true;
    return stopping.signal;
  };
  let exitCode = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      io.stderr.write(`\nReceived ${signal}: starting nothing new, finishing what is in flight (a second signal stops at once).\n`);
      controller.abort(new ScimformError(`interrupted by ${signal}`));
      return;
    }
    if (!claimed || stopping.signal.aborted) process.exit(130);
    io.stderr.write(`\nReceived ${signal} again: not waiting for the writes in flight; they are reported as unknown.\n`);
    stopping.abort(new ScimformError(`stopped by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const program = buildProgram(io, controller.signal, (code) => (exitCode = code), claimStop);
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    // commander's own exits (help, version, usage errors) arrive here through exitOverride.
    const code = (error as { exitCode?: number; code?: string }).exitCode;
    if (typeof code === 'number') return code === 0 ? 0 : 1;
    reportError(error, io, argv.includes('--verbose') || argv.includes('-v'));
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return exitCode;
}

