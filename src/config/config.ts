/**
 * From a schema-valid configuration document to `Config`: defaults, normalisation, and the
 * checks a schema cannot express (https, delete without allowDelete, scope consistency).
 * Pure: the caller has read the file.
 */
import { isAbsolute } from 'node:path';
import type { SourceLocation } from '../errors.js';
import type { Config, Policy, RemovalLimit, TargetConfig } from '../model.js';
import { show, type PendingIssue } from './issues.js';
import { scopeMatcher, scopeProblem } from './scope.js';
import type { YamlFile } from './yaml.js';

/** The configuration as the schema guarantees it. */
export interface ConfigDocument {
  version: 1;
  desired: string[];
  targets: Record<string, TargetDocument>;
  policy?: PolicyDocument;
}

type TargetDocument = Partial<Omit<TargetConfig, 'name' | 'source'>> & { url: string; tokenEnv: string };

interface PolicyDocument {
  unmanagedUsers?: Policy['unmanagedUsers'];
  unmanagedGroups?: Policy['unmanagedGroups'];
  allowDelete?: boolean;
  maxRemovals?: string | number;
  scope?: string;
  protectedUsers?: string[];
  allowedEmailDomains?: string[];
}

export const DEFAULTS = { profile: 'generic', concurrency: 4, timeoutSeconds: 30, maxRemovals: '25%' } as const;

/** Defaults and normalisation of a schema-valid document; the checks are `checkConfig`'s. */
export function buildConfig(document: ConfigDocument, file: YamlFile, paths: { file: string; dir: string }): Config {
  const targets = Object.entries(document.targets).map(([name, target]) => buildTarget(name, target, file));
  return { file: paths.file, dir: paths.dir, version: 1, desired: document.desired, targets, policy: buildPolicy(document.policy ?? {}, file) };
}

/**
 * `object[key]`: where a setting is in the file, found when something first reads it. A file the
 * fast reader took has no positions of its keys, and finding one costs the file's full parse (and
 * loading the \`yaml\` package), which a run that reports nothing about these settings never needs.
 * Once read or assigned, it is a plain property like the others.
 */
function locatedLater<K extends string>(object: { [key in K]?: SourceLocation }, key: K, locate: () => SourceLocation): void {
  const settle = (value: SourceLocation) => Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  Object.defineProperty(object, key, {
    enumerable: true,
    configurable: true,
    get: () => {
      const location = locate();
      settle(location);
      return location;
    },
    set: settle,
  });
}

function buildTarget(name: string, target: TargetDocument, file: YamlFile): TargetConfig {
  const result: Omit<TargetConfig, 'source'> & { source?: SourceLocation } = {
    name,
    url: target.url.replace(/\/+$/, ''),
    tokenEnv: target.tokenEnv,
    profile: target.profile ?? DEFAULTS.profile,
    concurrency: target.concurrency ?? DEFAULTS.concurrency,
    timeoutSeconds: target.timeoutSeconds ?? DEFAULTS.timeoutSeconds,
  };
  locatedLater(result, 'source', () => file.locate(['targets', name], 'key'));
  if (target.pageSize !== undefined) result.pageSize = target.pageSize;
  if (target.requestsPerSecond !== undefined) result.requestsPerSecond = target.requestsPerSecond;
  if (target.pagination !== undefined) result.pagination = target.pagination;
  if (target.memberRemoval !== undefined) result.memberRemoval = target.memberRemoval;
  if (target.updateMethod !== undefined) result.updateMethod = target.updateMethod;
  return result as TargetConfig;
}

function buildPolicy(document: PolicyDocument, file: YamlFile): Policy {
  const sources: Policy['sources'] = {};
  for (const key of ['unmanagedUsers', 'unmanagedGroups', 'allowDelete', 'maxRemovals', 'scope', 'protectedUsers'] as const) {
    if (document[key] !== undefined) locatedLater(sources, key, () => file.locate(['policy', key], 'key'));
  }
  const policy: Policy = {
    unmanagedUsers: document.unmanagedUsers ?? 'ignore',
    unmanagedGroups: document.unmanagedGroups ?? 'ignore',
    allowDelete: document.allowDelete ?? false,
    maxRemovals: parseRemovalLimit(document.maxRemovals ?? DEFAULTS.maxRemovals),
    protectedUsers: (document.protectedUsers ?? []).map((userName) => userName.toLowerCase()),
    sources,
  };
  if (document.scope !== undefined) policy.scope = document.scope;
  if (document.allowedEmailDomains !== undefined) policy.allowedEmailDomains = document.allowedEmailDomains.map((domain) => domain.toLowerCase());
  return policy;
}

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]', '::1']);

/** Whether a host name or address (IPv6 with or without brackets) is this machine's loopback. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  return LOOPBACK_HOSTS.has(name) || name.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(name);
}

/** https only: a bearer token must not cross the network in clear. http is fine for an emulator on loopback. */
export function checkUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '`url` is not a valid URL (expected something like https://api.example.com/scim/v2)';
  }
  if (parsed.username !== '' || parsed.password !== '') return '`url` must not contain credentials: the token comes from the environment variable named by `tokenEnv`';
  if (parsed.search !== '' || parsed.hash !== '') return '`url` must be the base URL of the SCIM API, without a query or fragment';
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:') {
    if (isLoopbackHost(parsed.hostname)) return undefined;
    return `\`url\` must use https: http is allowed only for loopback hosts (localhost, 127.0.0.1, [::1]), not ${show(parsed.hostname)}, because the bearer token would travel in clear`;
  }
  return `\`url\` must be an https URL, not ${show(parsed.protocol.replace(/:$/, ''))}`;
}

/**
 * The rules a schema cannot express. They run on the raw document, each on the parts that have
 * the right type, so a file with schema errors still gets every other problem reported.
 */
export function checkConfig(raw: unknown, file: YamlFile): PendingIssue[] {
  const issues: PendingIssue[] = [];
  const root = asRecord(raw);
  const desired = root?.desired;
  if (Array.isArray(desired)) {
    desired.forEach((glob, index) => {
      const message = typeof glob === 'string' ? globProblem(glob) : undefined;
      if (message) issues.push({ file, path: ['desired', index], message });
    });
  }
  for (const [name, target] of Object.entries(asRecord(root?.targets) ?? {})) {
    const url = asRecord(target)?.url;
    const problem = typeof url === 'string' ? checkUrl(url) : undefined;
    if (problem) issues.push({ file, path: ['targets', name, 'url'], message: problem });
    // SPEC §1: Lightstep documents PATCH on users and no PUT, so a PUT update could only be refused.
    if (asRecord(target)?.profile === 'lightstep' && asRecord(target)?.updateMethod === 'put') {
      issues.push({
        file,
        path: ['targets', name, 'updateMethod'],
        message: '`updateMethod: put` does not work with `profile: lightstep`: Lightstep updates users with PATCH and documents no PUT, so every update would be refused (remove `updateMethod`)',
      });
    }
    const tokenEnv = asRecord(target)?.tokenEnv;
    if (typeof tokenEnv === 'string' && looksLikeToken(tokenEnv)) {
      issues.push({
        file,
        path: ['targets', name, 'tokenEnv'],
        message: '`tokenEnv` looks like a token, not the name of an environment variable: put the token in an environment variable, write that variable\'s name here, and revoke the token if this file was shared',
      });
    }
  }
  const policy = asRecord(root?.policy);
  if (!policy) return issues;
  for (const key of ['unmanagedUsers', 'unmanagedGroups'] as const) {
    if (policy[key] === 'delete' && policy.allowDelete !== true) {
      issues.push({
        file,
        path: ['policy', key],
        message:
          key === 'unmanagedUsers'
            ? '`unmanagedUsers: delete` needs `allowDelete: true` in the policy: DELETE is never sent otherwise (use `deactivate` to keep accounts, or set allowDelete)'
            : '`unmanagedGroups: delete` needs `allowDelete: true` in the policy: DELETE is never sent otherwise (use `ignore` to leave unmanaged groups alone, or set allowDelete)',
      });
    }
  }
  const maxRemovals = policy.maxRemovals;
  if (typeof maxRemovals === 'string' && /^[0-9]+%$/.test(maxRemovals) && parseRemovalLimit(maxRemovals).value > 100) {
    issues.push({ file, path: ['policy', 'maxRemovals'], message: `\`maxRemovals\` is a percentage over 100% (${maxRemovals}): write at most "100%", or a count such as "20"` });
  }
  // protectedUsers are exact userNames (compared without case), not globs: a pattern would protect nobody.
  const listed = Array.isArray(policy.protectedUsers) ? (policy.protectedUsers as unknown[]) : [];
  listed.forEach((userName, index) => {
    if (typeof userName === 'string' && /[*?[\]{}]/.test(userName)) {
      issues.push({
        file,
        path: ['policy', 'protectedUsers', index],
        message: `protected user ${show(userName)} looks like a pattern, but protectedUsers takes exact userNames: list each account (a pattern would protect nobody)`,
      });
    }
  });
  const scope = policy.scope;
  if (typeof scope === 'string' && scope !== '') {
    let matches: ((userName: string) => boolean) | undefined;
    try {
      const problem = scopeProblem(scope);
      if (problem === undefined) matches = scopeMatcher(scope);
      else issues.push({ file, path: ['policy', 'scope'], message: `\`scope\` ${show(scope)} is refused: ${problem}` });
    } catch (error) {
      issues.push({ file, path: ['policy', 'scope'], message: `\`scope\` is not a valid glob: ${(error as Error).message}` });
    }
    // A protected user outside the scope is never touched anyway: the two settings disagree about who is managed.
    const protectedUsers = Array.isArray(policy.protectedUsers) ? (policy.protectedUsers as unknown[]) : [];
    protectedUsers.forEach((userName, index) => {
      if (matches && typeof userName === 'string' && !/[*?[\]{}]/.test(userName) && !matches(userName)) {
        issues.push({
          file,
          path: ['policy', 'protectedUsers', index],
          message: `protected user ${show(userName)} is outside \`scope\` ${show(scope)}: users outside the scope are never touched, so protecting it has no effect (remove it or widen the scope)`,
        });
      }
    });
  }
  return issues;
}

/**
 * Environment variable names are conventionally upper case; a long mix of lower case and digits
 * (ghp_…, a hex or base62 secret) is a token pasted into the wrong field. The value is never echoed.
 */
export function looksLikeToken(name: string): boolean {
  return name.length >= 20 && /[a-z]/.test(name) && /[0-9]/.test(name);
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function parseRemovalLimit(value: string | number): RemovalLimit {
  const text = String(value);
  return text.endsWith('%') ? { kind: 'percent', value: Number(text.slice(0, -1)), text } : { kind: 'count', value: Number(text), text };
}

/** Identity globs are relative to the config folder and must stay inside it (SPEC security). */
export function globProblem(glob: string): string | undefined {
  // A NUL or other control character is no part of a file name; Node's file APIs throw on NUL.
  if (/[\u0000-\u001f\u007f]/.test(glob)) return `glob ${show(glob)} contains a control character: write the path of identity files in plain text`;
  if (isAbsolute(glob) || /^[A-Za-z]:[\\/]/.test(glob) || glob.startsWith('\\')) {
    return `glob ${show(glob)} is an absolute path: write it relative to the configuration file's folder`;
  }
  // `..` as a path segment, also inside braces (`{../..,x}/*.yaml`).
  if (/(^|[\\/{,])\.\.($|[\\/},])/.test(glob)) return `glob ${show(glob)} leaves the configuration file's folder: identity files must be inside it`;
  // tinyglobby takes a glob whose first name starts with `..` (`...`, `..a`, `..*`) for one that goes up a folder, and fails on `....`.
  if (/^(\.\/+)*\.\./.test(glob)) return `glob ${show(glob)} starts with \`..\`, which is read as leaving the configuration file's folder: identity files must be inside it`;
  if (glob.startsWith('!')) return `glob ${show(glob)} is negated: list only the files to include`;
  return undefined;
}
