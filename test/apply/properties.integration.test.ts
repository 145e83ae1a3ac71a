/**
 * Plan and apply over random desired/live pairs, end to end: the live state is loaded into the
 * emulator, planned through the real client (`planTarget`), applied, read back. For both profiles
 * and both pagination styles, with pages of two so that paging is exercised:
 * every write succeeds, the read-back converges, a second plan is empty, and the request log holds
 * no write to a user the policy puts out of reach, and no DELETE unless deletes are allowed.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { applyAndVerify } from '../../src/apply/index.js';
import { startEmulator, type LoggedRequest } from '../../src/emulator/index.js';
import type { Config, DesiredGroup, DesiredState, DesiredUser, Email, PaginationStyle, Policy, ProfileName, TargetConfig } from '../../src/model.js';
import { planTarget } from '../../src/reconcile.js';
import type { ScimClient } from '../../src/scim/types.js';
import { at } from '../plan/builders.js';
import { desiredGroupsOf, desiredUsersOf, managed, policyChoices, unique } from '../plan/arbitraries.js';

const TOKEN = 'property-token-5d21c8e0';
const SCOPE = '*@example.com';
const PROTECTED = 'gus@example.com';
/** Local parts with case, accents and scripts that lower-case differently from ASCII. */
const PEOPLE = ['ann', 'Bob', 'zoë', 'ÅSA', 'łukasz', 'dee', 'gus'];
const DOMAINS = ['example.com', 'Example.COM', 'other.org'];
const WORDS = ['Ann', 'Bo', 'Zoë', 'Åsa', 'Łukasz', 'ann'];

const userName = fc
  .tuple(fc.constantFrom(...PEOPLE), fc.constantFrom(...DOMAINS), fc.constantFrom('as-is', 'upper', 'lower'))
  .map(([person, domain, mode]) => {
    const name = `${person}@${domain}`;
    return mode === 'upper' ? name.toUpperCase() : mode === 'lower' ? name.toLowerCase() : name;
  });
const email: fc.Arbitrary<Email> = fc.record(
  {
    value: fc.constantFrom('ann@example.com', 'Ann@Example.com', 'zoë@example.com', 'b@other.org', 'ÅSA@example.com'),
    type: fc.constantFrom('work', 'home', 'other'),
    primary: fc.boolean(),
  },
  { requiredKeys: ['value'] },
);
/** At most one primary email, as RFC 7643 §2.4 allows. */
const emails = fc.array(email, { maxLength: 3 }).map((list) => {
  let seen = false;
  return list.map((item) => {
    if (item.primary !== true) return item;
    if (seen) return { ...item, primary: false };
    seen = true;
    return item;
  });
});

/** Lightstep needs emails on every user: validate refuses `emails: []` or `null` for its targets, so only absent (the userName) or a list is drawn. */
const desiredUsers = (profile: ProfileName): fc.Arbitrary<DesiredUser[]> =>
  desiredUsersOf({
    userName,
    word: fc.constantFrom(...WORDS),
    emails: profile === 'lightstep' ? fc.option(emails.filter((list) => list.length > 0), { nil: undefined }) : managed(emails),
  });

/** Live users as SCIM resources: some share an externalId with a declaration under another userName (a rename), some are inactive. */
const liveUsers: fc.Arbitrary<Record<string, unknown>[]> = fc
  .array(
    fc.record(
      {
        userName,
        externalId: fc.constantFrom('E1', 'E2', 'E3', 'E4', 'E5'),
        displayName: fc.constantFrom(...WORDS),
        name: fc.record({ givenName: fc.constantFrom(...WORDS), familyName: fc.constantFrom(...WORDS) }, { requiredKeys: [] }),
        emails,
        active: fc.boolean(),
      },
      { requiredKeys: ['userName', 'active'] },
    ),
    { maxLength: 7 },
  )
  .map((users) =>
    unique(unique(users, (user) => user.userName.toLowerCase()), (user) => user.externalId).map((user, index) => ({ id: `u${index}`, ...user })),
  );

/** Groups only where the profile writes them: lightstep's are read-only. */
function desiredGroups(users: DesiredUser[], groupsWritable: boolean): fc.Arbitrary<DesiredGroup[]> {
  return groupsWritable ? desiredGroupsOf(users, ['Admins', 'Ops', 'Dév']) : fc.constant([]);
}

/** Live groups over the live users, members overlapping between groups. */
function liveGroups(users: Record<string, unknown>[]): fc.Arbitrary<Record<string, unknown>[]> {
  const ids = users.map((user) => String(user.id));
  return fc
    .array(
      fc.record({
        displayName: fc.constantFrom('Admins', 'Ops', 'Old'),
        externalId: fc.option(fc.constantFrom('G1', 'G2', 'G3'), { nil: undefined }),
        members: ids.length > 0 ? fc.uniqueArray(fc.constantFrom(...ids), { maxLength: ids.length }) : fc.constant([] as string[]),
      }),
      { maxLength: 3 },
    )
    .map((groups) =>
      unique(unique(groups, (group) => group.displayName), (group) => group.externalId).map((group, index) => ({
        id: `g${index}`,
        displayName: group.displayName,
        ...(group.externalId ? { externalId: group.externalId } : {}),
        members: group.members.map((value) => ({ value })),
      })),
    );
}

const policies: fc.Arbitrary<Policy> = policyChoices
  // A delete policy without allowDelete is refused before planning (a guard), so it is not drawn.
  .map(({ scoped, protect, ...rules }) => ({
    ...rules,
    allowDelete: rules.allowDelete || rules.unmanagedUsers === 'delete' || rules.unmanagedGroups === 'delete',
    maxRemovals: { kind: 'percent' as const, value: 100, text: '100%' },
    ...(scoped ? { scope: SCOPE } : {}),
    protectedUsers: protect ? [PROTECTED] : [],
    sources: {},
  }));

interface Scenario {
  desired: DesiredState;
  live: { users: Record<string, unknown>[]; groups: Record<string, unknown>[] };
  policy: Policy;
}

function scenario(profile: ProfileName): fc.Arbitrary<Scenario> {
  return fc.tuple(desiredUsers(profile), liveUsers).chain(([users, live]) =>
    fc.record({
      desired: desiredGroups(users, profile === 'generic').map((groups): DesiredState => ({ users, groups, files: [] })),
      // Lightstep keeps no user without an email address: its users have at least one.
      live: liveGroups(live).map((groups) => ({ users: profile === 'lightstep' ? live.map(withEmail) : live, groups })),
      policy: policies,
    }),
  );
}

function withEmail(user: Record<string, unknown>): Record<string, unknown> {
  return Array.isArray(user.emails) && user.emails.length > 0 ? user : { ...user, emails: [{ value: user.userName, type: 'work', primary: true }] };
}

/** Out of the policy's reach: outside the scope, or protected. Independent of the planner's own test. */
function untouchable(rules: Policy, name: string): boolean {
  const lower = name.toLowerCase();
  return (rules.scope !== undefined && !lower.endsWith('@example.com')) || rules.protectedUsers.includes(lower);
}

const nonManual = (operations: readonly { kind: string; key: string }[]) => operations.filter((op) => op.kind !== 'manual').map((op) => op.key);

async function planAndApplyOnce(profile: ProfileName, pagination: PaginationStyle, { desired, live, policy }: Scenario): Promise<void> {
  const emu = await startEmulator({ profile, pagination, token: TOKEN, maxPageSize: 2, initial: { users: structuredClone(live.users), groups: structuredClone(live.groups) } });
  const clients: ScimClient[] = [];
  try {
    const target: TargetConfig = { name: 'emu', url: emu.url, tokenEnv: 'EMU_TOKEN', profile, pagination, pageSize: 2, concurrency: 3, timeoutSeconds: 5, source: at(4, 'scimform.yaml') };
    const config: Config = { file: '/repo/scimform.yaml', dir: '/repo', version: 1, desired: ['identities/**/*.yaml'], targets: [target], policy };
    const plan = (keep: boolean) =>
      planTarget(config, desired, target, { env: { EMU_TOKEN: TOKEN }, allowMassRemoval: true, ...(keep ? { keepClient: (client: ScimClient) => clients.push(client) } : {}) });

    const first = await plan(true);
    expect(first.violations).toEqual([]);
    const client = clients[0]!;
    client.allowWrites();
    let applied = first;
    // A create or rename that waits on another user's rename, or on the delete of a group holding
    // its name, is a manual item with a follow-up (SPEC §4): the next run makes it, a chain of
    // them one run per link.
    for (let round = 0; ; round++) {
      const { report, verification } = await applyAndVerify(applied, client, desired, policy, { concurrency: 3 });
      // 1. Every write succeeded, and the read-back says the target is as declared.
      expect(emu.requests.filter((request) => request.method !== 'GET' && request.status >= 400).map(describeRequest)).toEqual([]);
      expect(report.counts).toMatchObject({ failed: 0, unknown: 0, skipped: 0, stale: 0, notStarted: 0 });
      expect(verification?.residue.map((op) => `${op.kind} ${op.key} ${JSON.stringify(op.requests.map((request) => request.body))}`)).toEqual([]);
      expect(verification?.converged).toBe(true);
      const next = await plan(false);
      const followUps = applied.plan.operations.some((op) => op.kind === 'manual' && op.followUp !== undefined);
      if (!followUps || nonManual(next.plan.operations).length === 0 || round >= desired.users.length + desired.groups.length) {
        // 2. A second plan has nothing left to send.
        expect(nonManual(next.plan.operations)).toEqual([]);
        if (first.plan.summary.manual === 0) expect(next.plan.operations).toEqual([]);
        break;
      }
      applied = await plan(false);
    }
    const writes = emu.requests.filter((request) => request.method !== 'GET');

    // 3. Nothing out of reach was written, and no DELETE without allowDelete.
    if (!policy.allowDelete) expect(writes.filter((request) => request.method === 'DELETE').map(describeRequest)).toEqual([]);
    const unreachable = new Set(live.users.filter((user) => untouchable(policy, String(user.userName))).map((user) => String(user.id)));
    expect(writes.filter((request) => unreachable.has(request.path.split('/')[2] ?? '')).map(describeRequest)).toEqual([]);
    for (const request of writes) {
      expect(mentioned(request.body).filter((value) => unreachable.has(value)), describeRequest(request)).toEqual([]);
      if (request.method === 'POST' && request.path === '/Users') expect(untouchable(policy, String((request.body as { userName: string }).userName))).toBe(false);
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await emu.close();
  }
}

/** Every member `value` a write body names: in `members`, or in a PatchOp's value or path filter. */
function mentioned(body: unknown): string[] {
  const found: string[] = [];
  const visit = (node: unknown, key?: string): void => {
    if (Array.isArray(node)) node.forEach((item) => visit(item, key));
    else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) visit(v, k);
    else if (typeof node === 'string' && key === 'value') found.push(node);
    else if (typeof node === 'string' && key === 'path') for (const match of node.matchAll(/value eq "([^"]*)"/g)) found.push(match[1]!);
  };
  visit(body);
  return found;
}

function describeRequest(request: LoggedRequest): string {
  return `${request.method} ${request.path} → ${request.status} ${JSON.stringify(request.body)}`;
}

const PROFILES: [ProfileName, PaginationStyle][] = [
  ['generic', 'index'],
  ['generic', 'cursor'],
  ['lightstep', 'cursor'],
  ['lightstep', 'index'],
];

/**
 * A fixed seed by default, so that a run of the suite is the run that was reviewed; set
 * SCIMFORM_PROPERTY_SEED to another number (or to `random`) to explore further states.
 */
const SEED = process.env.SCIMFORM_PROPERTY_SEED === 'random' ? undefined : Number(process.env.SCIMFORM_PROPERTY_SEED ?? 20261129);

describe('plan and apply against the emulator, over random states', () => {
  test.each(PROFILES)('%s profile, %s pagination: every write succeeds, the result converges, a second plan is empty, nothing out of reach is written', async (profile, pagination) => {
    await fc.assert(
      fc.asyncProperty(scenario(profile), (drawn) => planAndApplyOnce(profile, pagination, drawn)),
      { numRuns: 60, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
  });
});

const none: Policy = { unmanagedUsers: 'ignore', unmanagedGroups: 'ignore', allowDelete: false, maxRemovals: { kind: 'percent', value: 100, text: '100%' }, protectedUsers: [], sources: {} };
const groupAt = (displayName: string, members: string[], fields: Partial<DesiredGroup> = {}): DesiredGroup => ({
  displayName,
  members,
  memberSources: members.map((_, i) => at(21 + i, 'identities/groups.yaml')),
  source: at(20, 'identities/groups.yaml'),
  ...fields,
});

/** Counterexamples the properties above found, kept as they shrank. */
describe('plan and apply against the emulator: counterexamples', () => {
  test('an unmanaged group is deleted together with its only member: the user\'s DELETE does not move the version the group\'s DELETE carries (no 412)', async () => {
    await planAndApplyOnce('generic', 'index', {
      desired: { users: [], groups: [], files: [] },
      live: { users: [{ id: 'u0', userName: 'ann@other.org', active: false }], groups: [{ id: 'g0', displayName: 'Admins', members: [{ value: 'u0' }] }] },
      policy: { ...none, unmanagedUsers: 'delete', unmanagedGroups: 'delete', allowDelete: true },
    });
  });

  test('a group created under the name another group is renamed away from: the create waits for the rename (no 409)', async () => {
    await planAndApplyOnce('generic', 'index', {
      desired: { users: [], groups: [groupAt('Ops', []), groupAt('Admins', [], { externalId: 'G2' })], files: [] },
      live: { users: [], groups: [{ id: 'g0', displayName: 'Ops', externalId: 'G2', members: [] }] },
      policy: none,
    });
  });

  test('a group renamed onto the name an undeclared group keeps is a manual item, not a PATCH the server refuses (409)', async () => {
    await planAndApplyOnce('generic', 'cursor', {
      desired: { users: [], groups: [groupAt('Ops', [], { externalId: 'G1' })], files: [] },
      live: { users: [], groups: [{ id: 'g0', displayName: 'Ops', members: [] }, { id: 'g1', displayName: 'Admins', externalId: 'G1', members: [] }] },
      policy: none,
    });
  });

  test('a group renamed onto the name of a group the plan deletes: a follow-up the next run makes, apply converged', async () => {
    await planAndApplyOnce('generic', 'index', {
      desired: { users: [], groups: [groupAt('Admins', [], { externalId: 'G1' })], files: [] },
      live: { users: [], groups: [{ id: 'g0', displayName: 'Old', externalId: 'G1', members: [] }, { id: 'g1', displayName: 'Admins', members: [] }] },
      policy: { ...none, unmanagedGroups: 'delete', allowDelete: true },
    });
  });

  test('a group created under a name freed only by a rename that waits for a delete: both are follow-ups, each run converged', async () => {
    await planAndApplyOnce('generic', 'index', {
      desired: { users: [], groups: [groupAt('Ops', []), groupAt('Admins', [], { externalId: 'G2' })], files: [] },
      live: { users: [], groups: [{ id: 'g0', displayName: 'Ops', externalId: 'G2', members: [] }, { id: 'g1', displayName: 'Admins', members: [] }] },
      policy: { ...none, unmanagedGroups: 'delete', allowDelete: true },
    });
  });

  test('a create waiting on a held rename is a manual item too: no 409', async () => {
    await planAndApplyOnce('generic', 'cursor', {
      desired: { users: [], groups: [groupAt('Ops', []), groupAt('Admins', [], { externalId: 'G1' })], files: [] },
      live: { users: [], groups: [{ id: 'g0', displayName: 'Ops', externalId: 'G1', members: [] }, { id: 'g1', displayName: 'Admins', members: [] }] },
      policy: none,
    });
  });

  test.each([
    ['a chain: Ops → Admins while Admins → Dév, the second rename a follow-up (no 409 from the race)', 'Admins', 'Dév'],
    ['a swap: Ops ↔ Admins, manual items for a person, nothing sent', 'Ops', 'Admins'],
  ])('group renames onto each other\'s names, %s', async (_, first, second) => {
    await planAndApplyOnce('generic', 'index', {
      desired: { users: [], groups: [groupAt(first, [], { externalId: 'G1' }), groupAt(second, [], { externalId: 'G2' })], files: [] },
      live: { users: [], groups: [{ id: 'g0', displayName: 'Ops', externalId: 'G1', members: [] }, { id: 'g1', displayName: 'Admins', externalId: 'G2', members: [] }] },
      policy: none,
    });
  });
});
