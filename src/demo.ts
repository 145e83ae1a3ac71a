/**
 * `npm run demo`: the whole job end to end on the built-in emulator. It copies
 * examples/basic to a temporary folder, starts an emulator whose live state differs from the
 * files (a user to create, one to update, one to deactivate, a group membership to fix), then
 * runs `plan`, `apply --auto-approve` and `plan` again to show that the target converged.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, loadDesiredState } from './config/index.js';
import { startEmulator } from './emulator/index.js';
import type { DesiredState } from './model.js';
import { main } from './cli/main.js';

const TOKEN_ENV = 'SCIMFORM_TOKEN';

/** A live state that differs from the desired one in each way a plan can show. */
export function demoLiveState(desired: DesiredState): { users: Record<string, unknown>[]; groups: Record<string, unknown>[] } {
  const [toCreate, toUpdate, ...rest] = desired.users;
  const users = [toUpdate, ...rest].flatMap((user, index) => {
    if (!user) return [];
    const familyName = index === 0 ? 'Previous-Name' : user.name?.familyName ?? undefined;
    return [
      {
        id: `u-${index + 1}`,
        userName: user.userName,
        ...(user.externalId ? { externalId: user.externalId } : {}),
        ...(user.displayName ? { displayName: user.displayName } : {}),
        name: { givenName: user.name?.givenName ?? undefined, familyName },
        emails: user.emails ?? [{ value: user.userName, type: 'work', primary: true }],
        active: user.active ?? true,
      },
    ];
  });
  users.push({
    id: 'u-departed',
    userName: `departed.contractor@${(toCreate?.userName ?? 'x@example.com').split('@')[1]}`,
    name: { givenName: 'Departed', familyName: 'Contractor' },
    emails: [{ value: `departed.contractor@${(toCreate?.userName ?? 'x@example.com').split('@')[1]}`, type: 'work', primary: true }],
    active: true,
  });
  const idOf = new Map(users.map((user) => [String(user.userName).toLowerCase(), String(user.id)]));
  // The first group lacks its last member live, so the plan adds one; the others already match.
  const groups = desired.groups.map((group, index) => ({
    id: `g-${index + 1}`,
    displayName: group.displayName,
    ...(group.externalId ? { externalId: group.externalId } : {}),
    members: (index === 0 ? group.members.slice(0, -1) : group.members).flatMap((member) => {
      const id = idOf.get(member.toLowerCase());
      return id ? [{ value: id }] : [];
    }),
  }));
  return { users, groups };
}

export async function runDemo(): Promise<number> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const work = await mkdtemp(path.join(tmpdir(), 'scimform-demo-'));
  await cp(path.join(root, 'examples', 'basic'), work, { recursive: true });
  const configFile = path.join(work, 'scimform.yaml');
  const desired = await loadDesiredState(await loadConfig(configFile));
  const token = `demo-${randomBytes(16).toString('hex')}`;
  const emulator = await startEmulator({ profile: 'generic', token, initial: demoLiveState(desired) });
  const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: { ...process.env, [TOKEN_ENV]: token }, cwd: work };
  try {
    // Point the copied example at this emulator (the URL is configuration, not a secret).
    const source = await readFile(configFile, 'utf8');
    await writeFile(configFile, source.replace(/^(\s*url:\s*).*$/m, `$1${emulator.url}`));
    const bold = process.stdout.isTTY === true && !process.env.NO_COLOR;
    const step = (title: string) => process.stdout.write(bold ? `\n\x1b[1m$ ${title}\x1b[0m\n\n` : `\n$ ${title}\n\n`);
    process.stdout.write(`SCIM emulator listening on ${emulator.url} (profile generic); repository copied to ${work}\n`);
    step('scimform plan');
    let code = await main(['plan'], io);
    if (code !== 0) return code;
    step('scimform apply --auto-approve');
    code = await main(['apply', '--auto-approve'], io);
    if (code !== 0) return code;
    step('scimform plan --detailed-exitcode   # converged: exits 0');
    code = await main(['plan', '--detailed-exitcode'], io);
    const writes = emulator.requests.filter((request) => request.method !== 'GET').length;
    process.stdout.write(`\nThe emulator received ${emulator.requests.length} requests, ${writes} of them writes.\n`);
    return code;
  } finally {
    await emulator.close();
    await rm(work, { recursive: true, force: true });
  }
}

runDemo().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
