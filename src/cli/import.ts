import path from 'node:path';
import type { CliContext } from './context.js';
import { loadConfig, validateRepository } from '../config/index.js';
import { formatLocation } from '../errors.js';
import { checkImportFiles, checkImportFolder, oneTarget, readLiveState, renderImportFiles, selectIdentities, writeImportFiles, type SplitMode } from '../import/index.js';
import { progressLine } from './planning.js';
import { safeText } from '../render/format.js';

interface ImportOptions {
  out: string;
  split: SplitMode;
  force?: boolean;
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

/** `scimform import --target NAME`: writes identity YAML from live state, so that a plan right after is empty. */
export async function run(ctx: CliContext, options: Record<string, unknown>): Promise<number> {
  const opts = options as unknown as ImportOptions;
  const config = await loadConfig(path.resolve(ctx.cwd, ctx.config), { cwd: ctx.cwd });
  const target = oneTarget(config, ctx.target, 'import');
  // Whatever can be refused without the live data is refused before the first request.
  const extension = await checkImportFolder(config, { out: opts.out, split: opts.split, force: opts.force === true });
  const progress = progressLine(ctx);
  let fetched;
  try {
    fetched = await readLiveState(target, {
      env: ctx.env,
      includeGroups: true,
      signal: ctx.signal,
      onProgress: (p) => progress.update(`${target.name}: reading ${p.resource}… ${p.items}${p.total === undefined ? '' : ` of ${p.total}`}`),
    });
  } finally {
    progress.done();
  }
  const { live } = fetched;
  ctx.note(`Read ${plural(live.users.length, 'user')} and ${plural(live.groups.length, 'group')} from target ${target.name} (${target.url}).`);
  if (fetched.groupsUnavailable) ctx.note(`note: target ${target.name} has no /Groups endpoint: only users are imported.`);

  // The files must pass validate for every target of the config, not only the one imported from.
  const selection = selectIdentities(live, config.policy, config.targets.find((candidate) => candidate.profile === 'lightstep')?.name);
  const outDir = path.resolve(config.dir, opts.out);
  const files = await renderImportFiles(config, selection, { outDir, split: opts.split, target: target.name, extension });
  await checkImportFiles(config, files, { force: opts.force === true, out: opts.out });
  await writeImportFiles(files);

  for (const file of files) ctx.out(file.path);
  ctx.note(`Wrote ${plural(selection.users.length, 'user')} and ${plural(selection.groups.length, 'group')} to ${plural(files.length, 'file')}.`);
  if (selection.outOfScope > 0) ctx.note(`Left out ${plural(selection.outOfScope, 'user')} outside the policy scope ${safeText(String(config.policy.scope))}: scimform never touches them.`);
  // Notes and warnings name live users and groups: escaped as the plan shows them, so a crafted name adds no line of its own.
  for (const note of selection.notes) ctx.note(`note: ${safeText(note)}`);
  for (const skip of selection.skipped) ctx.warn(`warning: ${skip.kind} ${safeText(skip.name)} (id ${safeText(skip.id)}) not imported: ${safeText(skip.reason)}`);
  const affecting = selection.skipped.filter((skip) => skip.affectsPlan).length;
  if (affecting > 0) {
    ctx.warn(
      `warning: plan will treat ${plural(affecting, 'user')} not imported as undeclared (policy unmanagedUsers: ${config.policy.unmanagedUsers}, and removal from imported groups): fix ${affecting === 1 ? 'it' : 'them'} live or adjust the policy before you apply.`,
    );
  }

  // The files must pass validate as they stand: check them the same way, now, rather than at the next plan.
  const report = await validateRepository(config.file, { cwd: ctx.cwd });
  if (report.issues.length > 0) {
    for (const issue of report.issues) ctx.warn(`${formatLocation(issue)}: ${issue.message}`);
    ctx.warn(`error: the repository does not pass validate after the import (${plural(report.issues.length, 'problem')}).`);
    return 1;
  }
  if (affecting > 0) {
    // SPEC §3: a plan right after import is empty. Here it is not, and applying it would act on those users.
    ctx.warn(
      `error: the import is incomplete: the files are written, but ${plural(affecting, 'live user')} could not be declared, so \`scimform plan --target ${target.name}\` will not be empty (see the warnings above). Review that plan before anything is applied.`,
    );
    return 1;
  }
  ctx.note(`Next: scimform plan --target ${target.name} (it should show no changes).`);
  return 0;
}
