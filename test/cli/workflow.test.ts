/**
 * The commands end to end, in-process, against an emulator over loopback: what a user sees and
 * what reaches the server, including the refusals that must write nothing.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { exampleRepository, TOKEN, type TestRepository } from '../helpers/repo.js';
import { runCli, type CliResult } from '../helpers/cli.js';

let repo: TestRepository;
const seen: string[] = [];

async function run(...argv: string[]): Promise<CliResult> {
  const result = await repo.run(...argv);
  seen.push(result.stdout, result.stderr);
  return result;
}

beforeEach(async () => {
  repo = await exampleRepository({ profile: 'generic' });
});
afterEach(async () => {
  await repo.close();
});

describe('plan → apply → plan on an empty target', () => {
  test('plan reads only, shows every create with its declaration, and exits 2 with --detailed-exitcode', async () => {
    const result = await run('plan', '--detailed-exitcode');
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/^Target local \(http:\/\/127\.0\.0\.1:\d+\/scim\/v2, profile generic\)$/m);
    expect(result.stdout).toMatch(/\+ user ada\.lovelace@acme\.example\s+identities\/engineering\.yaml:3/);
    expect(result.stdout).toMatch(/^Plan: 12 to create, 0 to update, 0 to deactivate, 0 to delete, 0 manual\.$/m);
    expect(repo.emulator.requests.map((request) => request.method)).toEqual(expect.arrayContaining(['GET']));
    expect(repo.writes()).toBe(0);
  });

  test('apply --auto-approve converges with one write per operation, and a second plan is empty', async () => {
    const applied = await run('apply', '--auto-approve');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('local: converged.');
    expect(repo.writes()).toBe(12);
    expect(repo.emulator.users()).toHaveLength(9);

    const again = await run('plan', '--detailed-exitcode');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes. local matches the files.');
    const drift = await run('drift');
    expect(drift.code).toBe(0);
    expect(drift.stderr).toContain('local: in sync');
    expect(repo.writes()).toBe(12);
  });

  test('apply plans, writes and reads back through one client: the service configuration is read once', async () => {
    const applied = await run('apply', '--auto-approve');
    expect(applied.code).toBe(0);
    expect(repo.emulator.requests.filter((request) => request.path === '/ServiceProviderConfig')).toHaveLength(1);
    // Reads, then the writes, then the read-back: nothing written before the plan was read in full.
    const methods = repo.emulator.requests.map((request) => request.method);
    expect(methods.indexOf('POST')).toBeGreaterThan(methods.indexOf('GET'));
    expect(methods.slice(methods.indexOf('POST')).filter((method) => method === 'GET').length).toBeGreaterThan(0);
  });

  test('apply without --auto-approve in a non-interactive run refuses and writes nothing', async () => {
    const result = await run('apply');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('refusing to apply without approval');
    expect(repo.writes()).toBe(0);
  });
});

describe('a target whose groups are read-only (profile lightstep)', () => {
  test('group changes are manual items: listed, never sent, not a failure of apply, still drift until made by hand', async () => {
    await repo.close();
    repo = await exampleRepository({ profile: 'lightstep' });
    await repo.edit('scimform.yaml', (text) => text.replace('profile: generic', 'profile: lightstep'));

    const planned = await run('plan', '--detailed-exitcode');
    expect(planned.code).toBe(2);
    expect(planned.stdout).toMatch(/^ {2}! group Engineering: create with /m);
    expect(planned.stdout).toContain("manual action needed: this target's groups are read-only");
    expect(planned.stdout).toMatch(/^Plan: 9 to create, 0 to update, 0 to deactivate, 0 to delete, 3 manual\.$/m);

    const applied = await run('apply', '--auto-approve');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('local: converged, apart from 3 manual items a person must make (listed above).');
    expect(repo.emulator.requests.filter((request) => request.method !== 'GET').every((request) => request.path.startsWith('/Users'))).toBe(true);
    expect(repo.writes()).toBe(9);

    const drift = await run('drift');
    expect(drift.code).toBe(2);
    expect(drift.stderr).toContain('local: drift: Plan: 0 to create, 0 to update, 0 to deactivate, 0 to delete, 3 manual.');
  });
});

describe('a userName freed by a rename in the same plan', () => {
  test('the create that waits for it is a follow-up: apply succeeds and says to apply again, which converges', async () => {
    expect((await run('apply', '--auto-approve')).code).toBe(0);
    // Grace Hopper moves to a short userName, and a new Grace Hopper joins with the old one.
    const file = 'identities/engineering.yaml';
    await repo.edit(file, (text) =>
      text
        .replace('  - userName: grace.hopper@acme.example\n    externalId: E-1002', '  - userName: grace@acme.example\n    externalId: E-1002')
        .replace('      - grace.hopper@acme.example\n', '      - grace@acme.example\n      - grace.hopper@acme.example\n')
        .replace('\ngroups:', '  - userName: grace.hopper@acme.example\n    externalId: E-1010\n    name: { givenName: Grace, familyName: Hopper }\n\ngroups:'),
    );
    const before = repo.writes();

    // Through a saved plan, as a reviewed pull request applies it: the follow-up is in the document.
    const planned = await run('plan', '--out', 'plan.json');
    expect(planned.stdout).toContain('! user grace.hopper@acme.example: create');
    expect(planned.stdout).toContain('which this plan renames to grace@acme.example: apply this plan, then plan again');
    expect(await readFile(path.join(repo.dir, 'plan.json'), 'utf8')).toContain('"followUp": {\n');
    const first = await run('apply', 'plan.json');
    expect(first.code).toBe(0);
    expect(repo.writes() - before).toBe(1);
    expect(first.stdout).toContain(
      [
        'local: converged as far as this plan goes.',
        'local: 2 changes wait for the next plan (not a failure); plan and apply again:',
        '  grace.hopper@acme.example: create',
        '  group Engineering: add grace.hopper@acme.example',
      ].join('\n'),
    );

    const second = await run('apply', '--auto-approve');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('local: converged.\n');
    expect(repo.writes() - before).toBe(3);
    const hired = repo.emulator.users().find((user) => user.externalId === 'E-1010');
    expect(hired?.userName).toBe('grace.hopper@acme.example');
    expect(repo.emulator.groups().find((group) => group.displayName === 'Engineering')?.members).toContainEqual(expect.objectContaining({ value: hired?.id }));
  });
});

describe('saved plans', () => {
  test('plan --out writes a plan that apply executes; it holds no token', async () => {
    const planned = await run('plan', '--out', 'plan.json');
    expect(planned.code).toBe(0);
    const saved = await readFile(path.join(repo.dir, 'plan.json'), 'utf8');
    expect(JSON.parse(saved)).toMatchObject({ formatVersion: 1, config: 'scimform.yaml' });
    seen.push(saved);

    const applied = await run('apply', 'plan.json');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('local: converged.');
    expect(repo.writes()).toBe(12);
  });

  test.each(['scimform.yaml', 'identities/engineering.yaml'])('plan --out %s, a file the plan is made from, is refused and the file kept', async (out) => {
    const before = await readFile(path.join(repo.dir, out), 'utf8');
    const result = await run('plan', '--out', out);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: --out ${out} is one of the files this plan was made from; the saved plan would replace it`);
    expect(await readFile(path.join(repo.dir, out), 'utf8')).toBe(before);
  });

  test('an identity file edited after plan makes the saved plan stale: nothing is written', async () => {
    await run('plan', '--out', 'plan.json');
    await repo.edit('identities/engineering.yaml', (text) => text.replace('familyName: Lovelace', 'familyName: King'));
    const result = await run('apply', 'plan.json');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('saved plan is stale: identities/engineering.yaml changed');
    expect(repo.writes()).toBe(0);
  });

  test('a user created by hand after plan --out makes the saved plan stale, and the error names what the plan lacks: nothing is written', async () => {
    await run('plan', '--out', 'plan.json');
    // Someone adds an account by hand: no resource the plan touches changes, but the policy
    // (unmanagedUsers: deactivate) now calls for one more write than the reviewed plan holds.
    const response = await fetch(`${repo.emulator.url}/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'by.hand@acme.example' }),
    });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    const mark = repo.writes();
    const result = await run('apply', 'plan.json');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error: saved plan is stale: local: the files and the live state now call for deactivate user by.hand@acme.example (id ${id}), which the plan does not hold, re-run plan`,
    );
    expect(result.stderr).not.toContain('was it edited?');
    expect(repo.writes()).toBe(mark);
  });

  test.each([
    ['a target listed twice', (targets: unknown[]) => [...targets, ...targets], 'the saved plan lists target local more than once, which plan never writes (was it edited?)'],
    ['no target at all', () => [], 'the saved plan holds no target, which plan never writes (was it edited?)'],
  ])('a saved plan edited to hold %s is refused before anything is written', async (_name, edit, message) => {
    await run('plan', '--out', 'plan.json');
    await repo.edit('plan.json', (text) => {
      const plan = JSON.parse(text) as { targets: unknown[] };
      return JSON.stringify({ ...plan, targets: edit(plan.targets) });
    });
    const result = await run('apply', 'plan.json');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    expect(repo.writes()).toBe(0);
  });

  test('a plan another version made: applied when it plans the same, else stale, saying which version made it', async () => {
    await run('plan', '--out', 'plan.json');
    const file = path.join(repo.dir, 'plan.json');
    const original = await readFile(file, 'utf8');
    type Saved = { scimformVersion: string; targets: { plan: { operations: { kind: string; changes?: { path: string }[] }[] } }[] };
    const older = JSON.parse(original) as Saved;
    older.scimformVersion = '0.0.9';
    // An older version that did not plan the created users' displayName.
    const create = older.targets[0]!.plan.operations.find((operation) => operation.kind === 'createUser')!;
    create.changes = create.changes!.filter((change) => change.path !== 'displayName');
    await writeFile(file, JSON.stringify(older, null, 2));
    const stale = await run('apply', 'plan.json');
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(
      /saved plan is stale: local: the plan's create user \S+ is not what the files and the live state call for now \(it was made by scimform 0\.0\.9, this is \d+\.\d+\.\d+\S*\)/,
    );
    expect(repo.writes()).toBe(0);

    await writeFile(file, original.replace(/"scimformVersion": "[^"]*"/, '"scimformVersion": "0.0.9"'));
    const applied = await run('apply', 'plan.json');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('local: converged.');
  });

  test('a live user changed after plan makes the saved plan stale: nothing more is written', async () => {
    await run('apply', '--auto-approve');
    await repo.edit('identities/engineering.yaml', (text) => text.replace('familyName: Lovelace', 'familyName: King'));
    await run('plan', '--out', 'plan.json');
    const ada = repo.emulator.users().find((user) => user.userName === 'ada.lovelace@acme.example')!;
    const response = await fetch(`${repo.emulator.url}/Users/${String(ada.id)}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 'Countess' }] }),
    });
    expect(response.status).toBe(200);
    const writesBefore = repo.writes();

    const result = await run('apply', 'plan.json');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('saved plan is stale');
    expect(result.stderr).toContain('ada.lovelace@acme.example');
    expect(repo.writes()).toBe(writesBefore);
  });
});

describe('an audit log that cannot be written', () => {
  test.skipIf(!existsSync('/dev/full'))('--audit-log on a full disk: the write made is reported as made, no further write starts, the error says why, exit 1', async () => {
    await repo.edit('scimform.yaml', (text) => text.replace('concurrency: 4', 'concurrency: 1'));
    const applied = await run('apply', '--auto-approve', '--audit-log', '/dev/full');
    expect(applied.code).toBe(1);
    // The server took the first create: it is reported as created, not as failed.
    expect(repo.writes()).toBe(1);
    expect(repo.emulator.users()).toHaveLength(1);
    expect(applied.stdout).toMatch(/^Apply local: 1 created, 0 updated, 0 deactivated, 0 deleted, 0 failed, 0 skipped, 11 not started \(1 write, /m);
    expect(applied.stdout).toContain('not started: the audit log could not be written, and apply starts no write it cannot record');
    expect(applied.stdout).toMatch(/^Stopped: cannot write the audit log \/dev\/full: ENOSPC \(no space left on device\), so no further write was started; the log has no line for user:\S+, whose outcomes this report gives\./m);
    expect(applied.stderr).toContain('error: cannot write the audit log /dev/full: ENOSPC (no space left on device)\n  Free space on its disk, or give --audit-log another file, and run apply again; it converges.');
    expect(applied.stdout + applied.stderr).not.toContain('failed  ');
    // The next apply, with a log that works, does the rest.
    expect((await run('apply', '--auto-approve', '--audit-log', 'audit.jsonl')).code).toBe(0);
    expect(repo.writes()).toBe(12);
  });
});

describe('guards and errors', () => {
  test('an empty desired state against a populated target is refused by plan and apply', async () => {
    await run('apply', '--auto-approve');
    const writes = repo.writes();
    await repo.edit('identities/engineering.yaml', () => 'users: []\n');
    await repo.edit('identities/operations.yaml', () => 'users: []\n');
    const planned = await run('plan');
    expect(planned.code).toBe(1);
    expect(planned.stdout).toContain('--allow-mass-removal');
    expect(planned.stderr).toContain('error: target local: a guard refuses this plan; apply would write nothing:\n  refusing to plan from an empty desired state');
    const applied = await run('apply', '--auto-approve');
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain('--allow-mass-removal');
    expect(repo.writes()).toBe(writes);
  });

  test.each([
    ['a token the server rejects', { SCIMFORM_TOKEN: 'wrong-token-0123456789' }, /SCIMFORM_TOKEN.*rejected|rejected.*SCIMFORM_TOKEN/s],
    ['no token at all', {}, /SCIMFORM_TOKEN/],
    ['a token too short to be a secret', { SCIMFORM_TOKEN: 'example' }, /^target local failed:\nerror: environment variable SCIMFORM_TOKEN holds a token shorter than 16 characters, too short to be a secret \(target local\)\n {2}Set SCIMFORM_TOKEN to the whole SCIM bearer token/],
  ])('%s: one clear error, exit 1, nothing written', async (_name, env, message) => {
    const failed = await runCli(['plan'], env, repo.dir);
    seen.push(failed.stdout, failed.stderr);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(message);
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    expect(repo.writes()).toBe(0);
  });

  test.each([['plan'], ['apply', '--auto-approve'], ['drift']])('%s with a pasted token an HTTP header cannot carry: one clear error naming the variable, never the token', async (...command) => {
    const token = '\u201cs3cr3tTOKEN\u20ac\u200b\u201d';
    const failed = await runCli(command, { SCIMFORM_TOKEN: token }, repo.dir);
    seen.push(failed.stdout, failed.stderr);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('error: environment variable SCIMFORM_TOKEN holds a token with characters that cannot be sent in an HTTP header (target local)');
    expect(failed.stderr).toContain('Paste the token into SCIMFORM_TOKEN again, as plain text.');
    expect(failed.stdout + failed.stderr).not.toMatch(/s3cr3t|internal error|bug/);
    expect(repo.emulator.requests).toEqual([]);
  });

  test.each([
    ['a target that is down', async () => repo.emulator.close()],
    ['a token the server rejects', async () => undefined],
  ])('a broken identity file is the one error, with its place, whatever the target does (%s); nothing is written', async (_name, breakTarget) => {
    await repo.edit('identities/engineering.yaml', (text) => text.replace('userName: ada.lovelace@acme.example', 'userName: [ada'));
    await breakTarget();
    for (const command of [['plan'], ['apply', '--auto-approve'], ['drift']]) {
      const result = await runCli(command, { SCIMFORM_TOKEN: 'wrong-token-0123456789' }, repo.dir);
      seen.push(result.stdout, result.stderr);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/identities\/engineering\.yaml:\d+:\d+/);
      expect(result.stderr).not.toMatch(/target local|rejected|refused|ECONNREFUSED|connect/i);
    }
    expect(repo.writes()).toBe(0);
  });

  test('notes explain what the plan leaves alone; --quiet leaves them out', async () => {
    const loud = await run('plan');
    expect(loud.stdout).toContain('Note: user breakglass@acme.example is protected: left alone (not created)');
    const quiet = await run('plan', '--quiet');
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).not.toContain('Note:');
    expect(quiet.stdout).toContain('Plan: 12 to create');
  });

  test('--format markdown prints the summary table and a details block per target', async () => {
    const result = await run('plan', '--format', 'markdown');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('### scimform plan');
    expect(result.stdout).toMatch(/\| local \|\s*12 \|\s*0 \|\s*0 \|\s*0 \|\s*0 \|/);
    expect(result.stdout).toContain('<details>');
  });

  test('--format markdown with files that do not validate says so on stdout, so a comment made from it is not empty', async () => {
    await repo.edit('identities/engineering.yaml', (text) => text.replace('name: { givenName: Ada, familyName: Lovelace }', 'name: { givenName: Ada, familyName: Lovelace }\n    nickname: Countess'));
    const result = await run('plan', '--format', 'markdown');
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n').slice(0, 5)).toEqual([
      '### scimform plan',
      '',
      '> [!CAUTION]',
      '> **No plan**: the files did not validate (1 problem). Fix them and run `scimform validate` again.',
      '>',
    ]);
    expect(result.stdout).toContain('> - `identities/engineering.yaml:7:5`: unknown key \\`nickname\\` in user');
    expect(result.stderr).toContain('nickname');
    expect(repo.writes()).toBe(0);
  });
});

test('the token never appears in anything the commands printed or wrote', () => {
  expect(seen.length).toBeGreaterThan(10);
  for (const text of seen) expect(text).not.toContain(TOKEN);
});
