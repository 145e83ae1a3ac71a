/**
 * The imperative shell of configuration loading: reads the config file and the identity files
 * its globs select, refuses what must not be read (oversized files, files outside the config
 * folder), and hands the content to the pure parts (parse, schema, semantic checks).
 */
import { createHash } from 'node:crypto';
import { readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, resolve, sep } from 'node:path';
import { ScimformError, type ValidationIssue } from '../errors.js';
import { fileKind, NotAFileError, readRegularFile } from '../files.js';
import type { Config, DesiredGroup, DesiredUser, IdentityFile, Policy } from '../model.js';
import { buildConfig, checkConfig, globProblem, type ConfigDocument } from './config.js';
import { expandGlobs, refusedLinkProblem } from './glob.js';
import { checkIdentities, readIdentities, type Declared, type IdentityDocument, type IdentityRules } from './identities.js';
import { locateIssue, show, type PendingIssue } from './issues.js';
import { schemaIssues } from './schema-errors.js';
import { loadSchemas } from './schemas.js';
import { parseYaml, type YamlFile } from './yaml.js';

/** Larger files are refused before they are read: no identity file needs to be this big, and a YAML parser should not be fed one. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;

const whole = (file: string, message: string): ValidationIssue => ({ file, line: 1, column: 1, path: '', message });

interface SourceFile {
  /** Relative to the config folder, `/`-separated. */
  path: string;
  sha256: string;
  text: string;
}

const notAFile = (kind: string): string =>
  `the file is ${kind}, not a regular file: scimform reads only regular files (a pipe or a device may never end); make it a regular file, or narrow the glob so that it is not matched`;

async function readSource(absolute: string, path: string): Promise<SourceFile | ValidationIssue> {
  const info = await stat(absolute);
  const kind = fileKind(info);
  if (kind !== undefined) return whole(path, notAFile(kind));
  if (info.size > MAX_FILE_BYTES) {
    return whole(path, `the file is ${(info.size / 1024 / 1024).toFixed(1)} MiB, over the 10 MiB limit for one file: split it into several identity files`);
  }
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(absolute);
  } catch (error) {
    if (error instanceof NotAFileError) return whole(path, notAFile(error.kind));
    throw error;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return invalidUtf8(path, bytes);
  }
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), text };
}

/** Whether `bytes` decode as UTF-8; with `more`, a character cut off at the end is taken as one that continues. */
function decodes(bytes: Uint8Array, more: boolean): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: more });
    return true;
  } catch {
    return false;
  }
}

/** Where the first byte sequence that is not UTF-8 starts, as a line and column an editor shows. */
function invalidUtf8(path: string, bytes: Uint8Array): ValidationIssue {
  // The decoder is the judge: the longest prefix it reads without complaint (a prefix of a valid
  // prefix is valid, so a binary search finds it), less the start of a character it still waits on.
  let good = 0;
  let bad = bytes.length + 1;
  while (bad - good > 1) {
    const middle = (good + bad) >>> 1;
    if (decodes(bytes.subarray(0, middle), true)) good = middle;
    else bad = middle;
  }
  let start = good;
  while (start > 0 && !decodes(bytes.subarray(0, start), false)) start--;
  // (A negative `fromIndex` would count from the end.)
  const lineStart = start === 0 ? 0 : bytes.lastIndexOf(0x0a, start - 1) + 1;
  let line = 1;
  for (let i = 0; i < lineStart; i++) if (bytes[i] === 0x0a) line++;
  const column = new TextDecoder('utf-8').decode(bytes.subarray(lineStart, start)).length + 1;
  const byte = bytes[start]!.toString(16).padStart(2, '0');
  return {
    file: path,
    line,
    column,
    path: '',
    message: `the file is not valid UTF-8 text: the character here (byte 0x${byte}) is not UTF-8; save the file with the UTF-8 encoding (files saved as Latin-1 or Windows-1252 have such bytes)`,
  };
}

export interface ConfigStage {
  /** Absolute folder of the config file. */
  dir: string;
  source?: SourceFile;
  file?: YamlFile;
  /** Present when the file passed the schema. */
  config?: Config;
  /** The raw document when it did not, so identity files can still be checked. */
  raw?: unknown;
  issues: ValidationIssue[];
}

/** Reads and checks the config file. Throws `ScimformError` only when there is no file to read. */
export async function readConfigStage(configPath: string, cwd: string): Promise<ConfigStage> {
  const absolute = resolve(cwd, configPath);
  const dir = dirname(absolute);
  const path = basename(absolute);
  try {
    const kind = fileKind(await stat(absolute));
    if (kind === 'a folder') {
      throw new ScimformError(`configuration file ${show(configPath)} is a folder`, { hint: 'Pass the YAML file itself with --config, e.g. --config scimform.yaml.' });
    }
    if (kind !== undefined) {
      // `--config <(…)` passes a pipe: it can be read once at most, and a pipe nobody writes to is never read to its end.
      throw new ScimformError(`configuration file ${show(configPath)} is ${kind}, not a regular file`, {
        hint: 'Save the configuration to a file and pass that file with --config (scimform reads it more than once, and does not read pipes or devices).',
      });
    }
  } catch (error) {
    if (error instanceof ScimformError) throw error;
    const code = (error as { code?: string }).code;
    throw new ScimformError(
      code === 'ENOENT' ? `configuration file ${show(configPath)} not found (looked in ${dir})` : `cannot read configuration file ${show(configPath)}: ${(error as Error).message}`,
      { hint: 'Run scimform in the folder that holds scimform.yaml, or pass --config FILE.', cause: error },
    );
  }
  const source = await readSource(absolute, path);
  if (!('text' in source)) return { dir, issues: [source] };
  const parsed = parseYaml(source.text, path, { kind: 'config' });
  if (!parsed.ok) return { dir, source, issues: parsed.issues };
  const { validateConfig, configSchema } = await loadSchemas();
  const valid = validateConfig(parsed.file.value);
  const pending = [
    ...(valid ? [] : schemaIssues(validateConfig.errors ?? [], parsed.file, configSchema, 'the configuration')),
    ...checkConfig(parsed.file.value, parsed.file),
  ];
  const issues = pending.map(locateIssue);
  if (!valid) return { dir, source, file: parsed.file, raw: parsed.file.value, issues };
  const config = buildConfig(parsed.file.value as ConfigDocument, parsed.file, { file: absolute, dir });
  return { dir, source, file: parsed.file, config, issues };
}

export interface IdentityStage {
  users: DesiredUser[];
  groups: DesiredGroup[];
  files: IdentityFile[];
  issues: ValidationIssue[];
}

/**
 * Reads every identity file the globs select, validates each against the schema, merges them
 * and runs the checks that span files. `configFile` locates problems with the globs.
 */
export async function readIdentityStage(
  dir: string,
  configFile: YamlFile,
  globs: readonly string[],
  policy: IdentityRules,
): Promise<IdentityStage> {
  const pending: PendingIssue[] = [];
  const issues: ValidationIssue[] = [];
  const selected = new Set<string>();
  await Promise.all(
    globs.map(async (pattern, index) => {
      if (globProblem(pattern) !== undefined) return; // reported with the configuration
      const expanded = await expandGlobs(pattern, dir);
      for (const link of expanded.refused) {
        pending.push({
          file: configFile,
          path: ['desired', index],
          message: `glob ${show(pattern)} reaches ${refusedLinkProblem(link)}: its files are not read; remove the link, or narrow the glob so that it does not reach it`,
        });
      }
      const matches = expanded.matches.filter((match) => match !== configFile.path);
      if (matches.length === 0 && expanded.refused.length === 0) {
        pending.push({ file: configFile, path: ['desired', index], message: `glob ${show(pattern)} matches no file (a typo?): identity files are looked up relative to the configuration file's folder` });
      }
      for (const match of matches) selected.add(match);
    }),
  );
  const paths = [...selected].sort();
  const realDir = await realpath(dir);
  const { validateIdentities, identitiesSchema } = await loadSchemas();

  const users: Declared<DesiredUser>[] = [];
  const groups: Declared<DesiredGroup>[] = [];
  const alsoDeclared = new Set<string>();
  const files: IdentityFile[] = [];
  const sources = await Promise.all(
    paths.map(async (path): Promise<SourceFile | ValidationIssue> => {
      const absolute = resolve(dir, path);
      try {
        // A symbolic link may point anywhere: only files that really are inside the folder are read.
        const real = await realpath(absolute);
        if (!real.startsWith(realDir + sep)) {
          const what = real === absolute ? `the file resolves to ${show(real)}` : `the file is a symbolic link to ${show(real)}`;
          return whole(path, `${what}, outside the configuration file's folder: identity files must be inside it`);
        }
        return await readSource(absolute, path);
      } catch (error) {
        const code = (error as { code?: string }).code;
        const target = code === 'ENOENT' || code === 'ELOOP' ? await readlink(absolute).catch(() => undefined) : undefined;
        if (target !== undefined) {
          return whole(path, `the file is a symbolic link to ${show(target)}, which ${code === 'ELOOP' ? 'leads round in a loop' : 'does not exist'}: point the link at the identity file, or remove it`);
        }
        return whole(path, `cannot read the file (${code ?? (error as Error).message})`);
      }
    }),
  );
  for (const source of sources) {
    if (!('text' in source)) {
      issues.push(source);
      continue;
    }
    files.push({ path: source.path, sha256: source.sha256 });
    const parsed = parseYaml(source.text, source.path);
    if (!parsed.ok) {
      issues.push(...parsed.issues);
      continue;
    }
    if (!validateIdentities(parsed.file.value)) {
      pending.push(...schemaIssues(validateIdentities.errors ?? [], parsed.file, identitiesSchema, 'the identity file'));
      // Its users still count as declared, so one bad file does not make every group that names them fail too.
      for (const userName of userNamesIn(parsed.file.value)) alsoDeclared.add(userName.toLowerCase());
      continue;
    }
    const declared = readIdentities(parsed.file.value as IdentityDocument, parsed.file);
    for (const user of declared.users) users.push(user);
    for (const group of declared.groups) groups.push(group);
  }
  pending.push(...checkIdentities(users, groups, policy, alsoDeclared));
  return {
    users: users.map((d) => d.value),
    groups: groups.map((d) => d.value),
    files,
    issues: [...issues, ...pending.map(locateIssue)],
  };
}

/** The userNames a document that failed the schema still declares. */
function userNamesIn(value: unknown): string[] {
  const users = (value as { users?: unknown } | null)?.users;
  if (!Array.isArray(users)) return [];
  return users.flatMap((user) => {
    const userName = (user as { userName?: unknown } | null)?.userName;
    return typeof userName === 'string' ? [userName] : [];
  });
}
