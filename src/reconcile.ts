/**
 * The orchestrator: for each target, read the live state through a read-only client, compute
 * the plan and check the guards. The commands (`plan`, `drift`, `apply`) and the library API are
 * thin layers over these functions; the decisions themselves live in the pure `computePlan`
 * and `checkGuards`.
 */
import type { Config, DesiredState, DesiredUser, LiveState, TargetConfig } from './model.js';
import type { FetchStats, TargetPlan } from './plan/types.js';
import type { ListProgress, ScimClient, ScimReader } from './scim/types.js';
import { checkGuards, computePlan } from './plan/index.js';
import { createScimClient, resolveToken } from './scim/index.js';

export interface FetchedState {
  live: LiveState;
  fetch: FetchStats;
}

/**
 * Reads every user, and the groups when the plan can need them (groups declared, or a policy
 * on unmanaged groups), so a converged plan costs exactly the pages it must read.
 */
export async function fetchLiveState(
  reader: ScimReader,
  options: { includeGroups: boolean; onProgress?: (progress: ListProgress) => void; now?: () => number },
): Promise<FetchedState> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const before = reader.stats();
  const users = await reader.listUsers(options.onProgress);
  const groups = options.includeGroups ? await reader.listGroups(options.onProgress) : [];
  const after = reader.stats();
  const count = (stats: ReturnType<ScimReader['stats']>) => Object.values(stats.requests).reduce((a, b) => a + b, 0);
  return {
    live: { users, groups },
    fetch: {
      users: users.length,
      groups: groups.length,
      pages: after.pages - before.pages,
      requests: count(after) - count(before),
      durationMs: Math.round(now() - started),
    },
  };
}

export function needsGroups(desired: DesiredState, config: Config): boolean {
  return desired.groups.length > 0 || config.policy.unmanagedGroups !== 'ignore';
}

export interface PlanTargetOptions {
  env: NodeJS.ProcessEnv;
  allowMassRemoval: boolean;
  signal?: AbortSignal;
  onProgress?: (target: string, progress: ListProgress) => void;
  /** Tests pass an undici dispatcher; production uses the client's own pool. */
  dispatcher?: import('undici').Dispatcher;
  /**
   * Given, it receives the read-only client of a target planned without error, which stays open
   * for the caller to close (apply writes through it once approved); otherwise it is closed.
   */
  keepClient?: (client: ScimClient) => void;
  /** Given, it receives the live state the plan was computed from, so a caller need not read the target again. */
  keepLiveState?: (live: LiveState) => void;
}

/**
 * Plans one target with a client that cannot write (SPEC §4: `plan` refuses every non-GET at the
 * HTTP layer). `desired` may still be loading: the service's configuration is read meanwhile (one
 * round trip hidden behind the parsing of the files), the users only once it is loaded. When
 * loading fails, that is the error thrown, whatever the target answered.
 */
export async function planTarget(
  config: Config,
  desired: DesiredState | Promise<DesiredState>,
  target: TargetConfig,
  options: PlanTargetOptions,
): Promise<TargetPlan> {
  const loading = Promise.resolve(desired);
  const byUserName = new Map<string, DesiredUser>();
  let client: ScimClient;
  try {
    client = createScimClient(target, {
      token: resolveToken(target, options.env),
      readOnly: true,
      // Live users are mostly as declared: they keep the declared strings rather than copies.
      declared: (userName) => byUserName.get(userName),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
  } catch (error) {
    await loading;
    throw error;
  }
  let kept = false;
  try {
    const discovering = client.capabilities();
    // Settled below, after the desired state, whose failure is the one to report.
    discovering.catch(() => undefined);
    const state = await loading;
    // Filled from the last user to the first, so a userName declared twice is left with its first.
    for (let i = state.users.length - 1; i >= 0; i--) byUserName.set(state.users[i]!.userName, state.users[i]!);
    const capabilities = await discovering;
    const { live, fetch } = await fetchLiveState(client, {
      includeGroups: needsGroups(state, config),
      ...(options.onProgress ? { onProgress: (progress: ListProgress) => options.onProgress?.(target.name, progress) } : {}),
    });
    byUserName.clear();
    options.keepLiveState?.(live);
    const plan = computePlan(state, live, config.policy, capabilities);
    const violations = checkGuards(plan, config.policy, state, live, { allowMassRemoval: options.allowMassRemoval });
    if (options.keepClient) {
      options.keepClient(client);
      kept = true;
    }
    return { target: { name: target.name, url: target.url, profile: target.profile }, capabilities, fetch, plan, violations };
  } finally {
    if (!kept) await client.close();
  }
}

/** Whether a plan has anything to do or report (manual items count: SPEC §4). */
export function hasChanges(plan: TargetPlan): boolean {
  return plan.plan.operations.length > 0;
}
