import { describe, expect, test } from 'vitest';
import { applyPlan } from '../../src/apply/executor.js';
import type { AuditEntry } from '../../src/apply/types.js';
import type { LiveUser } from '../../src/model.js';
import { httpErrorFor, NotSentError, OutcomeUnknownError, ScimHttpError } from '../../src/scim/errors.js';
import { renderApplyReport } from '../../src/apply/report.js';
import type { WriteRequest } from '../../src/plan/types.js';
import { acceptAll, fakeScim, liveUser, op, sleep, targetPlan, type Responder } from './fakes.js';

const httpError = (status: number, detail?: string) =>
  new ScimHttpError(`failed with ${status}`, { status, method: 'POST', path: '/Users', ...(detail ? { detail } : {}) });
const lost = () => new OutcomeUnknownError('POST', '/Users', 'connection reset after the request was sent');

describe('applyPlan: order and concurrency', () => {
  test('sends operations in the order of SPEC §5 whatever their order in the plan', async () => {
    const fake = fakeScim(acceptAll());
    const plan = targetPlan([
      op.deleteUser('d1', 'gone@example.com'),
      op.deleteGroup('g9', 'Old'),
      op.updateUser('u2', 'old@example.com', 'deactivateUser'),
      op.updateGroupMembers('g1', 'Ops', [{ method: 'PATCH', path: '/Groups/g1', body: {} }]),
      op.createGroup('Admins', []),
      op.updateUser('u1', 'jane@example.com', 'reactivateUser'),
      op.createUser('new@example.com'),
    ]);
    await applyPlan(plan, fake.client, { concurrency: 4 });
    expect(fake.writes.map((w) => `${w.method} ${w.path}`)).toEqual([
      'POST /Users',
      'PATCH /Users/u1',
      'POST /Groups',
      'PATCH /Groups/g1',
      'PATCH /Users/u2',
      'DELETE /Groups/g9',
      'DELETE /Users/d1',
    ]);
  });

  test.each([1, 2, 4, 16])('never has more than %i writes in flight', async (concurrency) => {
    const fake = fakeScim(async () => (await sleep(5), { status: 200 }));
    const operations = Array.from({ length: 10 }, (_, i) => op.updateUser(`u${i}`, `u${i}@example.com`));
    const report = await applyPlan(targetPlan(operations), fake.client, { concurrency });
    expect(fake.maxInFlight()).toBe(Math.min(concurrency, 10));
    expect(report.counts.updated).toBe(10);
    expect(fake.writes).toHaveLength(10);
  });

  test('a phase starts only when the previous one has finished', async () => {
    const finished: string[] = [];
    const fake = fakeScim(async (request) => {
      if (request.method === 'PATCH') expect(finished).toHaveLength(3);
      await sleep(request.method === 'POST' ? 10 : 1);
      finished.push(request.path);
      return request.method === 'POST' ? { status: 201, body: { id: `id-${finished.length}` } } : { status: 200 };
    });
    const plan = targetPlan([op.createUser('a@x.io'), op.createUser('b@x.io'), op.createUser('c@x.io'), op.updateUser('u1', 'd@x.io')]);
    const report = await applyPlan(plan, fake.client, { concurrency: 4 });
    expect(report.counts).toMatchObject({ created: 3, updated: 1, failed: 0 });
  });
});

describe('applyPlan: created ids and dependencies', () => {
  test('puts the id of each created user into the group create that refers to it', async () => {
    const fake = fakeScim(acceptAll());
    const plan = targetPlan([op.createUser('jane@example.com'), op.createUser('bob@example.com'), op.createGroup('Admins', ['jane@example.com', 'bob@example.com'])]);
    const report = await applyPlan(plan, fake.client, { concurrency: 1 });
    const groupCreate = fake.writes.find((w) => w.path === '/Groups');
    expect(groupCreate?.body).toEqual({ displayName: 'Admins', members: [{ value: 'new-1' }, { value: 'new-2' }] });
    expect(groupCreate).not.toHaveProperty('refs');
    expect(report.outcomes.map((o) => o.createdId)).toEqual(['new-1', 'new-2', 'new-3']);
  });

  test('leaves out of a group only the members whose create failed, says which and why, and still runs the rest', async () => {
    const fake = fakeScim((request, attempt) => {
      if ((request.body as { userName?: string } | undefined)?.userName === 'bad@example.com') throw httpError(400, 'email domain not allowed');
      return acceptAll()(request, attempt);
    });
    const plan = targetPlan([
      op.createUser('bad@example.com'),
      op.createUser('good@example.com'),
      op.createGroup('Admins', ['bad@example.com', 'good@example.com']),
      op.createGroup('Ops', ['good@example.com']),
      op.updateUser('u1', 'old@example.com', 'deactivateUser'),
    ]);
    const report = await applyPlan(plan, fake.client, { concurrency: 2 });
    expect(report.outcomes.map((o) => [o.key, o.status])).toEqual([
      ['user:bad@example.com', 'failed'],
      ['user:good@example.com', 'done'],
      ['group:Admins', 'partial'],
      ['group:Ops', 'done'],
      ['user:old@example.com', 'done'],
    ]);
    expect(report.outcomes[0]?.message).toBe('HTTP 400: email domain not allowed');
    expect(report.outcomes[2]).toMatchObject({
      notAdded: ['bad@example.com'],
      message: "not added: bad@example.com (its create failed); the group's other changes were sent, and a re-run adds the missing members once they exist",
    });
    expect(fake.writes.find((w) => (w.body as { displayName?: string }).displayName === 'Admins')?.body).toEqual({ displayName: 'Admins', members: [{ value: 'new-1' }] });
    expect(report.counts).toMatchObject({ created: 3, deactivated: 1, failed: 1, skipped: 0 });
    expect(fake.writes).toHaveLength(5);
  });

  describe('a group update without the members whose create failed', () => {
    const addBad = { op: 'add', path: 'members', value: [{ value: 'bad@example.com' }] };
    const patchOf = (operations: unknown[], extra: Partial<WriteRequest> = {}): WriteRequest => ({ method: 'PATCH', path: '/Groups/g1', body: { Operations: operations }, ...extra });
    const badRef = (pointer: string) => ({ refs: [{ pointer, operation: 'user:bad@example.com' }] });
    const removeGone = { op: 'remove', path: 'members[value eq "gone"]' };
    const addLive = { op: 'add', path: 'members', value: [{ value: 'live-1' }] };
    type Case = { name: string; requests: WriteRequest[]; sent: [unknown, string | undefined][]; status: string; message: string };
    const cases: Case[] = [
      {
        name: 'adds of existing users and removals are still sent, with the If-Match the plan saw',
        requests: [patchOf([{ op: 'add', path: 'members', value: [{ value: 'bad@example.com' }, { value: 'live-1' }] }, removeGone], { ifMatch: 'W/"1"', ...badRef('/Operations/0/value/0/value') })],
        sent: [[{ Operations: [addLive, removeGone] }, 'W/"1"']],
        status: 'partial',
        message: "not added: bad@example.com (its create failed); the group's other changes were sent, and a re-run adds the missing members once they exist",
      },
      {
        name: 'a chunk left with nothing to send is not sent, and its If-Match goes with the next chunk',
        requests: [patchOf([addBad], { ifMatch: 'W/"1"', ...badRef('/Operations/0/value/0/value') }), patchOf([addLive]), patchOf([removeGone])],
        sent: [
          [{ Operations: [addLive] }, 'W/"1"'],
          [{ Operations: [removeGone] }, undefined],
        ],
        status: 'partial',
        message: "not added: bad@example.com (its create failed); the group's other changes were sent, and a re-run adds the missing members once they exist",
      },
      {
        name: 'an update whose only change was adding that user is skipped, and says so',
        requests: [patchOf([addBad], { ifMatch: 'W/"1"', ...badRef('/Operations/0/value/0/value') })],
        sent: [],
        status: 'skipped',
        message: 'not sent: its only change was adding bad@example.com (its create failed)',
      },
    ];

    test.each(cases)('$name', async ({ requests, sent, status, message }) => {
      const fake = fakeScim((request) => {
        if (request.method === 'POST') throw httpError(400, 'email domain not allowed');
        return { status: 200 };
      });
      const report = await applyPlan(targetPlan([op.createUser('bad@example.com'), op.updateGroupMembers('g1', 'Ops', requests)]), fake.client, { concurrency: 1 });
      expect(report.outcomes[1]).toMatchObject({ status, message, notAdded: ['bad@example.com'] });
      expect(fake.writes.filter((w) => w.method === 'PATCH').map((w) => [w.body, w.ifMatch])).toEqual(sent);
    });
  });

  test('manual operations are never sent and do not count as failures', async () => {
    const fake = fakeScim(acceptAll());
    const report = await applyPlan(targetPlan([op.manual(1, 'group Admins: add jane@example.com'), op.createUser('jane@example.com')]), fake.client, { concurrency: 1 });
    expect(fake.writes).toHaveLength(1);
    expect(report.outcomes[0]).toMatchObject({ status: 'manual', message: "group Admins: add jane@example.com: this target's groups are read-only" });
    expect(report.counts).toMatchObject({ created: 1, manual: 1, failed: 0 });
  });
});

describe('applyPlan: creates are safe to retry', () => {
  const jane = () => liveUser('live-1', 'Jane@Example.com', { externalId: 'E-1' });
  type Case = { name: string; respond: (users: LiveUser[]) => Responder; users?: LiveUser[]; externalId?: string; status: string; writes: number; message?: RegExp };
  const cases: Case[] = [
    {
      name: 'response lost, the user is there: adopted, not sent again',
      respond: (users) => () => (users.push(jane()), Promise.reject(lost())),
      status: 'adopted',
      writes: 1,
    },
    {
      name: 'response lost, the user is not there: sent again once',
      respond: () => (_request, attempt) => (attempt === 1 ? Promise.reject(lost()) : { status: 201, body: { id: 'new-1' } }),
      status: 'done',
      writes: 2,
    },
    {
      name: 'a 503 on POST is ambiguous too: looked up before resending',
      respond: (users) => () => (users.push(jane()), Promise.reject(httpError(503))),
      status: 'adopted',
      writes: 1,
    },
    {
      name: 'outcome never known and never found: gives up after 3 attempts',
      respond: () => () => Promise.reject(lost()),
      status: 'failed',
      writes: 3,
      message: /^POST \/Users may or may not have been applied: connection reset after the request was sent; sent 3 times, and the user jane@example.com is not on the server$/,
    },
    {
      name: '409 with the userName taken: adopted',
      respond: () => () => Promise.reject(httpError(409, 'userName taken')),
      users: [jane()],
      status: 'adopted',
      writes: 1,
    },
    {
      name: '409 explained by the externalId: adopted',
      respond: () => () => Promise.reject(httpError(409, 'externalId taken')),
      users: [liveUser('live-2', 'jane.doe@example.com', { externalId: 'E-1' })],
      externalId: 'E-1',
      status: 'adopted',
      writes: 1,
    },
    {
      name: '409 nothing explains: failed with the server detail, not retried',
      respond: () => () => Promise.reject(httpError(409, 'email already used by a deleted user')),
      status: 'failed',
      writes: 1,
      message: /^HTTP 409: email already used by a deleted user/,
    },
    {
      name: '409 from a user with another externalId: not adopted',
      respond: () => () => Promise.reject(httpError(409, 'userName taken')),
      users: [jane()],
      externalId: 'E-2',
      status: 'failed',
      writes: 1,
      message: /has externalId "E-1", not "E-2"; not adopted/,
    },
  ];

  test.each(cases)('$name', async ({ respond, users = [], externalId, status, writes, message }) => {
    const live = [...users];
    const userResponder = respond(live);
    const fake = fakeScim((request, attempt) => (request.path === '/Groups' ? { status: 201, body: { id: 'g-1' } } : userResponder(request, attempt)), { users: live });
    const plan = targetPlan([op.createUser('jane@example.com', externalId ? { externalId } : {}), op.createGroup('Admins', ['jane@example.com'])]);
    const report = await applyPlan(plan, fake.client, { concurrency: 1 });
    const [create, group] = report.outcomes;
    expect(create?.status).toBe(status);
    if (message) expect(create?.message).toMatch(message);
    const userWrites = fake.writes.filter((w) => w.path === '/Users');
    expect(userWrites).toHaveLength(writes);
    if (status === 'adopted') {
      expect(group?.status).toBe('done');
      const groupBody = fake.writes.find((w) => w.path === '/Groups')?.body as { members: { value: string }[] };
      expect(groupBody.members).toEqual([{ value: create?.createdId }]);
    }
    if (status === 'failed') {
      expect(group).toMatchObject({ status: 'partial', notAdded: ['jane@example.com'] });
      expect(fake.writes.find((w) => w.path === '/Groups')?.body).toEqual({ displayName: 'Admins', members: [] });
    }
  });
});

describe('applyPlan: a create whose outcome stays unknown is retried as every request is', () => {
  test('it waits as the client says, then looks, then sends again where the client left off, within its attempts', async () => {
    let attempts = 0;
    const startedAt = Date.now();
    // As the client reports it: the second send was retried once itself (a 429), then went unknown.
    const fake = fakeScim(() => {
      attempts += attempts === 1 ? 2 : 1;
      return Promise.reject(Object.assign(lost(), { retry: { attempts, startedAt, ...(attempts === 1 ? { retryAfterMs: 2_000 } : {}) } }));
    });
    const report = await applyPlan(targetPlan([op.createUser('jane@example.com')]), fake.client, { concurrency: 1 });
    expect(fake.log).toEqual([
      'POST /Users',
      'wait 1',
      'findUserByUserName jane@example.com',
      'POST /Users',
      'wait 3',
      'findUserByUserName jane@example.com',
    ]);
    expect(fake.waits).toEqual([
      { attempts: 1, startedAt, retryAfterMs: 2_000 },
      { attempts: 3, startedAt },
    ]);
    expect(fake.continued).toEqual([undefined, { attempts: 1, startedAt, retryAfterMs: 2_000 }]);
    expect(report.outcomes[0]?.message).toMatch(/; sent 3 times, and the user jane@example\.com is not on the server$/);
  });

  test('a writer that does not say where the POST stands counts one attempt per write', async () => {
    const fake = fakeScim(() => Promise.reject(lost()), { maxAttempts: 2 });
    const report = await applyPlan(targetPlan([op.createUser('jane@example.com')]), fake.client, { concurrency: 1 });
    expect(fake.waits.map((wait) => wait.attempts)).toEqual([1, 2]);
    expect(new Set(fake.waits.map((wait) => wait.startedAt)).size).toBe(1);
    expect(fake.writes).toHaveLength(2);
    expect(report.outcomes[0]).toMatchObject({ status: 'failed', message: expect.stringMatching(/; sent 2 times,/) });
  });
});

describe('applyPlan: updates and removals', () => {
  test.each([
    { name: '412 on PATCH is stale, not forced', kind: 'updateUser' as const, error: 412, status: 'stale', message: /changed on the server since the plan \(HTTP 412\)/ },
    { name: '404 on PATCH is stale', kind: 'updateUser' as const, error: 404, status: 'stale', message: /no longer exists/ },
    { name: '404 on DELETE is done: already gone', kind: 'deleteUser' as const, error: 404, status: 'done', message: /already gone/ },
    { name: '412 on DELETE is stale', kind: 'deleteUser' as const, error: 412, status: 'stale', message: /HTTP 412/ },
    { name: '400 on PATCH fails with the detail', kind: 'updateUser' as const, error: 400, status: 'failed', message: /^HTTP 400: bad value$/ },
  ])('$name', async ({ kind, error, status, message }) => {
    const fake = fakeScim(() => Promise.reject(httpError(error, 'bad value')));
    const operation = kind === 'deleteUser' ? op.deleteUser('u1', 'jane@example.com') : op.updateUser('u1', 'jane@example.com', kind, '"v1"');
    const report = await applyPlan(targetPlan([operation]), fake.client, { concurrency: 1 });
    expect(report.outcomes[0]).toMatchObject({ status, httpStatus: error });
    expect(report.outcomes[0]?.message).toMatch(message);
    expect(fake.writes).toHaveLength(1);
  });

  test('the If-Match the plan saw is sent as planned', async () => {
    const fake = fakeScim(() => ({ status: 200 }));
    await applyPlan(targetPlan([op.updateUser('u1', 'jane@example.com', 'updateUser', 'W/"3"')]), fake.client, { concurrency: 1 });
    expect(fake.writes[0]?.ifMatch).toBe('W/"3"');
  });

  test('a chunked group update sends its requests in order, each later one with the version the previous one made', async () => {
    const fake = fakeScim((request) => ({ status: 200, etag: `W/"after-${request.body as string}"` }));
    const requests = [
      { method: 'PATCH' as const, path: '/Groups/g1', body: 'one', ifMatch: 'W/"1"' },
      { method: 'PATCH' as const, path: '/Groups/g1', body: 'two', ifMatch: 'W/"1"' },
      { method: 'PATCH' as const, path: '/Groups/g1', body: 'three' },
    ];
    const report = await applyPlan(targetPlan([op.updateGroupMembers('g1', 'Big', requests)]), fake.client, { concurrency: 1 });
    expect(fake.writes.map((w) => [w.body, w.ifMatch])).toEqual([
      ['one', 'W/"1"'],
      ['two', 'W/"after-one"'],
      ['three', undefined],
    ]);
    expect(report.counts.updated).toBe(1);
  });

  test('a chunked group update that fails half-way says how far it got', async () => {
    const fake = fakeScim((request) => {
      if (request.body === 'two') throw httpError(400, 'too many members');
      return { status: 204 };
    });
    const requests = ['one', 'two', 'three'].map((body) => ({ method: 'PATCH' as const, path: '/Groups/g1', body }));
    const report = await applyPlan(targetPlan([op.updateGroupMembers('g1', 'Big', requests)]), fake.client, { concurrency: 1 });
    expect(report.outcomes[0]).toMatchObject({ status: 'failed', message: 'HTTP 400: too many members (request 2 of 3; the first 1 were applied)' });
    expect(fake.writes).toHaveLength(2);
  });
});

describe('applyPlan: a rejected token', () => {
  const context = { target: 'lightstep', url: 'https://api.lightstep.com/scim/v2', tokenEnv: 'LIGHTSTEP_SCIM_TOKEN', profile: 'lightstep' as const };
  const refused = (status: 401 | 403) => (request: WriteRequest) => Promise.reject(httpErrorFor(context, request, status, { detail: 'nope' }));
  const plan = () =>
    targetPlan([
      op.createUser('a@example.com'),
      op.createUser('b@example.com'),
      op.updateUser('u1', 'c@example.com'),
      op.updateUser('u2', 'd@example.com', 'deactivateUser'),
    ]);
  const TOKEN_HINT =
    "the SCIM service of target lightstep rejected the token in $LIGHTSTEP_SCIM_TOKEN (401 Unauthorized). $LIGHTSTEP_SCIM_TOKEN must hold a SCIM token (Lightstep: Organization Settings › SCIM provisioning), not the general Lightstep API key. Lightstep's Okta guide instead uses https://api.lightstep.com/public/v0.2/<organization> with an Admin API key: the URL is configuration, so make the token and the url of target lightstep belong together.";

  test('a 401 on a write says what planning says, and no further write is started: each says why it was not', async () => {
    const fake = fakeScim(refused(401));
    const report = await applyPlan(plan(), fake.client, { concurrency: 1 });
    expect(fake.writes).toHaveLength(1);
    expect(report.outcomes.map((o) => o.status)).toEqual(['failed', 'not-started', 'not-started', 'not-started']);
    expect(report.outcomes[0]).toMatchObject({ httpStatus: 401, message: TOKEN_HINT });
    expect(report.outcomes[1]?.message).toBe('not started: the service rejected the token on an earlier request (HTTP 401) and would reject this one too');
    expect(report).toMatchObject({ interrupted: false, stopped: 'the service rejected the token (HTTP 401), so no further write was started; fix the token (see the 401 above) and run apply again' });
    expect(renderApplyReport(report, { color: false }).split('\n').at(-2)).toBe(`Stopped: ${report.stopped}.`);
  });

  test('writes already in flight finish; none starts after the 401', async () => {
    let first = true;
    const fake = fakeScim(async (request, attempt) => {
      if (first) {
        first = false;
        await sleep(1);
        throw httpErrorFor(context, request, 401, undefined);
      }
      await sleep(10);
      return acceptAll()(request, attempt);
    });
    const report = await applyPlan(targetPlan(Array.from({ length: 8 }, (_, i) => op.updateUser(`u${i}`, `u${i}@example.com`))), fake.client, { concurrency: 3 });
    expect(fake.writes).toHaveLength(3);
    expect(report.counts).toMatchObject({ failed: 1, updated: 2, notStarted: 5 });
  });

  test('a 401 on the look-up after a lost create: its outcome is unknown, and nothing further is sent', async () => {
    const fake = fakeScim(() => Promise.reject(lost()));
    const client = { ...fake.client, findUserByUserName: () => Promise.reject(httpErrorFor(context, { method: 'GET', path: '/Users' }, 401, undefined)) };
    const report = await applyPlan(plan(), client, { concurrency: 1 });
    expect(fake.writes).toHaveLength(1);
    expect(report.outcomes.map((o) => o.status)).toEqual(['unknown', 'not-started', 'not-started', 'not-started']);
    expect(report.outcomes[0]?.message).toContain(`the look-up that would tell failed too (${TOKEN_HINT})`);
    expect(report.stopped).toBeDefined();
  });

  test('a 403 shows the hint too, but the other writes are still sent: a 403 may concern one resource', async () => {
    const fake = fakeScim((request, attempt) => (request.path === '/Users/u1' ? refused(403)(request) : acceptAll()(request, attempt)));
    const report = await applyPlan(plan(), fake.client, { concurrency: 1 });
    expect(fake.writes).toHaveLength(4);
    expect(report.outcomes[2]).toMatchObject({
      status: 'failed',
      message:
        "the SCIM service of target lightstep refused PATCH https://api.lightstep.com/scim/v2/Users/u1 (403 Forbidden): nope. SCIM provisioning needs the Lightstep Enterprise plan and a SCIM token allowed to manage users: check the plan, and that $LIGHTSTEP_SCIM_TOKEN holds " +
        'the SCIM token (Organization Settings › SCIM provisioning), not the general Lightstep API key, which may be refused this way.',
    });
    expect(report.stopped).toBeUndefined();
    expect(report.counts).toMatchObject({ created: 2, deactivated: 1, failed: 1, notStarted: 0 });
  });
});

describe('applyPlan: interruption', () => {
  test('after the signal nothing new starts; what was in flight finishes and the rest is not started', async () => {
    const controller = new AbortController();
    const fake = fakeScim(async () => {
      await sleep(1);
      controller.abort();
      await sleep(5);
      return { status: 200 };
    });
    const operations = Array.from({ length: 6 }, (_, i) => op.updateUser(`u${i}`, `u${i}@example.com`));
    operations.push(op.updateUser('d1', 'old@example.com', 'deactivateUser'));
    const report = await applyPlan(targetPlan(operations), fake.client, { concurrency: 2, signal: controller.signal });
    expect(report.interrupted).toBe(true);
    expect(fake.writes).toHaveLength(2);
    expect(report.outcomes.map((o) => o.status)).toEqual(['done', 'done', 'not-started', 'not-started', 'not-started', 'not-started', 'not-started']);
    expect(report.counts).toMatchObject({ updated: 2, notStarted: 5 });
  });

  test('a request that outlives the drain time is reported with an unknown outcome, in the summary and the audit log', async () => {
    const controller = new AbortController();
    const fake = fakeScim(() => {
      controller.abort();
      return new Promise(() => {});
    });
    const entries: AuditEntry[] = [];
    const started = Date.now();
    const report = await applyPlan(targetPlan([op.updateUser('u1', 'a@example.com'), op.updateUser('u2', 'b@example.com')]), fake.client, {
      concurrency: 1,
      signal: controller.signal,
      drainTimeoutMs: 20,
      audit: (entry) => entries.push(entry),
    });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(report.outcomes.map((o) => o.status)).toEqual(['unknown', 'not-started']);
    expect(report.outcomes[0]?.message).toBe('interrupted while its request was in flight: its outcome is unknown (a re-run finds out and converges)');
    expect(report.counts).toMatchObject({ unknown: 1, failed: 0, notStarted: 1 });
    expect(entries).toEqual([expect.objectContaining({ operation: 'user:a@example.com', method: 'PATCH', path: '/Users/u1', status: 'error', outcome: 'unknown' })]);
  });
});

describe('applyPlan: audit and progress', () => {
  test('one audit entry per write call, with no body', async () => {
    const entries: AuditEntry[] = [];
    let clock = 1_700_000_000_000;
    const fake = fakeScim((request, attempt) => {
      clock += 7;
      if (request.method === 'POST' && attempt === 1) return Promise.reject(lost());
      return acceptAll()(request, attempt);
    });
    const plan = targetPlan([op.createUser('jane@example.com'), op.deleteUser('d1', 'old@example.com')]);
    await applyPlan(plan, fake.client, { concurrency: 1, audit: (entry) => entries.push(entry), now: () => clock });
    expect(entries).toEqual([
      { time: '2023-11-14T22:13:20.007Z', target: 'test', operation: 'user:jane@example.com', kind: 'createUser', method: 'POST', path: '/Users', status: 'error', durationMs: 7, outcome: 'unknown', userName: 'jane@example.com' },
      { time: '2023-11-14T22:13:20.014Z', target: 'test', operation: 'user:jane@example.com', kind: 'createUser', method: 'POST', path: '/Users', status: 201, durationMs: 7, outcome: 'applied', userName: 'jane@example.com' },
      { time: '2023-11-14T22:13:20.021Z', target: 'test', operation: 'user:old@example.com', kind: 'deleteUser', method: 'DELETE', path: '/Users/d1', status: 204, durationMs: 7, outcome: 'applied', userName: 'old@example.com' },
    ]);
  });

  test('progress ends with every operation done', async () => {
    const seen: { done: number; total: number; inFlight: number }[] = [];
    const fake = fakeScim(acceptAll());
    const plan = targetPlan([op.createUser('a@example.com'), op.updateUser('u1', 'b@example.com'), op.manual(1, 'group X: add a')]);
    await applyPlan(plan, fake.client, { concurrency: 2, onProgress: (p) => seen.push(p) });
    expect(seen[0]).toEqual({ done: 0, total: 2, failed: 0, skipped: 0, inFlight: 0 });
    expect(seen.at(-1)).toEqual({ done: 2, total: 2, failed: 0, skipped: 0, inFlight: 0 });
    expect(Math.max(...seen.map((p) => p.inFlight))).toBe(1);
  });
});

describe('applyPlan: an audit log that cannot be written', () => {
  const full = () => {
    throw new Error('cannot write the audit log /var/log/scimform.jsonl: ENOSPC (no space left on device)');
  };
  const STOPPED =
    'cannot write the audit log /var/log/scimform.jsonl: ENOSPC (no space left on device), so no further write was started; ' +
    'the log has no line for user:a@example.com, whose outcomes this report gives. Run apply again once the log can be written (it converges)';

  test('the write it failed on keeps its outcome; no further write is started, and the report says why', async () => {
    const fake = fakeScim(acceptAll());
    let calls = 0;
    const plan = targetPlan([op.createUser('a@example.com'), op.createUser('b@example.com'), op.updateUser('u1', 'c@example.com')]);
    const report = await applyPlan(plan, fake.client, { concurrency: 1, audit: () => (calls++, full()) });
    expect(fake.writes).toHaveLength(1);
    expect(calls).toBe(1);
    expect(report.outcomes.map((o) => [o.status, o.message])).toEqual([
      ['done', undefined],
      ['not-started', 'not started: the audit log could not be written, and apply starts no write it cannot record'],
      ['not-started', 'not started: the audit log could not be written, and apply starts no write it cannot record'],
    ]);
    expect(report).toMatchObject({ interrupted: false, stopped: STOPPED, counts: { created: 1, failed: 0, notStarted: 2 } });
    expect(renderApplyReport(report, { color: false })).toContain(`Stopped: ${STOPPED}.`);
  });

  test('writes already in flight finish and are reported as they ended; the log is not tried again', async () => {
    let lines = 0;
    const fake = fakeScim(async (request, attempt) => (await sleep(request.path === '/Users/u0' ? 1 : 10), acceptAll()(request, attempt)));
    const operations = Array.from({ length: 8 }, (_, i) => op.updateUser(`u${i}`, `u${i}@example.com`));
    const report = await applyPlan(targetPlan(operations), fake.client, { concurrency: 3, audit: () => (lines++, full()) });
    expect(lines).toBe(1);
    expect(fake.writes).toHaveLength(3);
    expect(report.counts).toMatchObject({ updated: 3, failed: 0, notStarted: 5 });
    expect(report.stopped).toContain('the log has no line for user:u0@example.com, user:u1@example.com, user:u2@example.com,');
  });

  test('an operation of several requests sends no more of them', async () => {
    const fake = fakeScim(acceptAll());
    const requests: WriteRequest[] = [1, 2, 3].map(() => ({ method: 'PATCH', path: '/Groups/g1', body: {} }));
    const report = await applyPlan(targetPlan([op.updateGroupMembers('g1', 'Ops', requests)]), fake.client, { concurrency: 1, audit: full });
    expect(fake.writes).toHaveLength(1);
    expect(report.outcomes[0]).toMatchObject({
      status: 'failed',
      message: 'stopped after request 1 of 3, as the audit log could not be written, and apply starts no write it cannot record',
    });
  });
});

describe('applyPlan: interruption inside an operation', () => {
  test('a signal after the last operation finished interrupts nothing', async () => {
    const controller = new AbortController();
    const fake = fakeScim(() => (controller.abort(), { status: 200 }));
    const report = await applyPlan(targetPlan([op.updateUser('u1', 'a@example.com')]), fake.client, { concurrency: 1, signal: controller.signal });
    expect(report).toMatchObject({ interrupted: false, counts: { updated: 1 } });
  });

  describe('a create whose answer was lost when the signal came is still looked up, so its outcome is known', () => {
    test.each<{ name: string; live: LiveUser[]; lookUp?: () => Promise<LiveUser | undefined>; status: string; message: RegExp; counts: object }>([
      {
        name: 'the server has the user: adopted, and counted as created',
        live: [liveUser('live-1', 'a@example.com')],
        status: 'adopted',
        message: /^the outcome of the create was unknown \(no response\): adopted the existing user a@example\.com \(id live-1\)$/,
        counts: { created: 1, failed: 0, unknown: 0 },
      },
      {
        name: 'the server does not have it: failed, and not sent again',
        live: [],
        status: 'failed',
        message: /; sent 1 time, and the user a@example\.com is not on the server \(not sent again: apply was interrupted\)$/,
        counts: { created: 0, failed: 1, unknown: 0 },
      },
      {
        name: 'the look-up cannot be made: unknown, not failed',
        live: [],
        lookUp: () => Promise.reject(new Error('GET /Users?filter=… failed: the connection broke')),
        status: 'unknown',
        message: /; the look-up that would tell failed too \(GET \/Users\?filter=… failed: the connection broke\), so whether the user a@example\.com exists is unknown: a re-run looks again and converges$/,
        counts: { created: 0, failed: 0, unknown: 1 },
      },
    ])('$name', async ({ live, lookUp, status, message, counts }) => {
      const controller = new AbortController();
      const fake = fakeScim(() => (controller.abort(), Promise.reject(lost())), { users: live });
      const asked: unknown[] = [];
      const client = {
        ...fake.client,
        findUserByUserName: (userName: string, read?: unknown) => (asked.push(read), lookUp ? lookUp() : fake.client.findUserByUserName(userName)),
      };
      const report = await applyPlan(targetPlan([op.createUser('a@example.com')]), client, { concurrency: 1, signal: controller.signal });
      expect(asked).toEqual([{ evenIfInterrupted: true }]);
      expect(fake.writes).toHaveLength(1);
      expect(report.outcomes[0]).toMatchObject({ status, message: expect.stringMatching(message) });
      expect(report.counts).toMatchObject(counts);
    });
  });

  test('a PATCH met by 412 after a group write of this apply, whose second sending is cut off before it leaves, is stale, not "not started"', async () => {
    const controller = new AbortController();
    const live = [liveUser('u1', 'jane@example.com', { version: 'W/"2"' })];
    const fake = fakeScim((request) => {
      if (request.path === '/Groups/g1') return { status: 200 };
      if (request.ifMatch === 'W/"1"') {
        // The group write moved the user's version; the signal comes while apply reads the user back.
        controller.abort();
        return Promise.reject(httpError(412, 'version mismatch'));
      }
      return Promise.reject(new NotSentError(request.method, request.path));
    }, { users: live });
    const group = { ...op.updateGroupMembers('g1', 'eng', [{ method: 'PATCH' as const, path: '/Groups/g1', body: {} }]), remove: [{ userName: 'jane@example.com', id: 'u1' }] };
    const report = await applyPlan(targetPlan([group, op.updateUser('u1', 'jane@example.com', 'deactivateUser', 'W/"1"')]), fake.client, { concurrency: 1, signal: controller.signal });
    expect(fake.writes.map((write) => `${write.path} ${write.ifMatch ?? ''}`)).toEqual(['/Groups/g1 ', '/Users/u1 W/"1"', '/Users/u1 W/"2"']);
    expect(report.outcomes.find((outcome) => outcome.key === 'user:jane@example.com')).toMatchObject({ status: 'stale', httpStatus: 412 });
  });

  test('a create whose outcome is unknown is looked up but not sent again after the signal', async () => {
    const controller = new AbortController();
    const fake = fakeScim(() => {
      controller.abort();
      return Promise.reject(lost());
    });
    const report = await applyPlan(targetPlan([op.createUser('a@example.com')]), fake.client, { concurrency: 1, signal: controller.signal });
    expect(fake.writes).toHaveLength(1);
    expect(fake.reads).toEqual(['findUserByUserName a@example.com']);
    expect(report.outcomes[0]?.message).toMatch(/not sent again: apply was interrupted\)$/);
    expect(report.interrupted).toBe(true);
  });

  test('the later chunks of an operation are not started after the signal', async () => {
    const controller = new AbortController();
    const fake = fakeScim(() => (controller.abort(), { status: 204 }));
    const requests = ['one', 'two'].map((body) => ({ method: 'PATCH' as const, path: '/Groups/g1', body }));
    const report = await applyPlan(targetPlan([op.updateGroupMembers('g1', 'Big', requests)]), fake.client, { concurrency: 1, signal: controller.signal });
    expect(fake.writes).toHaveLength(1);
    expect(report.outcomes[0]).toMatchObject({ status: 'failed', message: 'interrupted after request 1 of 2; the rest were not sent (a re-run converges)' });
    expect(report.interrupted).toBe(true);
  });
});

describe('applyPlan: scale', () => {
  test('10,000 operations with a dependent group run in linear time (the default 5 s test timeout catches a quadratic step)', async () => {
    const fake = fakeScim(acceptAll());
    const userNames = Array.from({ length: 10_000 }, (_, i) => `user${i}@example.com`);
    const plan = targetPlan([...userNames.map((userName) => op.createUser(userName)), op.createGroup('Everyone', userNames)]);
    let updates = 0;
    const report = await applyPlan(plan, fake.client, { concurrency: 8, onProgress: () => updates++ });
    expect(report.counts.created).toBe(10_001);
    expect(updates).toBe(2 * 10_001 + 1);
    const members = (fake.writes.at(-1)?.body as { members: { value: string }[] }).members;
    expect(members).toHaveLength(10_000);
    expect(members.every((member) => member.value.startsWith('new-'))).toBe(true);
  });
});
