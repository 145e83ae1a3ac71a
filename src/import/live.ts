/** Reading one target for `import` and `ids`: with a client that cannot write, as `plan` reads. */
import { ScimformError } from '../errors.js';
import type { Config, LiveGroup, TargetConfig } from '../model.js';
import { fetchLiveState, type FetchedState } from '../reconcile.js';
import { createScimClient, resolveToken, ScimHttpError } from '../scim/index.js';
import type { ListProgress, ScimReader } from '../scim/types.js';

/** The one target a command works on: exactly one `--target` must name it. */
export function oneTarget(config: Config, names: readonly string[], command: string, option = '--target'): TargetConfig {
  const known = config.targets.map((target) => target.name).join(', ');
  const unique = [...new Set(names)];
  if (unique.length !== 1) {
    throw new ScimformError(
      unique.length === 0 ? `\`scimform ${command}\` works on one target: name it with ${option}` : `\`scimform ${command}\` works on one target, but ${option} named ${unique.length}: ${unique.join(', ')}`,
      { hint: `Targets declared in the configuration: ${known}.` },
    );
  }
  const target = config.targets.find((candidate) => candidate.name === unique[0]);
  if (!target) throw new ScimformError(`unknown target \`${unique[0]}\``, { hint: `Targets declared in the configuration: ${known}.` });
  return target;
}

export interface ReadOptions {
  env: NodeJS.ProcessEnv;
  includeGroups: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: ListProgress) => void;
}

/** What was read; `groupsUnavailable` when the target has no `/Groups` endpoint at all. */
export interface ReadState extends FetchedState {
  groupsUnavailable: boolean;
}

/** Statuses that say "this server has no groups", not "reading failed": RFC 7644 makes /Groups optional. */
const NO_GROUPS = new Set([404, 405, 501]);

/** Reads the users, and the groups when asked; a server without `/Groups` gives users only. */
export async function readState(reader: ScimReader, options: Omit<ReadOptions, 'env' | 'signal'>): Promise<ReadState> {
  const fetched = await fetchLiveState(reader, { includeGroups: false, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  if (!options.includeGroups) return { ...fetched, groupsUnavailable: false };
  let groups: LiveGroup[];
  try {
    groups = await reader.listGroups(options.onProgress);
  } catch (error) {
    if (error instanceof ScimHttpError && NO_GROUPS.has(error.status)) return { ...fetched, groupsUnavailable: true };
    throw error;
  }
  return { live: { users: fetched.live.users, groups }, fetch: { ...fetched.fetch, groups: groups.length }, groupsUnavailable: false };
}

export async function readLiveState(target: TargetConfig, options: ReadOptions): Promise<ReadState> {
  const client = createScimClient(target, {
    token: resolveToken(target, options.env),
    readOnly: true,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    return await readState(client, { includeGroups: options.includeGroups, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  } finally {
    await client.close();
  }
}
