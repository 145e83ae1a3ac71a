/** `scimform emulate`: the URL is the first stdout line, it serves until interrupted, and bad flags are refused. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { makeContext, type CliIO } from '../../src/cli/context.js';
import { emulatorOptions, run } from '../../src/cli/emulate.js';
import { ScimformError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';

function io(env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const lines: string[] = [];
  let err = '';
  let buffered = '';
  stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
  });
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const cliIO: CliIO = { stdout, stderr, stdin: new PassThrough(), env, cwd: process.cwd() };
  return { cliIO, lines, stderr: () => err };
}

const common = { config: 'scimform.yaml', target: [], color: false, quiet: false, verbose: false };

async function waitFor<T>(probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('timed out');
}

describe('scimform emulate', () => {
  test('prints the URL first, serves SCIM with the token from the environment, and exits 0 when interrupted', async () => {
    const { cliIO, lines, stderr } = io({ SCIMFORM_EMULATOR_TOKEN: 'env-token-0123456789' });
    const controller = new AbortController();
    const options = { ...common, host: '127.0.0.1', port: '0', profile: 'lightstep', maxPageSize: '50', rate429: '0' };
    const exit = run(makeContext(cliIO, common, controller.signal), options, []);
    const url = await waitFor(() => lines[0]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/scim\/v2$/);
    expect(stderr()).toMatch(/profile lightstep, pagination cursor \(max page size 50\), ETags off/);
    expect(stderr()).not.toContain('env-token-0123456789');

    expect((await fetch(`${url}/Users`)).status).toBe(401);
    const config = await fetch(`${url}/ServiceProviderConfig`, { headers: { authorization: 'Bearer env-token-0123456789' } });
    expect(((await config.json()) as { pagination: { maxPageSize: number } }).pagination.maxPageSize).toBe(50);

    controller.abort();
    expect(await exit).toBe(0);
    await expect(fetch(`${url}/Users`)).rejects.toThrow();
  });

  test('--drop-domain: a user created in that domain is answered 201 and not kept, as Lightstep does with a domain it does not allow', async () => {
    const { cliIO, lines, stderr } = io();
    const controller = new AbortController();
    const options = { ...common, host: '127.0.0.1', port: '0', profile: 'lightstep', dropDomain: ['@refused.example'] };
    const exit = run(makeContext(cliIO, common, controller.signal), options, []);
    const url = await waitFor(() => lines[0]);
    expect(stderr()).toMatch(/users created in refused\.example answered 201 and not kept/);
    const create = (userName: string) =>
      fetch(`${url}/Users`, {
        method: 'POST',
        headers: { 'content-type': 'application/scim+json' },
        body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, emails: [{ value: userName, primary: true }] }),
      });
    expect((await create('ann@refused.example')).status).toBe(201);
    expect((await create('bob@kept.example')).status).toBe(201);
    const listed = (await (await fetch(`${url}/Users`)).json()) as { Resources: { userName: string }[] };
    expect(listed.Resources.map((user) => user.userName)).toEqual(['bob@kept.example']);
    controller.abort();
    expect(await exit).toBe(0);
  });

  test.each([
    [{ dropDomain: ['ann@refused.example'] }, '--drop-domain must be an email domain such as example.com, not "ann@refused.example"'],
    [{ dropDomain: [''] }, '--drop-domain must be an email domain such as example.com'],
    [{ port: '-1' }, '--port must be a whole number of at least 0'],
    [{ port: '70000' }, '--port must be at most 65535'],
    [{ rate429: '1.5' }, '--rate-429 must be a fraction between 0 and 1'],
    [{ rate5xx: 'often' }, '--rate-5xx must be a fraction between 0 and 1'],
    [{ maxPageSize: '0' }, '--max-page-size must be a whole number of at least 1'],
    [{ latency: '2.5' }, '--latency must be a whole number of at least 0'],
  ])('refuses %j with a message that names the flag', (options, message) => {
    expect(() => emulatorOptions({ env: {}, cwd: '/tmp' }, options)).toThrow(ScimformError);
    expect(() => emulatorOptions({ env: {}, cwd: '/tmp' }, options)).toThrow(message);
  });

  test.each([
    // case, --token, $SCIMFORM_EMULATOR_TOKEN, message, hint
    ['typographic quotes in --token', '“secret”', undefined, '--token holds a token with characters that cannot be sent in an HTTP header', /plain ASCII.*Give --token the token again/],
    ['a non-breaking space in the environment', undefined, 'sec\u00a0ret', 'environment variable SCIMFORM_EMULATOR_TOKEN holds a token with characters that cannot be sent in an HTTP header', /Give SCIMFORM_EMULATOR_TOKEN the token again/],
    ['a zero-width space', 'sec\u200bret', undefined, '--token holds a token with characters that cannot be sent in an HTTP header', /zero-width/],
    ['a newline inside', undefined, 'two\nlines', 'environment variable SCIMFORM_EMULATOR_TOKEN holds a token with control characters', /the token alone, on one line/],
    ['an empty --token', '', undefined, '--token must not be empty', /leave --token out/],
    // scimform's commands refuse a token shorter than 16 characters: none of them could get in.
    ['a short --token', 'secret-token', undefined, '--token holds a token shorter than 16 characters, which scimform refuses to send', /at least 16 characters.*tokenEnv/],
    ['a short token in the environment', undefined, ' secret\n', 'environment variable SCIMFORM_EMULATOR_TOKEN holds a token shorter than 16 characters, which scimform refuses to send', /Give SCIMFORM_EMULATOR_TOKEN a token of at least 16/],
  ])('refuses a token no client can send: %s, naming where it came from and not the token', (_case, flag, env, message, hint) => {
    const error = (() => {
      try {
        emulatorOptions({ env: env === undefined ? {} : { SCIMFORM_EMULATOR_TOKEN: env }, cwd: '/tmp' }, flag === undefined ? {} : { token: flag });
      } catch (caught) {
        return caught;
      }
      throw new Error('expected a refusal');
    })() as ScimformError;
    expect(error).toBeInstanceOf(ScimformError);
    expect(error.message).toBe(message);
    expect(error.hint).toMatch(hint);
    for (const secret of ['secret', 'sec', 'two']) expect(`${error.message} ${error.hint}`).not.toContain(secret);
  });

  test.each([
    ['surrounding whitespace is dropped, as the client drops it', { SCIMFORM_EMULATOR_TOKEN: ' env-token-0123456789\n' }, {}, 'env-token-0123456789'],
    ['an empty environment variable checks no token', { SCIMFORM_EMULATOR_TOKEN: '' }, {}, undefined],
    ['a token with inner spaces is sent as it is', {}, { token: 'a token with spaces' }, 'a token with spaces'],
  ])('token: %s', (_case, env, options, token) => {
    expect(emulatorOptions({ env, cwd: '/tmp' }, options).token).toBe(token);
  });

  test('startEmulator refuses such a token as well', async () => {
    const { startEmulator } = await import('../../src/emulator/index.js');
    await expect(startEmulator({ token: 'tök' })).rejects.toThrow("the emulator's token is empty or has characters that cannot be sent in an HTTP header");
  });

  test('turns flags into emulator options, with --token over the environment', () => {
    expect(
      emulatorOptions(
        { env: { SCIMFORM_EMULATOR_TOKEN: 'from-env-0123456789' }, cwd: '/work' },
        { host: '::1', port: '8080', profile: 'generic', pagination: 'cursor', data: 'scim.json', token: 'from-flag-0123456789', latency: '5', rate429: '0.1', retryAfter: '2', rateLostResponse: '0.05', seed: '9', requestLog: 'log.jsonl' },
      ),
    ).toEqual({
      host: '::1',
      port: 8080,
      profile: 'generic',
      pagination: 'cursor',
      token: 'from-flag-0123456789',
      dataFile: '/work/scim.json',
      requestLogFile: '/work/log.jsonl',
      faults: { latencyMs: 5, rate429: 0.1, retryAfterSeconds: 2, rateLostResponse: 0.05, seed: 9 },
      keepRequests: false,
    });
  });

  test('a port in use is a clear error', async () => {
    const { startEmulator } = await import('../../src/emulator/index.js');
    const taken = await startEmulator();
    try {
      const port = new URL(taken.url).port;
      const { code, stdout, stderr } = await runCli(['emulate', '--port', port]);
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toBe(`error: cannot listen on 127.0.0.1:${port}: the port is in use (EADDRINUSE)\n  Stop what uses it, or choose another --port (0 picks a free one).\n`);
    } finally {
      await taken.close();
    }
  });

  test.each([
    ['a host name that does not resolve', 'no-such-host.invalid', /^error: cannot listen on no-such-host\.invalid: (no such host name \(ENOTFOUND\)|the host name could not be looked up \(EAI_AGAIN\))\n/],
    ['an address that is not this machine\'s', '192.0.2.1', /^error: cannot listen on 192\.0\.2\.1: the address is not one of this machine's \(EADDRNOTAVAIL\)\n/],
    ['an empty host', '', /^error: --host must not be empty\n/],
  ])('--host with %s is one clear error, not an internal one', async (_case, host, message) => {
    const { code, stdout, stderr } = await runCli(['emulate', '--host', host]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/\n {2}(Give --host|Use 127\.0\.0\.1).* or 0\.0\.0\.0 for every interface\.\n$/);
    expect(stderr).not.toContain('internal error');
  });

  test('the library\'s startEmulator says the same', async () => {
    const { startEmulator } = await import('../../src/emulator/index.js');
    const error = await startEmulator({ host: '192.0.2.1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimformError);
    expect((error as ScimformError).message).toBe("cannot listen on 192.0.2.1: the address is not one of this machine's (EADDRNOTAVAIL)");
  });

  test('a --data file in a folder that does not exist is a clear error, and nothing keeps running', async () => {
    const { code, stdout, stderr } = await runCli(['emulate', '--data', '/nonexistent-folder/data.json']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('error: the folder of the data file /nonexistent-folder/data.json does not exist');
  });

  // The built command, as scripts run it; `npm test` builds first (pretest).
  const bin = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
  test.skipIf(!existsSync(bin))('the built command prints its URL first and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, 'emulate', '--port', '0', '--profile', 'generic'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await waitFor(() => (out.includes('\n') ? out.split('\n')[0] : undefined));
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/scim\/v2$/);
    expect((await fetch(`${url}/ServiceProviderConfig`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  test.skipIf(!existsSync(bin)).each([
    ['and checks no token', {}, 'other machines can reach it, and it checks no token (set SCIMFORM_EMULATOR_TOKEN to require one).'],
    ['with a token', { SCIMFORM_EMULATOR_TOKEN: 'emulator-token-1234' }, 'other machines can reach it.'],
  ])('listening beyond loopback %s, it warns', async (_name, env, expected) => {
    const child = spawn(process.execPath, [bin, 'emulate', '--port', '0', '--host', '0.0.0.0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const warning = await waitFor(() => err.split('\n').find((line) => line.startsWith('warning:')));
    expect(warning).toBe(`warning: the emulator listens on 0.0.0.0, not on loopback: ${expected}`);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).not.toContain('emulator-token-1234');
  });
});
