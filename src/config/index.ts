/**
 * Loading the configuration and the identity files. `validateRepository` collects every
 * problem in every file; `loadConfig` and `loadDesiredState` throw them all at once as a
 * `ValidationError`.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { ScimformError, ValidationError, type ValidationIssue } from '../errors.js';
import { NotAFileError, readRegularFile } from '../files.js';
import type { Config, DesiredState, Policy, TargetConfig } from '../model.js';
import { sortIssues } from './issues.js';
import { readConfigStage, readIdentityStage } from './load.js';
import type { IdentityRules } from './identities.js';
import { parseYaml } from './yaml.js';

export { inScope } from './scope.js';
export { MAX_FILE_BYTES } from './load.js';
export type { ValidationIssue } from '../errors.js';

export interface LoadOptions {
  /** Folder that a relative `configPath` is resolved against (default: the process's). */
  cwd?: string;
}

function identityRules(policy: Partial<Pick<Policy, 'scope' | 'allowedEmailDomains'>>, targets: readonly TargetConfig[]): IdentityRules {
  const strict = targets.find((target) => target.profile === 'lightstep');
  return strict ? { ...policy, emailsRequiredBy: strict.name } : policy;
}

/** Reads and checks the config file (schema and config-level semantics). */
export async function loadConfig(configPath: string, options: LoadOptions = {}): Promise<Config> {
  const stage = await readConfigStage(configPath, options.cwd ?? process.cwd());
  if (stage.issues.length > 0 || !stage.config) throw new ValidationError(sortIssues(stage.issues));
  return stage.config;
}

/** Reads, validates and merges the identity files of a loaded config. */
export async function loadDesiredState(config: Config): Promise<DesiredState> {
  // The config file is read again: its bytes belong to the saved plan's digest, and problems with its globs are located in it.
  const configPath = basename(config.file);
  const bytes = await readConfigAgain(config.file);
  // Decoded as the first reading decodes it: a leading byte-order mark is no part of the text.
  const parsed = parseYaml(new TextDecoder().decode(bytes), configPath, { kind: 'config' });
  if (!parsed.ok) throw new ValidationError(sortIssues(parsed.issues));
  const stage = await readIdentityStage(config.dir, parsed.file, config.desired, identityRules(config.policy, config.targets));
  if (stage.issues.length > 0) throw new ValidationError(sortIssues(stage.issues));
  const files = [{ path: configPath, sha256: createHash('sha256').update(bytes).digest('hex') }, ...stage.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { users: stage.users, groups: stage.groups, files };
}

async function readConfigAgain(file: string): Promise<Buffer> {
  try {
    return await readRegularFile(file);
  } catch (error) {
    if (!(error instanceof NotAFileError)) throw error;
    throw new ScimformError(`configuration file ${file} is ${error.kind}, not a regular file`, { hint: 'Pass the YAML file itself with --config.', cause: error });
  }
}

export interface RepositoryReport {
  config?: Config;
  desired?: DesiredState;
  /** Every problem in every file, sorted by file, line and column; empty when the repository is valid. */
  issues: ValidationIssue[];
}

/**
 * Checks everything `validate` checks and never throws for a bad file: each problem becomes
 * an issue. Throws `ScimformError` only when the config file itself cannot be found or read.
 */
export async function validateRepository(configPath: string, options: LoadOptions = {}): Promise<RepositoryReport> {
  const stage = await readConfigStage(configPath, options.cwd ?? process.cwd());
  const issues = [...stage.issues];
  const globs = stage.config?.desired ?? stringList(field(stage.raw, 'desired'));
  let desired: DesiredState | undefined;
  if (stage.file && stage.source && globs) {
    const identity = await readIdentityStage(stage.dir, stage.file, globs, identityRules(stage.config?.policy ?? partialPolicy(stage.raw, stage.issues), stage.config?.targets ?? []));
    issues.push(...identity.issues);
    const files = [{ path: stage.source.path, sha256: stage.source.sha256 }, ...identity.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    desired = { users: identity.users, groups: identity.groups, files };
  }
  const report: RepositoryReport = { issues: sortIssues(issues) };
  if (stage.config) report.config = stage.config;
  if (desired) report.desired = desired;
  return report;
}

/** The targets `--target` names, in the order given; every target when none is named. */
export function selectTargets(config: Config, names: readonly string[]): TargetConfig[] {
  if (names.length === 0) return config.targets;
  const known = config.targets.map((target) => target.name);
  return [...new Set(names)].map((name) => {
    const target = config.targets.find((t) => t.name === name);
    if (!target) {
      throw new ScimformError(`unknown target \`${name}\``, { hint: `Targets declared in the configuration: ${known.join(', ')}.` });
    }
    return target;
  });
}

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;
}

/**
 * The parts of an invalid policy that are still usable for checking identity files. A field the
 * configuration's own issues are about is not: a mistyped domain would refuse every userName in
 * it, burying the one mistake under an error per user.
 */
function partialPolicy(raw: unknown, issues: readonly ValidationIssue[]): Partial<Pick<Policy, 'scope' | 'allowedEmailDomains'>> {
  const policy = field(raw, 'policy');
  const result: Partial<Pick<Policy, 'scope' | 'allowedEmailDomains'>> = {};
  const usable = (key: string) => !issues.some((issue) => issue.path === `/policy/${key}` || issue.path.startsWith(`/policy/${key}/`));
  const scope = field(policy, 'scope');
  if (typeof scope === 'string' && usable('scope')) result.scope = scope;
  const domains = stringList(field(policy, 'allowedEmailDomains'));
  if (domains && usable('allowedEmailDomains')) result.allowedEmailDomains = domains;
  return result;
}
