/**
 * The bearer token never appears in anything scimform prints or writes. Every command runs —
 * successes, refusals, a 401, a missing variable, a bad config, an unreachable host, a server
 * that echoes the Authorization header back, `--verbose` stacks — with a distinctive token, and
 * stdout, stderr and every file left in the repository are searched for it (and for any 8
 * characters of it in a row, in case something printed a slice).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { exampleRepository, TOKEN, type TestRepository } from '../helpers/repo.js';
import { runCli, type CliResult } from '../helpers/cli.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Every run of 8 consecutive characters of the token (what scimform redacts), in any case: a slice of it is a leak too. */
const slices = Array.from({ length: TOKEN.length - 7 }, (_, i) => TOKEN.slice(i, i + 8).toLowerCase());
const leaks = (text: string) => {
  const lower = text.toLowerCase();
  return slices.filter((slice) => lower.includes(slice));
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

let repo: TestRepository;
let refusing: RunningEmulator;
let echo: Server;
let echoUrl: string;
const outputs: { argv: string; result: CliResult }[] = [];


/**
 * A server that quotes the Authorization header it received in every answer, errors and resources
 * alike; its errors also quote slices of the token: a prefix, the token broken over lines, and the
 * token upper-cased.
 */
function startEcho(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    const auth = req.headers.authorization ?? '';
    const token = auth.replace(/^Bearer /, '');
    const url = req.url ?? '';
    res.setHeader('Content-Type', 'application/scim+json');
    if (url.includes('/ServiceProviderConfig')) {
      res.writeHead(404).end(JSON.stringify({ status: '404', detail: `no discovery; you sent ${auth}` }));
    } else if (req.method === 'GET' && url.includes('/Users')) {
      const resources = [{ id: 'u1', userName: 'ada.lovelace@acme.example', displayName: `Echo ${auth}`, externalId: 'E-1001' }];
      res.writeHead(200).end(JSON.stringify({ totalResults: 1, Resources: resources }));
    } else if (req.method === 'GET') {
      res.writeHead(200).end(JSON.stringify({ totalResults: 0, Resources: [] }));
    } else {
      res.writeHead(400).end(JSON.stringify({ status: 400, scimType: 'invalidValue', detail: `refused ${token.slice(0, 18)}…: sent ${token.slice(0, 10)}\n${token.slice(10, 20)}\r\n${token.slice(20)}; as given: ${token.toUpperCase()}` }));
    }
  });
  server.listen(0, '127.0.0.1');
  return once(server, 'listening').then(() => server);
}

async function run(argv: string[], env: NodeJS.ProcessEnv = repo.env, cwd = repo.dir): Promise<CliResult> {
  const result = await runCli(argv, env, cwd);
  outputs.push({ argv: argv.join(' '), result });
  return result;
}

const pointAt = (url: string) => repo.edit('scimform.yaml', (text) => text.replace(/^(\s*url:\s*).*$/m, `$1${url}`));

beforeAll(async () => {
  repo = await exampleRepository({ profile: 'generic' });
  refusing = await startEmulator({ token: 'some-other-token-entirely' });
  echo = await startEcho();
  echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/scim/v2`;
});

afterAll(async () => {
  await refusing.close();
  echo.closeAllConnections();
  await new Promise((resolve) => echo.close(resolve));
  await repo.close();
});

describe('the token appears in no output and no file', () => {
  test('every command, on its success paths', { timeout: 30_000 }, async () => {
    // import writes into a repository that has no identity files yet.
    mkdirSync(path.join(repo.dir, 'fresh'));
    copyFileSync(path.join(repo.dir, 'scimform.yaml'), path.join(repo.dir, 'fresh/scimform.yaml'));
    const expectations: [string[], number][] = [
      [['validate'], 0],
      [['validate', '--format', 'json'], 0],
      [['plan'], 0],
      [['plan', '--format', 'markdown'], 0],
      [['plan', '--format', 'json'], 0],
      [['plan', '--out', 'plan.json', '--verbose'], 0],
      [['plan', '--detailed-exitcode'], 2],
      [['apply', 'plan.json', '--auto-approve', '--audit-log', 'audit.jsonl', '--verbose'], 0],
      [['apply', '--auto-approve', '--audit-log', 'audit.jsonl'], 0],
      [['drift', '--verbose'], 0],
      [['ids', '--target', 'local'], 0],
      [['ids', '--target', 'local', '--format', 'json'], 0],
    ];
    for (const [argv, code] of expectations) {
      const result = await run(argv);
      expect({ argv: argv.join(' '), code: result.code, stderr: result.code === code ? '' : result.stderr }).toEqual({ argv: argv.join(' '), code, stderr: '' });
    }
    expect((await run(['import', '--target', 'local', '--out', 'identities'], repo.env, path.join(repo.dir, 'fresh'))).code).toBe(0);
    expect(filesUnder(path.join(repo.dir, 'fresh/identities')).length).toBeGreaterThan(0);
    expect(repo.writes()).toBeGreaterThan(0);
    expect(existsSync(path.join(repo.dir, 'plan.json'))).toBe(true);
    expect(readFileSync(path.join(repo.dir, 'audit.jsonl'), 'utf8').length).toBeGreaterThan(0);
  });

  test('every command, on its failure paths', { timeout: 60_000 }, async () => {
    // A 401: the service does not take this token.
    await pointAt(refusing.url);
    for (const argv of [['plan', '--verbose'], ['apply', '--auto-approve', '--verbose'], ['drift'], ['ids', '--target', 'local'], ['import', '--target', 'local', '--out', 'again']]) {
      expect((await run(argv)).code).toBe(1);
    }
    expect(outputs.at(-5)?.result.stderr).toMatch(/401|rejected|not valid/i);

    // A server that echoes the Authorization header in errors, in resources, everywhere.
    await pointAt(echoUrl);
    await run(['plan', '--out', 'echo-plan.json', '--verbose']);
    await run(['plan', '--format', 'json']);
    expect((await run(['apply', '--auto-approve', '--audit-log', 'audit.jsonl', '--verbose'])).code).toBe(1);
    await run(['ids', '--target', 'local', '--format', 'json']);
    await run(['import', '--target', 'local', '--out', 'echoed', '--force']);

    // Nothing listens here.
    await pointAt('http://127.0.0.1:9/scim/v2');
    expect((await run(['plan', '--verbose'])).code).toBe(1);
    expect((await run(['apply', '--auto-approve', '--verbose'])).code).toBe(1);

    // The variable is missing, or holds something else.
    await pointAt(repo.emulator.url);
    expect((await run(['plan'], {})).code).toBe(1);
    expect((await run(['apply', 'plan.json', '--auto-approve'], { SCIMFORM_TOKEN: `${TOKEN}-wrong` })).code).toBe(1);

    // A saved plan that is stale, and a config that is broken.
    await repo.edit('identities/engineering.yaml', (text) => text.replace('Ada Lovelace', 'Ada King'));
    expect((await run(['apply', 'plan.json', '--auto-approve', '--verbose'])).code).toBe(1);
    await repo.edit('scimform.yaml', (text) => text.replace('tokenEnv: SCIMFORM_TOKEN', 'tokenEnv: [SCIMFORM_TOKEN'));
    for (const argv of [['validate'], ['validate', '--format', 'json'], ['plan', '--verbose'], ['apply', '--auto-approve'], ['drift']]) {
      expect((await run(argv)).code).toBe(1);
    }
    await run(['github', 'preflight'], { ...repo.env, GITHUB_ACTIONS: 'true' });
  });

  test('emulate, run as the built command with the token in its environment and on its command line', async () => {
    const bin = path.join(ROOT, 'dist/cli/bin.js');
    for (const args of [['emulate', '--port', '0'], ['emulate', '--port', '0', '--token', TOKEN, '--rate-429', '0.1']]) {
      const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, SCIMFORM_EMULATOR_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`emulate did not start: ${stderr}`)), 10_000);
        child.stdout.on('data', () => {
          if (stdout.includes('\n')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/scim\/v2\n/);
      outputs.push({ argv: args.join(' '), result: { code: code as number, stdout, stderr } });
    }
  });

  test('the search: no output of any run and no file in the repository holds the token or a slice of it', () => {
    expect(outputs.length).toBeGreaterThan(30);
    const found = outputs.flatMap(({ argv, result }) => [...leaks(result.stdout), ...leaks(result.stderr)].map((slice) => `${argv}: ${slice}`));
    const files = filesUnder(repo.dir);
    expect(files.map((file) => path.relative(repo.dir, file))).toEqual(expect.arrayContaining(['plan.json', 'audit.jsonl', 'echo-plan.json']));
    const texts = [...files.map((file) => ({ file: path.relative(repo.dir, file), text: readFileSync(file, 'utf8') }))];
    const inFiles = texts.flatMap(({ file, text }) => leaks(text).map((slice) => `${file}: ${slice}`));
    expect([...found, ...inFiles]).toEqual([]);
  });
});
