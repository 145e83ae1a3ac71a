/**
 * Properties of planning over random desired/live pairs, checked against an in-memory SCIM
 * service (`scim-model.ts`): applying a plan converges the target, a plan on the result is
 * empty, and nothing the policy or the target forbids is ever planned.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { checkGuards, computePlan } from '../../src/plan/index.js';
import type { SavedPlan } from '../../src/plan/types.js';
import type { Capabilities, DesiredGroup, DesiredState, DesiredUser, Email, LiveGroup, LiveState, LiveUser, Policy } from '../../src/model.js';
import type { Plan } from '../../src/plan/types.js';
import { at, generic, liveGroup, liveUser, policy } from './builders.js';
import { applyToModel, liveStateOf, modelFrom } from './scim-model.js';
import { desiredGroupsOf, desiredUsersOf, managed, policyChoices, unique } from './arbitraries.js';

const PEOPLE = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus'];
const DOMAINS = ['example.com', 'other.org'];
const SCOPE = '*@example.com';
const PROTECTED = 'gus@example.com';

/** A userName from a small pool, in a random case, so names collide often. */
const userName = fc
  .tuple(fc.constantFrom(...PEOPLE), fc.constantFrom(...DOMAINS), fc.boolean())
  .map(([person, domain, upper]) => (upper ? `${person[0]!.toUpperCase()}${person.slice(1)}@${domain}` : `${person}@${domain}`));
const word = fc.constantFrom('Ann', 'Bo', 'Cy', 'Dee', 'ann');
const email: fc.Arbitrary<Email> = fc.record(
  { value: fc.constantFrom('a@example.com', 'A@example.com', 'b@example.com', 'c@other.org'), type: fc.constantFrom('work', 'home'), primary: fc.boolean() },
  { requiredKeys: ['value'] },
);

const desiredUsers = desiredUsersOf({ userName, word, emails: managed(fc.array(email, { maxLength: 3 })) });

const liveUsers: fc.Arbitrary<LiveUser[]> = fc
  .array(
    fc.record(
      {
        userName,
        externalId: fc.constantFrom('E1', 'E2', 'E3', 'E4', 'E5'),
        displayName: word,
        name: fc.record({ givenName: word, familyName: word }, { requiredKeys: [] }),
        emails: fc.array(email, { maxLength: 3 }),
        active: fc.boolean(),
      },
      { requiredKeys: ['userName', 'active'] },
    ),
    { maxLength: 7 },
  )
  // A real server keeps userNames unique; externalIds are unique in the targets we model too.
  .map((users) => unique(unique(users, (user) => user.userName.toLowerCase()), (user) => user.externalId).map((user, index) => liveUser(`L${index}`, user.userName, user)));


function liveGroups(users: LiveUser[]): fc.Arbitrary<LiveGroup[]> {
  const ids = [...users.map((user) => user.id), 'ghost'];
  return fc
    .array(fc.record({ displayName: fc.constantFrom('Admins', 'admins', 'Ops', 'Old'), externalId: fc.option(fc.constantFrom('G1', 'G2', 'G3'), { nil: undefined }), members: fc.uniqueArray(fc.constantFrom(...ids)) }), {
      maxLength: 3,
    })
    .map((groups) => unique(groups, (group) => group.externalId).map((group, index) => liveGroup(`G${index}`, group.displayName, group.members, group.externalId ? { externalId: group.externalId } : {})));
}

const policies: fc.Arbitrary<Policy> = policyChoices
  .map(({ scoped, protect, ...rules }) => policy({ ...rules, ...(scoped ? { scope: SCOPE } : {}), protectedUsers: protect ? [PROTECTED] : [] }));

const capabilities: fc.Arbitrary<Capabilities> = fc
  .record({
    groupsWritable: fc.boolean(),
    usersDeletable: fc.boolean(),
    etag: fc.boolean(),
    memberRemoval: fc.constantFrom('path-filter', 'value-list') as fc.Arbitrary<Capabilities['memberRemoval']>,
    updateMethod: fc.constantFrom('patch', 'put') as fc.Arbitrary<Capabilities['updateMethod']>,
    maxMembersPerPatch: fc.integer({ min: 1, max: 3 }),
  })
  .map((caps) => generic(caps));

const scenario = fc
  .tuple(desiredUsers, liveUsers)
  .chain(([users, live]) =>
    fc.record({
      desired: desiredGroupsOf(users, ['Admins', 'Ops', 'Dev']).map((groups): DesiredState => ({ users, groups, files: [] })),
      live: liveGroups(live).map((groups): LiveState => ({ users: live, groups })),
      policy: policies,
      capabilities,
      lowerCaseEmails: fc.boolean(),
    }),
  );

function manageable(rules: Policy, name: string): boolean {
  const lower = name.toLowerCase();
  return (rules.scope === undefined || lower.endsWith('@example.com')) && !rules.protectedUsers.includes(lower);
}

/** Independent of the planner: does this live user carry what the declaration manages? */
function satisfies(want: DesiredUser, have: LiveUser): boolean {
  const blank = (value: unknown): boolean => value === undefined || value === null || value === '';
  const scalar = (w: string | null | undefined, h: string | undefined): boolean => w === undefined || (w === null ? blank(h) : w === h);
  const emailSet = (list: readonly Email[] | null | undefined): string =>
    JSON.stringify([...new Set((list ?? []).map((e) => `${e.value.toLowerCase()}|${(e.type ?? '').toLowerCase()}|${e.primary === true}`))].sort());
  return (
    have.userName.toLowerCase() === want.userName.toLowerCase() &&
    scalar(want.externalId, have.externalId) &&
    scalar(want.displayName, have.displayName) &&
    (want.name === undefined ||
      (want.name === null ? blank(have.name?.givenName) && blank(have.name?.familyName) : scalar(want.name.givenName, have.name?.givenName) && scalar(want.name.familyName, have.name?.familyName))) &&
    (want.emails === undefined || emailSet(want.emails) === emailSet(have.emails)) &&
    (want.active ?? true) === have.active
  );
}

const nonManual = (plan: Plan): string[] => plan.operations.filter((op) => op.kind !== 'manual').map((op) => op.key);

describe('computePlan properties', () => {
  test('applying the plan to a SCIM service converges it: every request succeeds, and a plan on the result is empty', () => {
    fc.assert(
      fc.property(scenario, ({ desired, live, policy: rules, capabilities: caps, lowerCaseEmails }) => {
        const model = modelFrom(live, { lowerCaseEmails });
        const first = computePlan(desired, liveStateOf(model), rules, caps);
        let plan = first;
        // A create or rename that waits on another rename converges one run later; chains of them
        // take one run per link, never more runs than there are users and groups.
        for (let round = 0; round <= desired.users.length + desired.groups.length && nonManual(plan).length > 0; round += 1) {
          expect(applyToModel(model, plan)).toEqual([]);
          plan = computePlan(desired, liveStateOf(model), rules, caps);
        }
        expect(nonManual(plan)).toEqual([]);
        if (first.summary.manual === 0) {
          expect(plan.operations).toEqual([]);
        }
        if (plan.summary.manual > 0) return;

        const result = liveStateOf(model);
        // Declarations left alone: protected or out of scope, or matching such a live user by externalId.
        const untouchableIds = new Set(live.users.filter((user) => !manageable(rules, user.userName)).flatMap((user) => (user.externalId ? [user.externalId] : [])));
        const acted = new Set(
          desired.users
            .filter((want) => manageable(rules, want.userName) && !(typeof want.externalId === 'string' && untouchableIds.has(want.externalId)))
            .map((want) => want.userName.toLowerCase()),
        );
        for (const want of desired.users) {
          if (!acted.has(want.userName.toLowerCase())) continue;
          const have = result.users.filter((user) => user.userName.toLowerCase() === want.userName.toLowerCase());
          expect(have.some((user) => satisfies(want, user))).toBe(true);
        }
        const declared = new Set(desired.users.map((user) => user.userName.toLowerCase()));
        const declaredIds = new Set(desired.users.flatMap((user) => (typeof user.externalId === 'string' ? [user.externalId] : [])));
        for (const user of result.users) {
          if (declared.has(user.userName.toLowerCase()) || (user.externalId && declaredIds.has(user.externalId)) || !manageable(rules, user.userName)) continue;
          if (rules.unmanagedUsers === 'deactivate') expect(user.active).toBe(false);
          if (rules.unmanagedUsers === 'delete' && rules.allowDelete && caps.usersDeletable) throw new Error(`unmanaged user ${user.userName} survived delete`);
        }
        for (const group of desired.groups) {
          const wanted = JSON.stringify([...new Set(group.members.map((member) => member.toLowerCase()).filter((member) => acted.has(member)))].sort());
          const membersOf = (candidate: LiveGroup): string =>
            JSON.stringify(
              [...new Set(candidate.members.map((id) => result.users.find((user) => user.id === id)).flatMap((user) => (user && acted.has(user.userName.toLowerCase()) ? [user.userName.toLowerCase()] : [])))].sort(),
            );
          const candidates = result.groups.filter(
            (candidate) => candidate.displayName === group.displayName && (typeof group.externalId !== 'string' || candidate.externalId === group.externalId),
          );
          expect(candidates.map(membersOf)).toContain(wanted);
        }
      }),
      { numRuns: 400 },
    );
  });

  test('a plan never holds what the policy or the target forbids', () => {
    fc.assert(
      fc.property(scenario, ({ desired, live, policy: rules, capabilities: caps }) => {
        const plan = computePlan(desired, live, rules, caps);
        const requests = plan.operations.flatMap((op) => op.requests.map((request) => ({ kind: op.kind, ...request })));
        if (!rules.allowDelete) {
          expect(plan.operations.filter((op) => op.kind === 'deleteUser' || op.kind === 'deleteGroup')).toEqual([]);
          expect(requests.filter((request) => request.method === 'DELETE')).toEqual([]);
        }
        if (!caps.usersDeletable) expect(requests.filter((request) => request.method === 'DELETE' && request.path.startsWith('/Users'))).toEqual([]);
        if (!caps.groupsWritable) expect(requests.filter((request) => request.path.startsWith('/Groups'))).toEqual([]);
        if (caps.updateMethod === 'put') expect(requests.filter((request) => request.method === 'PATCH')).toEqual([]);
        for (const request of requests) {
          if (request.method === 'PATCH') {
            const body = request.body as { Operations: { path?: string; op: string }[] };
            expect(body.Operations.every((operation) => typeof operation.path === 'string' && operation.op === operation.op.toLowerCase())).toBe(true);
          }
        }
        // Protected and out-of-scope users never appear: not as a subject, not as a member added or removed.
        const untouchable = new Set(live.users.filter((user) => !manageable(rules, user.userName)).map((user) => user.id));
        for (const op of plan.operations) {
          if ('id' in op && !('displayName' in op)) expect(untouchable.has(op.id)).toBe(false);
          if ('userName' in op) expect(manageable(rules, op.userName)).toBe(true);
          const members = op.kind === 'updateGroupMembers' ? [...op.add, ...op.remove] : op.kind === 'createGroup' ? op.members : [];
          for (const member of members) expect(manageable(rules, member.userName) && !untouchable.has(member.id ?? '')).toBe(true);
          if (op.kind === 'manual') expect(live.users.some((user) => untouchable.has(user.id) && op.subject.includes(user.userName))).toBe(false);
        }
        expect(new Set(plan.operations.map((op) => op.key)).size).toBe(plan.operations.length);
      }),
      { numRuns: 400 },
    );
  });
});

test('every computed plan, in a saved-plan document, is valid against schemas/plan.schema.json', () => {
  const schema = JSON.parse(readFileSync(new URL('../../schemas/plan.schema.json', import.meta.url), 'utf8')) as object;
  const validate = new Ajv2020({ allErrors: true, validateFormats: false }).compile(schema);
  fc.assert(
    fc.property(scenario, fc.boolean(), ({ desired, live, policy: rules, capabilities: caps }, allowMassRemoval) => {
      const plan = computePlan(desired, live, rules, caps);
      const document: SavedPlan = {
        formatVersion: 1,
        scimformVersion: '0.1.0',
        createdAt: '2026-01-01T00:00:00Z',
        digest: '0'.repeat(64),
        config: 'scimform.yaml',
        targets: [
          {
            target: { name: 'test', url: 'http://127.0.0.1:8080/scim/v2', profile: caps.groupsWritable ? 'generic' : 'lightstep' },
            capabilities: caps,
            fetch: { users: live.users.length, groups: live.groups.length, pages: 1, requests: 2, durationMs: 5 },
            plan,
            violations: checkGuards(plan, rules, desired, live, { allowMassRemoval }),
          },
        ],
      };
      // JSON round trip: the document is what `plan --out` writes.
      const valid = validate(JSON.parse(JSON.stringify(document)));
      expect(validate.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    }),
    { numRuns: 300 },
  );
});
