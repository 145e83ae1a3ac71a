/**
 * `npm run soak`: the long form of the fault matrix, outside CI. Round after round the desired
 * state changes (hires, renames, deactivations, returns, team moves) and is applied through the
 * package API to an emulator on loopback that answers about 10% of requests with a fault
 * (429 with and without Retry-After, 503, reset connections, writes applied whose response is
 * lost). It stops after 5,000 operations and checks, after every round and at the end, that
 * the live state equals the desired state exactly, that no user exists twice and that every
 * write the server received was planned. Exit 0 when all held, 1 otherwise.
 *
 *   npm run soak                              5,000 operations, 10% faults, seed 1
 *   npm run soak -- --operations 20000 --fault-rate 0.2 --seed 7
 */
import { parseArgs } from 'node:util';
import { applyAndVerify, checkGuards, computePlan, createScimClient, startEmulator } from '../dist/index.js';
import { mulberry32 } from '../dist/emulator/faults.js';

const { values: options } = parseArgs({
  options: {
    operations: { type: 'string', default: '5000' },
    'fault-rate': { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '1' },
    'time-limit': { type: 'string', default: '600' },
    help: { type: 'boolean', default: false },
  },
});
if (options.help) {
  console.log('usage: npm run soak -- [--operations N] [--fault-rate R] [--seed S] [--time-limit SECONDS]');
  process.exit(0);
}

const OPERATIONS = Number(options.operations);
const FAULT_RATE = Number(options['fault-rate']);
const SEED = Number(options.seed);
const DEADLINE = Date.now() + Number(options['time-limit']) * 1000;
const TOKEN = 'soak-token-not-a-secret-5b1e';
const TEAMS = ['Platform', 'Payments', 'Search', 'Mobile', 'Data', 'Security'];

// The emulator's own seeded PRNG, so a seed reproduces a run's changes (the faults draw from their own).
const random = mulberry32(SEED);
const pick = (items) => items[Math.floor(random() * items.length)];

// A quarter of the fault rate each: 429 (half with Retry-After), 503, reset, lost response.
const share = FAULT_RATE / 4;
const faultsFor = (round) => ({ rate429: share, rate5xx: share, rateReset: share, rateLostResponse: share, seed: SEED * 1000 + round, ...(round % 2 ? { retryAfterSeconds: 0 } : {}) });

const policy = {
  unmanagedUsers: 'deactivate',
  unmanagedGroups: 'ignore',
  allowDelete: false,
  maxRemovals: { kind: 'percent', value: 100, text: '100%' },
  scope: '*@soak.example',
  protectedUsers: [],
  sources: {},
};
const source = { file: 'identities/people.yaml', line: 1, column: 3 };

/** The desired state as plain data: people by number, and who is in which team. */
const people = new Map();
const teams = new Map(TEAMS.map((team) => [team, new Set()]));
let nextPerson = 0;

function hire() {
  const n = nextPerson++;
  people.set(n, { userName: `person${n}@soak.example`, name: { givenName: `Person${n}`, familyName: pick(['Lovelace', 'Hopper', 'Clarke', 'Kay']) }, active: true, source });
  if (random() < 0.5) teams.get(pick(TEAMS)).add(n);
}

/** One round of changes, about `size` operations' worth. */
function change(size) {
  const names = [...people.keys()];
  for (let i = 0; i < size; i++) {
    const roll = random();
    if (roll < 0.35 || names.length < 20) {
      hire();
      continue;
    }
    const n = pick(names);
    const person = people.get(n);
    if (!person) continue; // removed earlier in this round
    if (roll < 0.55) person.displayName = `Person ${Math.floor(random() * 1e6)}`;
    else if (roll < 0.65) person.name = { ...person.name, familyName: pick(['Perlman', 'Liskov', 'Hamilton', 'Knuth']) };
    else if (roll < 0.75) {
      people.delete(n); // removed from git: deactivated by policy
      for (const members of teams.values()) members.delete(n);
    } else if (roll < 0.82) person.active = false;
    else if (roll < 0.88) person.active = true;
    else {
      const team = teams.get(pick(TEAMS));
      if (team.has(n)) team.delete(n);
      else team.add(n);
    }
  }
}

function desiredState() {
  const users = [...people.values()].map((person) => ({ ...person }));
  const groups = TEAMS.map((team) => ({
    displayName: team,
    members: [...teams.get(team)].filter((n) => people.has(n)).map((n) => people.get(n).userName),
    memberSources: [],
    source,
  }));
  for (const group of groups) group.memberSources = group.members.map(() => source);
  return { users, groups, files: [] };
}

/** Every difference between the emulator's data and the desired state; empty when they are equal. */
function differences(emulator, desired) {
  const problems = [];
  const live = emulator.users();
  const byName = new Map();
  for (const user of live) {
    const key = String(user.userName).toLowerCase();
    if (byName.has(key)) problems.push(`${key} exists twice`);
    byName.set(key, user);
  }
  const wanted = new Set();
  for (const user of desired.users) {
    const key = user.userName.toLowerCase();
    wanted.add(key);
    const found = byName.get(key);
    if (!found) {
      problems.push(`${key} is missing`);
      continue;
    }
    if ((found.active !== false) !== (user.active !== false)) problems.push(`${key}: active is ${found.active}, wanted ${user.active !== false}`);
    if (user.displayName !== undefined && found.displayName !== user.displayName) problems.push(`${key}: displayName is ${found.displayName}, wanted ${user.displayName}`);
    if (found.name?.givenName !== user.name.givenName || found.name?.familyName !== user.name.familyName) problems.push(`${key}: name differs`);
  }
  for (const [key, user] of byName) if (!wanted.has(key) && user.active !== false) problems.push(`${key} is not in git but still active`);
  const idToName = new Map(live.map((user) => [user.id, String(user.userName).toLowerCase()]));
  for (const group of desired.groups) {
    const found = emulator.groups().filter((g) => g.displayName === group.displayName);
    if (found.length !== 1) {
      problems.push(`group ${group.displayName} exists ${found.length} times`);
      continue;
    }
    const has = (found[0].members ?? []).map((member) => idToName.get(member.value)).sort();
    const wants = group.members.map((name) => name.toLowerCase()).sort();
    if (JSON.stringify(has) !== JSON.stringify(wants)) problems.push(`group ${group.displayName}: members differ`);
  }
  return problems;
}

/** Writes the server received that no planned request explains (retries of a planned request are fine). */
function unplanned(plans, writes) {
  const planned = plans.flatMap((plan) => plan.plan.operations.flatMap((operation) => operation.requests));
  return writes.filter((write) => {
    const same = planned.filter((request) => request.method === write.method && request.path === write.path);
    return !same.some((request) => (request.refs?.length ?? 0) > 0 || JSON.stringify(request.body ?? null) === JSON.stringify(write.body ?? null));
  });
}

const emulator = await startEmulator({ profile: 'generic', token: TOKEN, maxPageSize: 200 });
const target = { name: 'soak', url: emulator.url, tokenEnv: 'SOAK_TOKEN', profile: 'generic', concurrency: 8, timeoutSeconds: 5, pageSize: 200, source };
const client = createScimClient(target, { token: TOKEN, readOnly: false, retry: { baseDelayMs: 2, maxDelayMs: 40, maxAttempts: 10 } });

const started = Date.now();
const totals = { rounds: 0, operations: 0, applies: 0, writes: 0, faults: {}, adopted: 0, notConverged: 0 };
const failures = [];
try {
  for (let round = 1; totals.operations < OPERATIONS; round++) {
    if (Date.now() > DEADLINE) throw new Error(`time limit reached after ${totals.operations} operations`);
    change(Math.min(250, OPERATIONS - totals.operations));
    const desired = desiredState();
    emulator.setFaults(faultsFor(round));
    const mark = emulator.requests.length;
    const plans = [];
    // Apply until converged: a fault can leave an operation failed; the next run picks it up.
    for (let attempt = 1; ; attempt++) {
      const capabilities = await client.capabilities();
      const live = { users: await client.listUsers(), groups: await client.listGroups() };
      const plan = computePlan(desired, live, policy, capabilities);
      const targetPlan = { target: { name: 'soak', url: emulator.url, profile: 'generic' }, capabilities, fetch: { users: live.users.length, groups: live.groups.length, pages: 0, requests: 0, durationMs: 0 }, plan, violations: checkGuards(plan, policy, desired, live, { allowMassRemoval: false }) };
      if (targetPlan.violations.length > 0) throw new Error(`a guard refused round ${round}: ${targetPlan.violations.map((v) => v.message).join('; ')}`);
      if (plan.operations.length === 0) break;
      plans.push(targetPlan);
      const result = await applyAndVerify(targetPlan, client, desired, policy, { concurrency: target.concurrency });
      totals.applies++;
      totals.operations += result.report.outcomes.filter((o) => o.status === 'done' || o.status === 'adopted').length;
      totals.adopted += result.report.outcomes.filter((o) => o.status === 'adopted').length;
      if (result.verification?.converged) break;
      totals.notConverged++;
      if (attempt >= 5) throw new Error(`round ${round} did not converge after ${attempt} applies`);
    }
    const writes = emulator.requests.slice(mark).filter((request) => request.method !== 'GET');
    totals.writes += writes.length;
    for (const request of emulator.requests.slice(mark)) if (request.fault) totals.faults[request.fault] = (totals.faults[request.fault] ?? 0) + 1;
    const stray = unplanned(plans, writes);
    if (stray.length > 0) failures.push(`round ${round}: ${stray.length} unplanned writes, e.g. ${stray[0].method} ${stray[0].path}`);
    emulator.setFaults(undefined);
    const problems = differences(emulator, desired);
    if (problems.length > 0) failures.push(`round ${round}: ${problems.length} differences, e.g. ${problems.slice(0, 3).join('; ')}`);
    emulator.requests.length = 0; // the log of a finished round is no longer needed
    totals.rounds = round;
  }
} catch (error) {
  failures.push(error instanceof Error ? error.message : String(error));
} finally {
  await client.close();
  await emulator.close();
}

const seconds = ((Date.now() - started) / 1000).toFixed(1);
const faults = Object.entries(totals.faults).map(([kind, n]) => `${n} ${kind}`).join(', ') || 'none';
console.log(`soak: ${totals.operations} operations in ${totals.rounds} rounds (${totals.applies} applies, ${totals.notConverged} re-runs), ${totals.writes} writes, ${seconds} s`);
console.log(`soak: faults injected: ${faults}; ${totals.adopted} creates adopted after a lost response`);
console.log(`soak: final state: ${people.size} users declared, ${TEAMS.length} groups`);
if (failures.length > 0) {
  for (const failure of failures) console.error(`soak: FAILED ${failure}`);
  process.exit(1);
}
console.log('soak: the live state equals the desired state exactly; no duplicate, no unplanned write.');
