/** Reading one target for `import` and `ids`: with a client that cannot write, as `plan` reads. */
import { ScimformError } from '../errors.js';
import type { Config, LiveState, TargetConfig } from '../model.js';
import { fetchLiveState, type FetchedState } from '../reconcile.js';
import { createScimClient, resolveToken } from '../scim/index.js';
import type { ListProgress } from '../scim/types.js';

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

export async function readLiveState(target: TargetConfig, options: ReadOptions): Promise<FetchedState & { live: LiveState }> {
  const client = createScimClient(target, {
    token: resolveToken(target, options.env),
    readOnly: true,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    return await fetchLiveState(client, { includeGroups: options.includeGroups, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  } finally {
    await client.close();
  }
}
