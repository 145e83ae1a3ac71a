import path from 'node:path';
import type { CliContext } from './context.js';
import { loadConfig } from '../config/index.js';
import { ScimformError } from '../errors.js';
import { idMap, joinIds, oneTarget, readLiveState, renderIdsCsv, renderIdsJson, renderJoinedCsv, renderJoinedJson } from '../import/index.js';
import type { TargetConfig } from '../model.js';
import { plural } from '../render/format.js';

interface IdsOptions {
  format: 'csv' | 'json';
  join?: string;
}

/** `scimform ids --target NAME [--join OTHER]`: userName, externalId and live id; with a join, old id → new id. */
export async function run(ctx: CliContext, options: Record<string, unknown>): Promise<number> {
  const opts = options as unknown as IdsOptions;
  const config = await loadConfig(path.resolve(ctx.cwd, ctx.config), { cwd: ctx.cwd });
  const target = oneTarget(config, ctx.target, 'ids');
  const read = async (which: TargetConfig) => (await readLiveState(which, { env: ctx.env, includeGroups: false, signal: ctx.signal })).live.users;

  if (opts.join === undefined) {
    const entries = idMap(await read(target));
    ctx.stdout.write(opts.format === 'json' ? renderIdsJson(target.name, entries) : renderIdsCsv(entries));
    ctx.note(`${plural(entries.length, 'user')} in target ${target.name}.`);
    return 0;
  }

  const other = oneTarget(config, [opts.join], 'ids', '--join');
  if (other.name === target.name) {
    throw new ScimformError(`--join names the same target as --target (${target.name})`, {
      hint: `Join the target users moved to (--target) with the one they came from (--join), for example \`--target new --join old\`. Targets declared in the configuration: ${config.targets.map((t) => t.name).join(', ')}.`,
    });
  }
  const [oldUsers, newUsers] = await Promise.all([read(other), read(target)]);
  const rows = joinIds(oldUsers, newUsers);
  ctx.stdout.write(opts.format === 'json' ? renderJoinedJson(other.name, target.name, rows) : renderJoinedCsv(rows));
  const onlyOld = rows.filter((row) => row.newId === undefined).length;
  const onlyNew = rows.filter((row) => row.oldId === undefined).length;
  ctx.note(`${plural(rows.length - onlyOld - onlyNew, 'user')} in both ${other.name} and ${target.name}.`);
  if (onlyOld > 0) ctx.warn(`warning: ${onlyOld} user${onlyOld === 1 ? '' : 's'} of ${other.name} ${onlyOld === 1 ? 'has' : 'have'} no counterpart in ${target.name} (empty newId).`);
  if (onlyNew > 0) ctx.note(`${onlyNew} user${onlyNew === 1 ? '' : 's'} of ${target.name} ${onlyNew === 1 ? 'is' : 'are'} not in ${other.name} (empty oldId).`);
  return 0;
}
