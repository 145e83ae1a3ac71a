/**
 * Repositories with several targets, each a fresh emulator, and seeded live data: what the
 * import, ids, drift, several-target and migration tests share.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';
import { runCli, type CliResult } from './cli.js';

export interface TargetSpec {
  emulator?: EmulatorOptions;
  profile?: 'lightstep' | 'generic';
}

export interface MultiTargetRepository {
  dir: string;
  env: NodeJS.ProcessEnv;
  emulators: Record<string, RunningEmulator>;
  /** Every token, to check none is ever printed. */
  tokens: string[];
  run(...argv: string[]): Promise<CliResult>;
  write(file: string, text: string): Promise<void>;
  read(file: string): Promise<string>;
  /** Every file under `folder`, relative, sorted. */
  list(folder: string): Promise<string[]>;
  writes(target: string): number;
  close(): Promise<void>;
}

const DEFAULT_POLICY = `policy:
  unmanagedUsers: deactivate
  unmanagedGroups: ignore
  maxRemovals: "25%"
`;

/**
 * A temporary repository whose config declares one target per entry, each pointed at its own
 * emulator requiring its own token (`<NAME>_TOKEN`). No identity files unless `files` gives some.
 */
export async function multiTargetRepository(
  targets: Record<string, TargetSpec>,
  options: { policy?: string; desired?: string[]; files?: Record<string, string> } = {},
): Promise<MultiTargetRepository> {
  const dir = await mkdtemp(path.join(tmpdir(), 'scimform-targets-'));
  const emulators: Record<string, RunningEmulator> = {};
  const env: NodeJS.ProcessEnv = {};
  const tokens: string[] = [];
  const declared: string[] = [];
  for (const [name, spec] of Object.entries(targets)) {
    const token = `tok-${name}-3c9e1f0a-do-not-print`;
    const variable = `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_TOKEN`;
    const profile = spec.profile ?? spec.emulator?.profile ?? 'generic';
    emulators[name] = await startEmulator({ profile, ...spec.emulator, token });
    env[variable] = token;
    tokens.push(token);
    declared.push(`  ${name}:\n    url: ${emulators[name].url}\n    tokenEnv: ${variable}\n    profile: ${profile}\n    timeoutSeconds: 5\n`);
  }
  const desired = (options.desired ?? ['identities/**/*.yaml']).map((glob) => `  - ${JSON.stringify(glob)}\n`).join('');
  const config = `# yaml-language-server: $schema=node_modules/scimform/schemas/config.schema.json\nversion: 1\ndesired:\n${desired}targets:\n${declared.join('')}${options.policy ?? DEFAULT_POLICY}`;
  await writeFile(path.join(dir, 'scimform.yaml'), config);
  const write = async (file: string, text: string) => {
    const full = path.join(dir, file);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, text);
  };
  for (const [file, text] of Object.entries(options.files ?? {})) await write(file, text);
  return {
    dir,
    env,
    emulators,
    tokens,
    run: (...argv) => runCli(argv, env, dir),
    write,
    read: (file) => readFile(path.join(dir, file), 'utf8'),
    list: async (folder) => {
      try {
        const entries = await readdir(path.join(dir, folder), { recursive: true, withFileTypes: true });
        return entries
          .filter((entry) => entry.isFile())
          .map((entry) => path.relative(path.join(dir, folder), path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
          .sort();
      } catch {
        return [];
      }
    },
    writes: (target) => emulators[target]!.requests.filter((request) => request.method !== 'GET').length,
    close: async () => {
      await Promise.all(Object.values(emulators).map((emulator) => emulator.close().catch(() => undefined)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Seed {
  users: Record<string, unknown>[];
  groups: Record<string, unknown>[];
}

const GIVEN = ['Ada', 'Grace', 'Alan', 'Barbara', 'Edsger', 'Frances', 'Ken', 'Radia', 'Joan', 'Tim'];
const FAMILY = ['Lovelace', 'Hopper', 'Turing', 'Liskov', 'Dijkstra', 'Allen', 'Thompson', 'Perlman', 'Clarke', "O'Brien"];

/**
 * `count` users in `domain` with ids `u0001`…, in a varied but deterministic mix: some with an
 * externalId, a displayName, a second email, deactivated; and groups over them.
 */
export function seedUsers(count: number, domain = 'acme.example', prefix = 'u'): Seed {
  const users = Array.from({ length: count }, (_, i) => {
    const given = GIVEN[i % GIVEN.length]!;
    const family = FAMILY[Math.floor(i / GIVEN.length) % FAMILY.length]!;
    const userName = `${given.toLowerCase()}.${family.toLowerCase().replace(/[^a-z]/g, '')}${i}@${domain}`;
    const user: Record<string, unknown> = {
      id: `${prefix}${String(i + 1).padStart(4, '0')}`,
      userName,
      name: { givenName: given, familyName: family },
      emails: [{ value: userName, type: 'work', primary: true }],
    };
    if (i % 3 !== 0) user.externalId = `E-${1000 + i}`;
    if (i % 4 === 0) user.displayName = `${given} ${family}`;
    if (i % 5 === 0) user.emails = [{ value: userName, type: 'work', primary: true }, { value: `alias${i}@${domain}`, type: 'other' }];
    if (i % 11 === 0) user.active = false;
    return user;
  });
  const ids = users.map((user) => String(user.id));
  const groups = [
    { id: `${prefix}g1`, displayName: 'Engineering', externalId: 'G-ENG', members: ids.filter((_, i) => i % 2 === 0).map((value) => ({ value })) },
    { id: `${prefix}g2`, displayName: 'On-call', members: ids.filter((_, i) => i % 7 === 0).map((value) => ({ value })) },
    { id: `${prefix}g3`, displayName: 'Empty', members: [] },
  ];
  return { users, groups };
}
