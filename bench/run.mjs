/**
 * `npm run bench`: scimform at the scale of a large company. Each scenario runs the real CLI
 * (`node dist/cli/bin.js …`) as a child process against the emulator, itself a separate process
 * on loopback, and reports wall time, CPU time and peak RSS of the scimform process, the HTTP
 * requests the emulator served by method, and the lower bound or target each is held to.
 *
 *   npm run bench                          scenarios 1–6 at 100,000 users
 *   npm run bench -- --users 1000000       scenario 7: plan at 1,000,000 users (and at a tenth, for growth)
 *   npm run bench -- --only 2,3 --json     some scenarios; the results as JSON
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startEmulatorProcess } from './emulator.mjs';
import { TOKEN_ENV, writeConfig, writeIdentities, writeLiveData } from './generate.mjs';
import { killRunning, measure, measurementMethod } from './measure.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const TOKEN = 'bench-token-not-a-secret-0123456789';

const { values: options } = parseArgs({
  options: {
    users: { type: 'string' },
    files: { type: 'string', default: '100' },
    'page-size': { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '16' },
    creates: { type: 'string', default: '10000' },
    latency: { type: 'string', default: '10' },
    runs: { type: 'string', default: '7' },
    'apply-runs': { type: 'string', default: '3' },
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (options.help) {
  process.stdout.write(
    [
      'npm run bench -- [options]',
      '  --users N        users for scenarios 1-4 (default 100000); alone and above 100000 it runs scenario 7',
      '  --only LIST      scenarios to run, e.g. 2,3 (default 1-6; 7 only when asked or with a large --users)',
      '  --files N        identity files (default 100)     --page-size N   pageSize of the target (default 500)',
      '  --creates N      creates in scenarios 5-6 (10000)  --latency MS   injected latency in 5-6 (10)',
      '  --concurrency N  target concurrency (16)          --runs N       computePlan runs in scenario 4 (7)',
      '  --apply-runs N   runs of scenario 5, median reported (3)',
      '  --json           print the results as JSON         --keep         keep the generated files',
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const int = (name, value) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not "${value}"`);
  return n;
};
const explicitUsers = options.users !== undefined;
const users = int('users', options.users ?? '100000');
const files = Math.max(1, int('files', options.files));
const pageSize = Math.max(1, int('page-size', options['page-size']));
const concurrency = Math.max(1, int('concurrency', options.concurrency));
const creates = int('creates', options.creates);
const latency = int('latency', options.latency);
const runs = Math.max(1, int('runs', options.runs));
const applyRuns = Math.max(1, int('apply-runs', options['apply-runs']));
const only = options.only
  ? new Set(options.only.split(',').map((s) => int('only', s.trim())))
  : explicitUsers && users > 100_000
    ? new Set([7])
    : new Set([1, 2, 3, 4, 5, 6]);
const groupsFor = (n) => Math.floor(n / 100);

// ---------------------------------------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'scimform-bench-'));
const emulators = new Set();
let cleaned = false;
async function cleanUp() {
  if (cleaned) return;
  cleaned = true;
  killRunning();
  await Promise.all([...emulators].map((emulator) => emulator.stop()));
  if (!options.keep) rmSync(work, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => void cleanUp().then(() => process.exit(130)));
}
// The whole run stops on its own: every child has its own timeout, and this bounds the sum.
const DEADLINE_MS = (only.has(7) ? 30 : 15) * 60_000;
setTimeout(() => {
  process.stderr.write(`benchmark stopped: it ran for more than ${DEADLINE_MS / 60_000} minutes\n`);
  void cleanUp().then(() => process.exit(1));
}, DEADLINE_MS).unref();

const log = (text) => process.stderr.write(`${text}\n`);
const env = { ...process.env, [TOKEN_ENV]: TOKEN, NO_COLOR: '1' };
delete env.GITHUB_ACTIONS;

/** Pages a listing of n resources costs: at least one, and one more when a full first page's total equals the count (the client's guard for servers that cap totalResults). */
function pagesFor(n) {
  if (n === 0) return 1;
  return Math.ceil(n / pageSize) + (n === pageSize ? 1 : 0);
}

async function withEmulator(name, { dataFile, flags }, body) {
  const requestLog = join(work, `${name}.requests.jsonl`);
  const emulator = await startEmulatorProcess(BIN, { dataFile, requestLog, token: TOKEN, flags });
  emulators.add(emulator);
  try {
    return await body(emulator);
  } finally {
    await emulator.stop();
    emulators.delete(emulator);
    rmSync(requestLog, { force: true });
  }
}

/** A repository (config + identity files) and, optionally, the live data that matches it unchanged. */
function makeRepository(name, { n, groups, changed = false, url = 'http://127.0.0.1:1/scim/v2' }) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeConfig(dir, { url, pageSize, concurrency });
  const { memberships } = writeIdentities(dir, { users: n, groups, files, changed });
  return { dir, memberships };
}

const cli = (dir, args, timeoutMs) => measure(BIN, args, { cwd: dir, env, timeoutMs });

function failure(result) {
  return `exit ${result.code}${result.timedOut ? ' (timed out)' : ''}: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ')}`;
}

const results = [];
function record(row) {
  results.push(row);
  log(`  ${row.scenario}: ${row.pass ? 'pass' : 'FAIL'}  wall ${fmtMs(row.wallMs)}${row.note ? `  (${row.note})` : ''}`);
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async function scenarioValidate(repo, n, groups, memberships) {
  log(`1. validate ${n} users and ${groups} groups in ${files} files`);
  const result = await cli(repo.dir, ['validate'], 120_000);
  record({
    id: '1',
    scenario: `validate ${fmtCount(n)} users, ${fmtCount(groups)} groups (${fmtCount(memberships)} members), ${files} files`,
    ...usage(result),
    requests: {},
    bound: 'no requests; wall ≤ 3 s',
    pass: result.code === 0 && result.wallMs <= 3000,
    note: result.code === 0 ? '' : failure(result),
  });
}

/** Plan against the converged emulator: no changes, and exactly discovery plus the pages. */
async function scenarioPlan(id, label, emulator, repo, n, groups, { expectCode, expectSummary, wallLimitMs, rssLimitBytes }) {
  const result = await cli(repo.dir, ['plan', '--detailed-exitcode'], 300_000);
  const requests = emulator.takeRequests();
  const bound = 1 + pagesFor(n) + (groups > 0 ? pagesFor(groups) : 0);
  const sent = total(requests);
  const summaryOk = expectSummary.test(result.stdout);
  const pass = result.code === expectCode && summaryOk && sent === bound && (requests.GET ?? 0) === sent && result.wallMs <= wallLimitMs && (rssLimitBytes === undefined || result.maxRssBytes <= rssLimitBytes);
  record({
    id,
    scenario: label,
    ...usage(result),
    requests,
    bound: `GET = ${bound} (1 discovery + ${pagesFor(n)} + ${groups > 0 ? pagesFor(groups) : 0} pages of ${pageSize})${Number.isFinite(wallLimitMs) ? `; wall ≤ ${fmtMs(wallLimitMs)}` : ''}${rssLimitBytes ? `, RSS ≤ ${fmtBytes(rssLimitBytes)}` : ''}`,
    pass,
    note: result.code !== expectCode ? failure(result) : summaryOk ? lastLine(result.stdout) : `unexpected plan: ${lastLine(result.stdout)}`,
    stdoutBytes: result.stdoutBytes,
  });
  return result;
}

/** computePlan alone, in this process, on the changed repository and the live state read from the emulator. */
async function scenarioComputePlan(emulator, repo) {
  log(`4. computePlan alone, median of ${runs} runs`);
  const api = await import(join(ROOT, 'dist', 'index.js'));
  const config = await api.loadConfig(join(repo.dir, 'scimform.yaml'), { cwd: repo.dir });
  const desired = await api.loadDesiredState(config);
  const target = config.targets[0];
  const client = api.createScimClient(target, { token: TOKEN, readOnly: true });
  let capabilities;
  let live;
  try {
    capabilities = await client.capabilities();
    ({ live } = await api.fetchLiveState(client, { includeGroups: true }));
  } finally {
    await client.close();
  }
  emulator.takeRequests();
  const times = [];
  let plan;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    plan = api.computePlan(desired, live, config.policy, capabilities);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const updates = plan.summary.update;
  record({
    id: '4',
    scenario: `computePlan alone (${fmtCount(desired.users.length)} users, ${fmtCount(live.groups.length)} groups, ${fmtCount(updates)} updates)`,
    wallMs: median,
    cpuMs: NaN,
    maxRssBytes: NaN,
    requests: {},
    bound: `median of ${runs} ≤ 300 ms (min ${fmtMs(times[0])}, max ${fmtMs(times.at(-1))})`,
    pass: median <= 300 && updates === Math.ceil(desired.users.length / 10),
  });
}

/** One apply of `creates` users to an empty target (a fresh emulator) with latency on every request. */
function applyOnce(id, flags) {
  return withEmulator(`apply-${id}`, { flags }, async (emulator) => {
    const repo = makeRepository(`apply-${id}`, { n: creates, groups: 0, url: emulator.url });
    const result = await cli(repo.dir, ['apply', '--auto-approve'], 300_000);
    const { requests, arrivals } = emulator.takeLog();
    return { result, requests, phases: phasesOf(result, arrivals.POST), ok: result.code === 0 && /converged/i.test(result.stdout + result.stderr) };
  });
}

/**
 * Where an apply's wall time went, from the emulator's arrival times of its POSTs: before the
 * first write arrived (start, load, plan, print), the writes, and after the last one arrived
 * (its answer, the read-back, the exit).
 */
function phasesOf(result, posts) {
  if (!posts) return undefined;
  return { beforeMs: posts.first - result.startedAtMs, writesMs: posts.last - posts.first, afterMs: result.startedAtMs + result.wallMs - posts.last };
}

/**
 * Scenario 5 (no baseline): `applyRuns` applies, each against a fresh emulator, reported by the
 * median wall time (runs vary by a few percent on a shared machine). Scenario 6: one apply,
 * compared with scenario 5's row. Returns the row.
 */
async function scenarioApply(id, label, flags, baseline) {
  const measured = [];
  for (let run = 0; run < (baseline ? 1 : applyRuns); run++) measured.push(await applyOnce(id, flags));
  const byWall = [...measured].sort((a, b) => a.result.wallMs - b.result.wallMs);
  const { result, requests, phases } = byWall[Math.floor((byWall.length - 1) / 2)];
  const failed = measured.find((run) => !run.ok);
  const row = {
    id,
    scenario: label,
    ...usage(result),
    requests,
    pass: failed === undefined,
    note: failed ? failure(failed.result) : '',
  };
  const ideal = (creates * latency) / concurrency;
  if (!baseline) {
    const efficiencies = measured.map((run) => ideal / run.result.wallMs);
    const efficiency = ideal / result.wallMs;
    const percent = (value) => `${(value * 100).toFixed(1)}%`;
    const spread = measured.length > 1 ? ` (median of ${measured.length}: ${efficiencies.map(percent).join(', ')})` : '';
    row.bound = `POST = ${fmtCount(creates)}; efficiency (${fmtCount(creates)} × ${latency} ms / ${concurrency}) ÷ wall = ${percent(efficiency)} ≥ 80%${spread}`;
    row.efficiency = efficiency;
    row.efficiencies = efficiencies;
    row.phases = phases;
    row.pass = row.pass && measured.every((run) => (run.requests.POST ?? 0) === creates) && efficiency >= 0.8;
    if (latency > 0) {
      const { perRequest, answerMs } = await calibrate(flags);
      row.calibrationMsPerRequest = perRequest;
      row.emulatorAnswerMs = answerMs;
      const split = phases
        ? `the median run wrote for ${fmtMs(phases.writesMs)} (${(phases.writesMs / (creates / concurrency)).toFixed(1)} ms per request and slot), ` +
          `${fmtMs(phases.beforeMs)} before its first write and ${fmtMs(phases.afterMs)} after its last; `
        : '';
      row.note =
        `${row.note ? `${row.note}; ` : ''}${split}a bare undici loop against the same emulator takes ${perRequest.toFixed(1)} ms per request and slot, so no client exceeds ${((latency / perRequest) * 100).toFixed(0)}% here` +
        ` (one request at a time, the emulator answers in ${answerMs.toFixed(1)} ms, round trip included)`;
    }
  } else {
    const posts = requests.POST ?? 0;
    const rejected = faults(requests, '429');
    const extra = total(requests) - total(baseline.requests);
    row.bound = `POST = ${fmtCount(creates)} + 429s retried (${fmtCount(rejected)} answered 429); ${fmtRatio(result.wallMs / baseline.wallMs)} the time, +${fmtCount(extra)} requests vs 5`;
    // Every user created once: the POSTs the server took are exactly the creates.
    row.pass = row.pass && posts - (requests['fault:429:POST'] ?? 0) === creates;
  }
  record(row);
  return row;
}

/**
 * What the emulator and this machine allow with no scimform at all: a bare undici loop of as many
 * POSTs as the apply sends, at the same concurrency, against a fresh emulator with the same
 * latency. Its time per request and slot bounds the efficiency any client can reach here. (With
 * 4,000 POSTs, the fresh emulator's first requests on code the JIT has not seen weighed more:
 * 0.3–0.4 ms per request and slot slower than over 10,000.)
 */
async function calibrate(flags, requests = creates) {
  return withEmulator('calibrate', { flags }, async (emulator) => {
    const { Pool } = await import('undici');
    const url = new URL(emulator.url);
    const pool = new Pool(url.origin, { connections: concurrency });
    let next = 0;
    let started = performance.now();
    try {
      // The latency as a client sees it: the median of sequential requests.
      const answers = [];
      for (let i = 0; i < 101; i++) {
        const sent = performance.now();
        const response = await pool.request({ path: `${url.pathname}/ServiceProviderConfig`, method: 'GET', headers: { authorization: `Bearer ${TOKEN}` } });
        await response.body.text();
        answers.push(performance.now() - sent);
      }
      answers.sort((a, b) => a - b);
      started = performance.now();
      const worker = async () => {
        while (next < requests) {
          const name = `calibration${next++}@example.org`;
          const response = await pool.request({
            path: `${url.pathname}/Users`,
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
            // The body scimform sends for a generated user, so both loops ask the emulator for the same work.
            body: JSON.stringify({
              schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
              userName: name,
              name: { givenName: 'Given', familyName: 'Family' },
              emails: [{ value: name, type: 'work', primary: true }],
              externalId: `C-${next}`,
              displayName: 'Given Family',
            }),
          });
          await response.body.json();
          if (response.statusCode !== 201) throw new Error(`calibration POST answered ${response.statusCode}`);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      return { perRequest: (performance.now() - started) / (requests / concurrency), answerMs: answers[50] };
    } finally {
      await pool.close();
    }
  });
}

/** Requests answered with an injected fault of this kind, whatever their method. */
function faults(requests, kind) {
  return Object.entries(requests).filter(([key]) => key.startsWith(`fault:${kind}:`)).reduce((sum, [, n]) => sum + n, 0);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  log(`scimform benchmark: ${[...only].sort().join(', ')}; users ${fmtCount(users)}, page size ${pageSize}, concurrency ${concurrency}; measuring with ${await measurementMethod()}; files in ${work}`);
  const started = performance.now();
  if ([1, 2, 3, 4].some((s) => only.has(s))) {
    const groups = groupsFor(users);
    log(`generating ${fmtCount(users)} users and ${fmtCount(groups)} groups…`);
    const dataFile = join(work, 'live.json');
    writeLiveData(dataFile, { users, groups });
    const converged = makeRepository('converged', { n: users, groups });
    if (only.has(1)) await scenarioValidate(converged, users, groups, converged.memberships);
    if (only.has(2) || only.has(3) || only.has(4)) {
      log('starting the emulator with the live data…');
      await withEmulator('plan', { dataFile, flags: ['--profile', 'generic'] }, async (emulator) => {
        writeConfig(converged.dir, { url: emulator.url, pageSize, concurrency });
        if (only.has(2)) {
          log('2. plan against the converged target');
          await scenarioPlan('2', `plan, converged (${fmtCount(users)} users, ${fmtCount(groups)} groups)`, emulator, converged, users, groups, {
            expectCode: 0,
            expectSummary: /No changes/,
            wallLimitMs: 5000,
            rssLimitBytes: 400 * 1024 * 1024,
          });
        }
        if (only.has(3) || only.has(4)) {
          const changed = makeRepository('changed', { n: users, groups, changed: true, url: emulator.url });
          if (only.has(3)) {
            log('3. plan with 10% of users changed');
            await scenarioPlan('3', `plan, 10% of users changed (${fmtCount(Math.ceil(users / 10))} updates)`, emulator, changed, users, groups, {
              expectCode: 2,
              expectSummary: new RegExp(`Plan: 0 to create, ${fmtCount(Math.ceil(users / 10))} to update, 0 to deactivate`),
              wallLimitMs: Infinity,
            });
          }
          if (only.has(4)) await scenarioComputePlan(emulator, changed);
        }
      });
    }
    rmSync(dataFile, { force: true });
  }
  let baseline;
  if (only.has(5) || only.has(6)) {
    const fault = ['--latency', String(latency)];
    if (only.has(5) || only.has(6)) {
      log(`5. apply ${fmtCount(creates)} creates, ${latency} ms latency per request, concurrency ${concurrency}`);
      baseline = await scenarioApply('5', `apply ${fmtCount(creates)} creates, ${latency} ms latency, concurrency ${concurrency}`, fault);
    }
    if (only.has(6)) {
      log('6. the same under 5% injected 429s');
      await scenarioApply('6', `apply ${fmtCount(creates)} creates, ${latency} ms latency, 5% 429s`, [...fault, '--rate-429', '0.05', '--seed', '7'], baseline);
    }
  }
  if (only.has(7)) await scenarioScaleOut();
  const elapsed = performance.now() - started;
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ users, pageSize, concurrency, method: await measurementMethod(), elapsedMs: Math.round(elapsed), results }, null, 2)}\n`);
  } else {
    process.stdout.write(table(results));
    process.stdout.write(`\nPage size ${pageSize}, concurrency ${concurrency}, node ${process.version}; CPU and peak RSS of the scimform process (${await measurementMethod()}); total ${fmtMs(elapsed)}.\n`);
  }
  return results.every((row) => row.pass) ? 0 : 1;
}

/** Scenario 7: plan of `users` against a converged emulator, and of a tenth of them, to show the growth. */
async function scenarioScaleOut() {
  const big = explicitUsers ? users : 1_000_000;
  const sizes = [Math.floor(big / 10), big];
  const rows = [];
  for (const n of sizes) {
    const groups = groupsFor(n);
    log(`7. plan of ${fmtCount(n)} users and ${fmtCount(groups)} groups against a converged target: generating…`);
    const dataFile = join(work, `live-${n}.json`);
    writeLiveData(dataFile, { users: n, groups });
    const repo = makeRepository(`scale-${n}`, { n, groups });
    log('   starting the emulator with the live data…');
    await withEmulator(`scale-${n}`, { dataFile, flags: ['--profile', 'generic'] }, async (emulator) => {
      rmSync(dataFile, { force: true });
      writeConfig(repo.dir, { url: emulator.url, pageSize, concurrency });
      const final = n === big;
      await scenarioPlan(final ? '7' : '7a', `plan, converged (${fmtCount(n)} users, ${fmtCount(groups)} groups)`, emulator, repo, n, groups, {
        expectCode: 0,
        expectSummary: /No changes/,
        wallLimitMs: final ? 60_000 : Infinity,
        rssLimitBytes: final ? 2 * 1024 ** 3 : undefined,
      });
      rows.push(results.at(-1));
    });
  }
  const [small, large] = rows;
  if (small && large) {
    large.note = `${fmtRatio(large.wallMs / small.wallMs)} the wall time, ${fmtRatio(large.cpuMs / small.cpuMs)} the CPU, ${fmtRatio(large.maxRssBytes / small.maxRssBytes)} the RSS of ${fmtCount(sizes[0])} users, for ${fmtRatio(sizes[1] / sizes[0])} the users`;
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting

const total = (requests) => Object.entries(requests).filter(([key]) => !key.startsWith('fault:')).reduce((sum, [, n]) => sum + n, 0);
const lastLine = (text) => text.trim().split('\n').at(-1) ?? '';
const usage = (result) => ({ wallMs: result.wallMs, cpuMs: result.cpuMs, maxRssBytes: result.maxRssBytes, exitCode: result.code });
const fmtCount = (n) => new Intl.NumberFormat('en-US').format(n);
const fmtRatio = (r) => `${r.toFixed(2)}×`;
function fmtMs(ms) {
  if (!Number.isFinite(ms)) return '–';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}
function fmtBytes(bytes) {
  if (!Number.isFinite(bytes)) return '–';
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${Math.round(bytes / 1024 ** 2)} MB`;
}
function fmtRequests(requests) {
  const methods = Object.entries(requests).filter(([key]) => !key.startsWith('fault:'));
  if (methods.length === 0) return '–';
  const kinds = [...new Set(Object.keys(requests).filter((key) => key.startsWith('fault:')).map((key) => key.split(':')[1]))];
  return [...methods.map(([m, n]) => `${m} ${fmtCount(n)}`), ...kinds.map((kind) => `(${fmtCount(faults(requests, kind))} × ${kind})`)].join(', ');
}

function table(rows) {
  const header = ['#', 'scenario', 'wall', 'CPU', 'peak RSS', 'requests', 'lower bound / target', 'result'];
  const body = rows.map((row) => [
    row.id,
    row.scenario,
    fmtMs(row.wallMs),
    fmtMs(row.cpuMs),
    fmtBytes(row.maxRssBytes),
    fmtRequests(row.requests),
    row.bound,
    row.pass ? 'pass' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i].length)));
  const line = (cells) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  const notes = rows.filter((row) => row.note).map((row) => `  ${row.id}: ${row.note}`);
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line), '', ...(notes.length ? ['Notes:', ...notes, ''] : [])].join('\n');
}

let code = 1;
try {
  code = await main();
} catch (error) {
  log(`benchmark failed: ${error instanceof Error ? error.stack : String(error)}`);
} finally {
  await cleanUp();
}
process.exit(code);
