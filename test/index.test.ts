/** The package's typed API, used the way a team building its own pipeline would. */
import path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import {
  applyPlan,
  checkGuards,
  computePlan,
  createScimClient,
  fetchLiveState,
  loadConfig,
  loadDesiredState,
  renderText,
  resolveToken,
} from '../src/index.js';
import { exampleRepository, type TestRepository } from './helpers/repo.js';
import { multiTargetRepository } from './helpers/targets.js';

let repo: TestRepository;
beforeEach(async () => {
  repo = await exampleRepository();
});
afterEach(async () => repo.close());

test('load → fetch → computePlan → checkGuards → applyPlan → re-plan is empty', async () => {
  const config = await loadConfig(path.join(repo.dir, 'scimform.yaml'));
  const desired = await loadDesiredState(config);
  const target = config.targets[0]!;
  const client = createScimClient(target, { token: resolveToken(target, repo.env), readOnly: false });
  try {
    const capabilities = await client.capabilities();
    const { live, fetch } = await fetchLiveState(client, { includeGroups: true });
    expect(fetch).toMatchObject({ users: 0, groups: 0 });
    const plan = computePlan(desired, live, config.policy, capabilities);
    expect(checkGuards(plan, config.policy, desired, live, { allowMassRemoval: false })).toEqual([]);
    const text = renderText([{ target: { name: target.name, url: target.url, profile: target.profile }, capabilities, fetch, plan, violations: [] }], { color: false });
    expect(text).toContain('Plan: 12 to create');

    const report = await applyPlan({ target: { name: target.name, url: target.url, profile: target.profile }, capabilities, fetch, plan, violations: [] }, client, { concurrency: 4 });
    expect(report.counts).toMatchObject({ created: 12, failed: 0, skipped: 0 });

    const after = await fetchLiveState(client, { includeGroups: true });
    expect(computePlan(desired, after.live, config.policy, capabilities).operations).toEqual([]);
  } finally {
    await client.close();
  }
});

test('examples/library/plan-and-apply.ts, importing the package by its name, plans, applies and converges', async () => {
  const { planAndApply } = await import('../examples/library/plan-and-apply.js');
  let output = '';
  const converged = await planAndApply(path.join(repo.dir, 'scimform.yaml'), repo.env, (text) => (output += text));
  expect(converged).toBe(true);
  expect(output).toContain('Plan: 12 to create');
  expect(output).toMatch(/12 created/);
  expect(repo.emulator.requests.filter((request) => request.method === 'POST')).toHaveLength(12);
  expect(output).not.toContain(repo.env.SCIMFORM_TOKEN);
});

test('examples/library/plan-and-apply.ts goes on past a target that is down, as apply does, and says it did not converge', async () => {
  const { planAndApply } = await import('../examples/library/plan-and-apply.js');
  const files = { 'identities/people.yaml': 'users:\n  - userName: ada@acme.example\n    name: { givenName: Ada, familyName: Lovelace }\n' };
  const multi = await multiTargetRepository({ down: {}, up: {} }, { files });
  try {
    await multi.emulators.down!.close();
    let output = '';
    const converged = await planAndApply(path.join(multi.dir, 'scimform.yaml'), multi.env, (text) => (output += text));
    expect(converged).toBe(false);
    expect(output).toMatch(/^target down failed: could not connect to http:\/\/127\.0\.0\.1:\d+/m);
    expect(multi.emulators.up!.users().map((user) => user.userName)).toEqual(['ada@acme.example']);
  } finally {
    await multi.close();
  }
}, 30_000);
