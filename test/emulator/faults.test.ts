/** Fault injection (reproducible with a seed), lost responses, and the request log. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { startEmulator, type EmulatorFaults, type RunningEmulator } from '../../src/emulator/index.js';
import { client, isScimError, user, USER } from './http.js';

const running: RunningEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
});

async function start(faults: EmulatorFaults | undefined, extra: Parameters<typeof startEmulator>[0] = {}) {
  const emulator = await startEmulator({ ...extra, ...(faults ? { faults } : {}) });
  running.push(emulator);
  return emulator;
}

/** Sends the same sequence of requests, one at a time, and returns what each got: a status, or "reset". */
async function outcomes(emulator: RunningEmulator, n: number): Promise<string[]> {
  const scim = client(emulator.url);
  const seen: string[] = [];
  for (let i = 0; i < n; i++) {
    try {
      const response = i % 2 === 0 ? await scim.post('/Users', user(`seq${i}@example.com`)) : await scim.get('/Users?count=1');
      seen.push(String(response.status));
    } catch {
      seen.push('reset');
    }
  }
  return seen;
}

describe('fault injection', () => {
  const mixed: EmulatorFaults = { rate429: 0.2, rate5xx: 0.2, rateReset: 0.1, rateLostResponse: 0.2, seed: 42 };

  test('the same seed and the same requests give the same faults', async () => {
    const first = await outcomes(await start(mixed), 40);
    const second = await outcomes(await start(mixed), 40);
    expect(second).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['201', '200', '429', '503', 'reset']));
  });

  test('another seed gives another sequence', async () => {
    const first = await outcomes(await start(mixed), 40);
    const other = await outcomes(await start({ ...mixed, seed: 7 }), 40);
    expect(other).not.toEqual(first);
  });

  test.each<[string, EmulatorFaults, string | null]>([
    ['429 without Retry-After by default', { rate429: 1 }, null],
    ['429 with Retry-After when asked', { rate429: 1, retryAfterSeconds: 3 }, '3'],
  ])('%s', async (_name, faults, retryAfter) => {
    const response = await client((await start(faults)).url).get('/Users');
    expect(isScimError(response, 429)).toBe(true);
    expect(response.headers.get('retry-after')).toBe(retryAfter);
  });

  test('5xx faults are 503 with a SCIM error body', async () => {
    expect(isScimError(await client((await start({ rate5xx: 1 })).url).get('/Users'), 503)).toBe(true);
  });

  test('a reset connection does not apply the change', async () => {
    const emulator = await start({ rateReset: 1 });
    await expect(client(emulator.url).post('/Users', user('reset@example.com'))).rejects.toThrow();
    expect(emulator.users()).toEqual([]);
    expect(emulator.requests).toEqual([expect.objectContaining({ method: 'POST', status: 0, fault: 'reset' })]);
  });

  test('a lost response applies the write, then drops the connection', async () => {
    const emulator = await start({ rateLostResponse: 1 });
    await expect(client(emulator.url).post('/Users', user('lost@example.com'))).rejects.toThrow();
    expect(emulator.users()).toEqual([expect.objectContaining({ userName: 'lost@example.com' })]);
    expect(emulator.requests).toEqual([expect.objectContaining({ method: 'POST', path: '/Users', status: 201, fault: 'lostResponse' })]);
    // Reads are never "lost": they change nothing.
    expect((await client(emulator.url).get('/Users')).status).toBe(200);
  });

  test('onlyMethods limits faults to those methods', async () => {
    const emulator = await start({ rate5xx: 1, onlyMethods: ['POST'] });
    const scim = client(emulator.url);
    expect((await scim.get('/Users')).status).toBe(200);
    expect((await scim.post('/Users', user('only@example.com'))).status).toBe(503);
  });

  test('latency delays each response by at least the latency, and not much more', async () => {
    const scim = client((await start({ latencyMs: 30 })).url);
    const durations: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      await scim.get('/ServiceProviderConfig');
      durations.push(performance.now() - started);
    }
    expect(Math.min(...durations)).toBeGreaterThanOrEqual(30);
    // Loose, as a busy CI machine delays answers: the bound catches the latency counted twice, not a
    // millisecond's overshoot (the benchmark measures that, on a quiet machine).
    expect(durations.sort((a, b) => a - b)[5]).toBeLessThan(58);
  });

  test('an answer shows the resource as it was handled, though it changes while the answer waits out its latency', async () => {
    const emulator = await start({ latencyMs: 300, onlyMethods: ['GET'] });
    const scim = client(emulator.url);
    const created = await scim.post('/Users', { ...user('during@example.com'), name: { givenName: 'Ada', familyName: 'Before' }, emails: [{ value: 'during@example.com', type: 'work' }] });
    const read = scim.get(`/Users/${created.body.id}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await scim.patch(`/Users/${created.body.id}`, [
      { op: 'replace', path: 'name.familyName', value: 'After' },
      { op: 'replace', path: 'emails[type eq "work"].value', value: 'after@example.com' },
    ]);
    const answer = await read;
    expect(answer.body.name).toMatchObject({ givenName: 'Ada', familyName: 'Before' });
    expect(answer.body.emails).toMatchObject([{ value: 'during@example.com', type: 'work' }]);
    expect(answer.body.meta.version).toBe(created.body.meta.version);
  });

  test('latency counts from arrival: a write is stored before its late answer, and requests sent together are answered together', async () => {
    const emulator = await start({ latencyMs: 300, onlyMethods: ['POST'] });
    const scim = client(emulator.url);
    const started = performance.now();
    const pending = Array.from({ length: 8 }, (_, i) => scim.post('/Users', user(`late${i}@example.com`)));
    await new Promise((resolve) => setTimeout(resolve, 150));
    // Mid-wait, the creates are visible, as on a service whose answers are slow to come back.
    expect((await scim.get('/Users')).body.totalResults).toBe(8);
    const answered = await Promise.all(pending);
    expect(answered.map((response) => response.status)).toEqual(Array(8).fill(201));
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(1_500);
  });

  test('setFaults turns faults on and off on a running emulator', async () => {
    const emulator = await start(undefined);
    const scim = client(emulator.url);
    emulator.setFaults({ rate5xx: 1 });
    expect((await scim.get('/Users')).status).toBe(503);
    emulator.setFaults(undefined);
    expect((await scim.get('/Users')).status).toBe(200);
  });
});

describe('request log', () => {
  test('records method, path below the base, query, status, body and fault, in memory and as JSON lines', async () => {
    const logFile = join(mkdtempSync(join(tmpdir(), 'scimform-emulator-')), 'requests.jsonl');
    const emulator = await start(undefined, { requestLogFile: logFile, token: 'log-token' });
    const scim = client(emulator.url, { authorization: 'Bearer log-token' });
    const created = await scim.post('/Users', user('log@example.com'));
    await scim.list('Users', { filter: 'userName eq "log@example.com"' });
    await scim.patch(`/Users/${created.body.id}`, [{ op: 'replace', path: 'active', value: false }]);
    await client(emulator.url).get('/Users');

    const expected = [
      { method: 'POST', path: '/Users', query: {}, status: 201, body: user('log@example.com') },
      { method: 'GET', path: '/Users', query: { filter: 'userName eq "log@example.com"' }, status: 200 },
      { method: 'PATCH', path: `/Users/${created.body.id}`, query: {}, status: 200, body: { Operations: [{ op: 'replace', path: 'active', value: false }] } },
      { method: 'GET', path: '/Users', query: {}, status: 401 },
    ];
    expect(emulator.requests).toMatchObject(expected);
    expect(emulator.requests.every((r) => !Number.isNaN(Date.parse(r.time)) && r.fault === undefined)).toBe(true);
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toEqual(JSON.parse(JSON.stringify(emulator.requests)));
    expect(readFileSync(logFile, 'utf8')).not.toContain('log-token');
  });

  test('appends to an existing log, and a log that cannot be opened stops the start with the file named', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'scimform-emulator-'));
    const logFile = join(folder, 'requests.jsonl');
    writeFileSync(logFile, '{"earlier":true}\n');
    const emulator = await start(undefined, { requestLogFile: logFile });
    await client(emulator.url).get('/ServiceProviderConfig');
    expect(readFileSync(logFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line))).toMatchObject([{ earlier: true }, { method: 'GET', path: '/ServiceProviderConfig' }]);

    const missing = join(folder, 'no-such-folder', 'requests.jsonl');
    await expect(start(undefined, { requestLogFile: missing })).rejects.toThrow(`the request log ${missing} cannot be opened`);
  });

  test('a body nested deeper than any SCIM attribute is refused with 400, logged without it, and the emulator keeps serving', async () => {
    const logFile = join(mkdtempSync(join(tmpdir(), 'scimform-emulator-')), 'requests.jsonl');
    const emulator = await start(undefined, { requestLogFile: logFile, keepRequests: false });
    const scim = client(emulator.url);
    const deep = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`;
    const refused = await scim.post('/Users', `{"schemas":["${USER}"],"userName":"deep@example.com","x":${deep}}`);
    expect(isScimError(refused, 400, 'invalidSyntax')).toBe(true);
    expect(refused.body.detail).toBe('the request body nests values more than 32 levels deep (at x[0][0][0][0][0][0][0]…), deeper than any SCIM attribute');
    expect((await scim.get('/Users')).status).toBe(200);
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toMatchObject([{ method: 'POST', path: '/Users', status: 400 }, { method: 'GET', path: '/Users', status: 200 }]);
    expect(lines[0].body).toBeUndefined();
  });

  test('keepRequests: false keeps nothing in memory, and the log file still gets every request', async () => {
    const logFile = join(mkdtempSync(join(tmpdir(), 'scimform-emulator-')), 'requests.jsonl');
    const emulator = await start(undefined, { requestLogFile: logFile, keepRequests: false });
    const scim = client(emulator.url);
    await scim.post('/Users', user('unkept@example.com'));
    await scim.get('/Users');
    expect(emulator.requests).toEqual([]);
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toMatchObject([
      { method: 'POST', path: '/Users', status: 201, body: user('unkept@example.com') },
      { method: 'GET', path: '/Users', status: 200 },
    ]);
  });
});
