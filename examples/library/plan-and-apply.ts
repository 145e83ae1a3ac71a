/**
 * scimform as a library: plan every target of a repository, print the plans, and apply those
 * no guard refuses, as `scimform apply --auto-approve` does. Run it compiled (tsc), or on
 * Node 22.6+ with `node --experimental-strip-types plan-and-apply.ts path/to/scimform.yaml`.
 */
import { pathToFileURL } from 'node:url';
import { applyAndVerify, createScimClient, loadConfig, loadDesiredState, planTarget, renderApplyReport, renderText, resolveToken, ScimformError, type TargetPlan } from 'scimform';

/** Whether every target was applied and read back converged. */
export async function planAndApply(configFile: string, env: NodeJS.ProcessEnv = process.env, write: (text: string) => void = (text) => void process.stdout.write(text)): Promise<boolean> {
  const config = await loadConfig(configFile);
  const desired = await loadDesiredState(config);
  let converged = true;
  for (const target of config.targets) {
    // Reads the live state through a client that cannot write, computes the plan, checks the guards.
    // A target that cannot be read fails on its own; the others are still planned and applied.
    let plan: TargetPlan;
    try {
      plan = await planTarget(config, desired, target, { env, allowMassRemoval: false });
    } catch (error) {
      if (!(error instanceof ScimformError)) throw error;
      write(`target ${target.name} failed: ${error.message}${error.hint ? `\n${error.hint}` : ''}\n`);
      converged = false;
      continue;
    }
    write(renderText([plan], { color: false }));
    if (plan.violations.length > 0) {
      converged = false;
      continue;
    }
    const client = createScimClient(target, { token: resolveToken(target, env), readOnly: false });
    try {
      const { report, verification } = await applyAndVerify(plan, client, desired, config.policy, { concurrency: target.concurrency });
      write(renderApplyReport(report, { color: false }));
      converged &&= verification?.converged === true;
    } finally {
      await client.close();
    }
  }
  return converged;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const configFile = process.argv[2] ?? 'scimform.yaml';
  process.exitCode = (await planAndApply(configFile)) ? 0 : 1;
}
