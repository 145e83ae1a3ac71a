import { describe, expect, test } from 'vitest';
import { applyAndVerify, applyExitCode, renderTargetResult } from '../../src/apply/run.js';
import { OutcomeUnknownError } from '../../src/scim/errors.js';
import { acceptAll, CAPABILITIES, desiredState, desiredUser, fakeScim, liveUser, op, POLICY, targetPlan } from './fakes.js';

describe('applyAndVerify', () => {
  test('applies, reads back, and exits 0 when the target converged', async () => {
    const live = [liveUser('u1', 'jane@example.com')];
    const fake = fakeScim((request, attempt) => (live.push(liveUser('u2', 'bob@example.com')), acceptAll()(request, attempt)), { users: live });
    const result = await applyAndVerify(targetPlan([op.createUser('bob@example.com')]), fake.client, desiredState([desiredUser('jane@example.com'), desiredUser('bob@example.com')]), POLICY, {
      concurrency: 1,
      capabilities: CAPABILITIES,
    });
    expect(result.verification?.converged).toBe(true);
    expect(applyExitCode([result])).toBe(0);
    expect(renderTargetResult(result, { color: false })).toMatch(/^Apply test: 1 created, .*\ntest: converged\.\n$/);
  });

  test('exits 1 when the server did not keep what it accepted', async () => {
    const fake = fakeScim(acceptAll(), { users: [] });
    const result = await applyAndVerify(targetPlan([op.createUser('bob@example.com')]), fake.client, desiredState([desiredUser('bob@example.com')]), POLICY, {
      concurrency: 1,
    });
    expect(result.report.counts.created).toBe(1);
    expect(result.verification?.converged).toBe(false);
    expect(applyExitCode([result])).toBe(1);
    expect(renderTargetResult(result, { color: false })).toContain('bob@example.com: the server accepted the create but does not have the user');
  });

  test('an interrupted apply is not read back and exits 1', async () => {
    const controller = new AbortController();
    const fake = fakeScim(() => {
      controller.abort();
      return Promise.reject(new OutcomeUnknownError('POST', '/Users', 'connection reset'));
    });
    const result = await applyAndVerify(targetPlan([op.createUser('a@example.com'), op.createUser('b@example.com')]), fake.client, desiredState([]), POLICY, {
      concurrency: 1,
      signal: controller.signal,
    });
    expect(result.verification).toBeUndefined();
    expect(fake.reads).toEqual(['findUserByUserName a@example.com']);
    expect(applyExitCode([result])).toBe(1);
  });
});
