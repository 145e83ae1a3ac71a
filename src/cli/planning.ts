/** What `plan`, `drift` and `apply` share: load the files, plan every selected target, report per target. */
import path from 'node:path';
import type { Config, DesiredState, TargetConfig } from '../model.js';
import type { SavedPlan, TargetPlan } from '../plan/types.js';
import type { ListProgress, ScimClient } from '../scim/types.js';
import type { CliContext } from './context.js';
import { ScimformError } from '../errors.js';
import { loadConfig, loadDesiredState, selectTargets } from '../config/index.js';
import { buildSavedPlan, computeDigest } from '../plan/saved.js';
import { planTarget } from '../reconcile.js';
import { VERSION } from '../version.js';
import { formatCount, plural, safeText } from '../render/format.js';
import { reportError } from './report.js';

export interface TargetFailure {
  target: string;
  error: unknown;
}

export interface PlanningResult {
  config: Config;
  desired: DesiredState;
  plans: TargetPlan[];
  failures: TargetFailure[];
}


/** A one-line, self-overwriting progress display on a terminal; nothing otherwise. */
export function progressLine(ctx: CliContext): { update(text: string): void; done(): void } {
  const live = ctx.stderr.isTTY === true && !ctx.quiet;
  let shown = false;
  return {
    update(text) {
      if (!live) return;
      ctx.stderr.write(`\r\x1b[2K${text}`);
      shown = true;
    },
    done() {
      if (shown) ctx.stderr.write('\r\x1b[2K');
      shown = false;
    },
  };
}

function loadConfigOf(ctx: CliContext): Promise<Config> {
  return loadConfig(path.resolve(ctx.cwd, ctx.config), { cwd: ctx.cwd });
}

export async function loadRepository(ctx: CliContext): Promise<{ config: Config; desired: DesiredState }> {
  const config = await loadConfigOf(ctx);
  const desired = await loadDesiredState(config);
  return { config, desired };
}

/**
 * Plans each selected target independently: one target's failure does not stop the others.
 * `keepClients` receives the read-only client of each target planned (see `planTarget`), for the
 * caller to close.
 */
export async function planAll(ctx: CliContext, options: { allowMassRemoval: boolean; keepClients?: Map<string, ScimClient> }): Promise<PlanningResult> {
  const config = await loadConfigOf(ctx);
  const targets = selectTargets(config, ctx.target);
  const progress = progressLine(ctx);
  const plans: TargetPlan[] = [];
  const failures: TargetFailure[] = [];
  const loading = loadDesiredState(config);
  const plan = (target: TargetConfig, desired: DesiredState | Promise<DesiredState>) =>
    planTarget(config, desired, target, {
      env: ctx.env,
      allowMassRemoval: options.allowMassRemoval,
      signal: ctx.signal,
      ...(options.keepClients ? { keepClient: (client: ScimClient) => options.keepClients!.set(target.name, client) } : {}),
      onProgress: (name: string, p: ListProgress) =>
        progress.update(
          `${name}: reading ${p.resource}… ${formatCount(p.items)}${p.total !== undefined ? ` of ${formatCount(p.total)}` : ''} in ${plural(p.pages, 'page')}`,
        ),
    });
  // The first target starts while the files load (it reads the service's configuration meanwhile);
  // a failure to load them is the command's error, not a target's.
  const first = targets[0] && !ctx.signal.aborted ? plan(targets[0], loading) : undefined;
  first?.catch(() => undefined);
  let desired: DesiredState;
  try {
    desired = await loading;
  } catch (error) {
    await first?.catch(() => undefined);
    throw error;
  }
  for (const [index, target] of targets.entries()) {
    if (ctx.signal.aborted) break;
    try {
      plans.push(await (index === 0 && first ? first : plan(target, desired)));
    } catch (error) {
      failures.push({ target: target.name, error });
    } finally {
      progress.done();
    }
  }
  return { config, desired, plans, failures };
}

export function savedPlanOf(ctx: CliContext, result: PlanningResult): SavedPlan {
  return buildSavedPlan({
    digest: computeDigest(result.desired.files),
    files: result.desired.files,
    failedTargets: result.failures.map(({ target, error }) => ({ name: target, message: failureMessage(error) })),
    config: path.relative(ctx.cwd, result.config.file).split(path.sep).join('/'),
    targets: result.plans,
    scimformVersion: VERSION,
    createdAt: new Date().toISOString(),
  });
}

/** A target's failure as one line for a document (a saved plan, a comment): the message for people, never a stack. */
export function failureMessage(error: unknown): string {
  return error instanceof ScimformError ? error.message : 'internal error (see the log)';
}

/** Prints each target's failure as an error for people, prefixed by the target's name. */
export function reportFailures(ctx: CliContext, failures: TargetFailure[]): void {
  for (const failure of failures) {
    ctx.warn(`target ${safeText(failure.target)} failed:`);
    reportError(failure.error, ctx, ctx.verbose);
  }
}
