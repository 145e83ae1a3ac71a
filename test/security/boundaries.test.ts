/**
 * What scimform refuses at its edges: plain http except to loopback, certificates it cannot
 * verify, identity files outside the repository (by glob or by symlink), YAML alias bombs and
 * oversized files — each refused quickly, with a message, before anything is sent.
 */
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { loadConfig, validateRepository } from '../../src/config/index.js';
import { ScimformError } from '../../src/errors.js';
import type { TargetConfig } from '../../src/model.js';
import { runCli } from '../helpers/cli.js';
import { namedPipes, soon } from '../helpers/pipes.js';
import { createScimClient } from '../../src/scim/index.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A repository in a fresh folder: `files` maps relative paths to contents. Returns its folder. */
function repository(files: Record<string, string>): string {
  const base = mkdtempSync(path.join(tmpdir(), 'scimform-sec-'));
  dirs.push(base);
  const dir = path.join(base, 'repo');
  for (const [file, text] of Object.entries({ 'scimform.yaml': config(), ...files })) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

function config(options: { url?: string; desired?: string[] } = {}): string {
  const desired = (options.desired ?? ['identities/**/*.yaml']).map((glob) => `  - ${JSON.stringify(glob)}\n`).join('');
  return `version: 1\ndesired:\n${desired}targets:\n  t:\n    url: ${options.url ?? 'https://scim.example.com/scim/v2'}\n    tokenEnv: T_TOKEN\n`;
}

const target = (url: string): TargetConfig => ({ name: 't', url, tokenEnv: 'T', profile: 'generic', concurrency: 1, timeoutSeconds: 2, source: { file: 'scimform.yaml', line: 5, column: 3 } });

describe('plain http is refused except to loopback', () => {
  test.each([
    ['https://api.lightstep.com/scim/v2', true],
    ['http://127.0.0.1:8787/scim/v2', true],
    ['http://localhost:8787/scim/v2', true],
    ['http://[::1]:8787/scim/v2', true],
    ['http://api.lightstep.com/scim/v2', false],
    ['http://10.0.0.8/scim/v2', false],
    ['http://localhost.evil.example/scim/v2', false],
    ['http://127.0.0.1.evil.example/scim/v2', false],
    ['ftp://scim.example.com/scim/v2', false],
  ])('%s accepted: %s — by the configuration and by the client', async (url, accepted) => {
    const dir = repository({ 'scimform.yaml': config({ url }) });
    const loaded = await loadConfig('scimform.yaml', { cwd: dir }).then(
      () => true,
      (error: unknown) => {
        expect((error as Error).message).toMatch(/https/);
        return false;
      },
    );
    expect(loaded).toBe(accepted);
    // The package API checks too: a pipeline that builds its own target cannot send the token in clear.
    const built = (() => {
      try {
        void createScimClient(target(url), { token: 'x', readOnly: true }).close();
        return true;
      } catch (error) {
        expect(error).toBeInstanceOf(ScimformError);
        expect((error as Error).message).toContain('must use https');
        return false;
      }
    })();
    expect(built).toBe(accepted);
  });
});

describe('TLS verification is never disabled', () => {
  test('a server whose certificate cannot be verified is refused before any request reaches it', async () => {
    let requests = 0;
    const server = createServer({ key: readFileSync(path.join(FIXTURES, 'self-signed.key')), cert: readFileSync(path.join(FIXTURES, 'self-signed.crt')) }, (_req, res) => {
      requests++;
      res.writeHead(200, { 'Content-Type': 'application/scim+json' }).end('{"totalResults":0,"Resources":[]}');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = createScimClient(target(`https://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2`), {
      token: 'tls-test-token',
      readOnly: true,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
    try {
      const error = await client.listUsers().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ScimformError);
      expect((error as Error).message).toMatch(/certificate/i);
      // The handshake failed, so the request — and its Authorization header — was never sent.
      expect(requests).toBe(0);
    } finally {
      await client.close();
      server.closeAllConnections();
      server.close();
    }
  });

  test('no source file turns verification off or makes it optional', () => {
    const sources = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const full = path.join(dir, name);
        return statSync(full).isDirectory() ? sources(full) : full.endsWith('.ts') ? [full] : [];
      });
    const offenders = sources(path.join(ROOT, 'src')).filter((file) =>
      /rejectUnauthorized|NODE_TLS_REJECT_UNAUTHORIZED|checkServerIdentity|secureOptions|insecure/i.test(readFileSync(file, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});

describe('identity files outside the repository are refused', () => {
  const outside = 'users:\n  - userName: intruder@acme.example\n';

  test.each([
    ['a glob that climbs out', ['../outside/*.yaml']],
    ['a glob that climbs out after descending', ['identities/../../outside/*.yaml']],
    ['a glob that climbs out inside braces', ['{identities,../outside}/*.yaml']],
    ['an absolute glob', ['/tmp/**/*.yaml']],
  ])('%s', async (_name, desired) => {
    const dir = repository({ 'scimform.yaml': config({ desired }), 'identities/a.yaml': 'users: []\n' });
    writeFileSync(path.join(dir, '..', 'outside.yaml'), outside);
    mkdirSync(path.join(dir, '..', 'outside'), { recursive: true });
    writeFileSync(path.join(dir, '..', 'outside', 'x.yaml'), outside);
    const report = await validateRepository('scimform.yaml', { cwd: dir });
    expect(report.issues.length).toBeGreaterThan(0);
    expect(report.issues[0]).toMatchObject({ file: 'scimform.yaml', message: expect.stringMatching(/outside|inside|relative|climb|\.\./i) });
    expect(report.desired?.users.map((user) => user.userName) ?? []).not.toContain('intruder@acme.example');
  });

  test.each([
    ['a symlinked file', (dir: string) => symlinkSync(path.join(dir, '..', 'outside.yaml'), path.join(dir, 'identities', 'link.yaml'))],
    ['a symlinked folder', (dir: string) => symlinkSync(path.join(dir, '..', 'outside'), path.join(dir, 'identities', 'linked'))],
  ])('%s that leaves the repository', async (_name, link) => {
    const dir = repository({ 'identities/a.yaml': 'users: []\n' });
    writeFileSync(path.join(dir, '..', 'outside.yaml'), outside);
    mkdirSync(path.join(dir, '..', 'outside'));
    writeFileSync(path.join(dir, '..', 'outside', 'x.yaml'), outside);
    link(dir);
    const report = await validateRepository('scimform.yaml', { cwd: dir });
    expect(report.issues.map((issue) => issue.message).join('\n')).toMatch(/outside/i);
    expect(report.desired?.users.map((user) => user.userName) ?? []).not.toContain('intruder@acme.example');
  });
});

describe('symbolic links to folders while the globs are expanded', () => {
  const jane = 'users:\n  - userName: jane@acme.example\n';

  test.each([
    ['a link to /, which walked the whole machine', (dir: string) => symlinkSync('/', path.join(dir, 'identities', 'root')), 'identities/root', /a symbolic link to the folder `\/`, outside the configuration file's folder/],
    ['a link to the folder that holds it (a loop)', (dir: string) => symlinkSync('..', path.join(dir, 'identities', 'loop')), 'identities/loop', /a symbolic link to `.*repo`, a folder that holds the link itself \(a loop\)/],
    ['the globbed folder itself a link out', (dir: string) => (rmSync(path.join(dir, 'identities'), { recursive: true }), symlinkSync('/', path.join(dir, 'identities'))), 'identities', /a symbolic link to the folder `\/`, outside/],
  ])('%s: one error on the glob, naming the link, at once', async (_name, link, named, problem) => {
    const dir = repository({ 'identities/a.yaml': jane });
    link(dir);
    const started = performance.now();
    const report = await validateRepository('scimform.yaml', { cwd: dir });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(report.issues).toEqual([
      { file: 'scimform.yaml', line: 3, column: 5, path: '/desired/0', message: expect.stringMatching(new RegExp(`^glob \`identities/\\*\\*/\\*\\.yaml\` reaches \`${named}\`, `)) },
    ]);
    expect(report.issues[0]!.message).toMatch(problem);
    expect(report.issues[0]!.message).toMatch(/remove the link, or narrow the glob so that it does not reach it$/);
  });

  test.each([
    ['a linked folder', (dir: string) => (mkdirSync(path.join(dir, 'shared')), writeFileSync(path.join(dir, 'shared', 'b.yaml'), jane), symlinkSync('../shared', path.join(dir, 'identities', 'shared')))],
    ['a linked file', (dir: string) => (writeFileSync(path.join(dir, 'b.yaml.txt'), jane), symlinkSync('../b.yaml.txt', path.join(dir, 'identities', 'b.yaml')))],
  ])('%s inside the repository is still read', async (_name, link) => {
    const dir = repository({ 'identities/a.yaml': 'users: []\n' });
    link(dir);
    const report = await validateRepository('scimform.yaml', { cwd: dir });
    expect(report.issues).toEqual([]);
    expect(report.desired?.users.map((user) => user.userName)).toEqual(['jane@acme.example']);
  });
});

describe('named pipes are refused before they are read, where a read would wait forever', () => {
  const pipes = namedPipes();
  afterEach(() => pipes.release());
  const pipe = (file: string): void => void pipes.make(file);

  test.skipIf(process.platform === 'win32').each([
    ['the configuration file', ['validate', '--config', 'pipe.yaml'], (dir: string) => pipe(path.join(dir, 'pipe.yaml')), 'error: configuration file `pipe.yaml` is a named pipe (FIFO), not a regular file\n  Save the configuration to a file'],
    [
      'an identity file the glob reaches through a symbolic link',
      ['validate'],
      (dir: string) => (pipe(path.join(dir, 'pipe')), symlinkSync('../pipe', path.join(dir, 'identities', 'piped.yaml'))),
      'identities/piped.yaml:1:1: the file is a named pipe (FIFO), not a regular file',
    ],
    ['a saved plan', ['apply', 'plan.json'], (dir: string) => pipe(path.join(dir, 'plan.json')), 'is a named pipe (FIFO), not a regular file\n  Save the plan to a file with `scimform plan --out FILE`'],
    // The glob's walk left these out without a word: users declared there silently went undeclared.
    ['an identity file that is a named pipe in the folder itself', ['validate'], (dir: string) => pipe(path.join(dir, 'identities', 'piped.yaml')), 'identities/piped.yaml:1:1: the file is a named pipe (FIFO), not a regular file'],
    [
      'an identity file that is a link to a file moved away',
      ['validate'],
      (dir: string) => symlinkSync('../shared/people.yaml', path.join(dir, 'identities', 'people.yaml')),
      'identities/people.yaml:1:1: the file is a symbolic link to `../shared/people.yaml`, which does not exist: point the link at the identity file, or remove it',
    ],
    ['an identity file that is a link to itself', ['validate'], (dir: string) => symlinkSync('self.yaml', path.join(dir, 'identities', 'self.yaml')), 'identities/self.yaml:1:1: the file is a symbolic link to `self.yaml`, which leads round in a loop'],
  ])('%s', async (_name, argv, make, message) => {
    const dir = repository({ 'identities/a.yaml': 'users: []\n' });
    make(dir);
    const result = await soon(runCli(argv, { T_TOKEN: 'x' }, dir), 5_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
  });
});

describe('hostile YAML is refused quickly', () => {
  const laughs = (levels: number) => {
    const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < levels; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(',')}]`);
    return `${lines.join('\n')}\nusers: *a${levels - 1}\n`;
  };

  test.each([
    ['an alias bomb in an identity file', { 'identities/a.yaml': laughs(9) }],
    ['an alias bomb in the config file', { 'scimform.yaml': `${config()}x: &x [a, b]\n${laughs(9).replace('users:', 'y:')}` }],
    ['an identity file over the size limit', { 'identities/big.yaml': `users:\n${'  - userName: someone@acme.example\n'.repeat(330_000)}` }],
  ])('%s', async (_name, files) => {
    const dir = repository({ 'identities/ok.yaml': 'users: []\n', ...files });
    const started = performance.now();
    const report = await validateRepository('scimform.yaml', { cwd: dir });
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(report.issues.length).toBeGreaterThan(0);
    expect(report.issues.map((issue) => issue.message).join('\n')).toMatch(/alias|limit|MiB|too/i);
    await expect(loadConfig('scimform.yaml', { cwd: dir }).then(async (loaded) => (await import('../../src/config/index.js')).loadDesiredState(loaded))).rejects.toBeInstanceOf(ScimformError);
  });
});
