import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { CliContext } from './context.js';
import { ScimformError } from '../errors.js';
import { isLoopbackHost } from '../config/config.js';
import { MIN_TOKEN_CHARS } from '../scim/errors.js';
import { headerUnsafe } from '../wire.js';
import type { EmulatorFaults, EmulatorOptions } from '../emulator/index.js';

function number(options: Record<string, unknown>, key: string, flag: string, check: (n: number) => boolean, expected: string): number | undefined {
  const raw = options[key];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw === '' || !Number.isFinite(value) || !check(value)) {
    throw new ScimformError(`${flag} must be ${expected}, not "${String(raw)}"`, { hint: `Run \`scimform emulate --help\` for the options.` });
  }
  return value;
}

const rate = (options: Record<string, unknown>, key: string, flag: string) => number(options, key, flag, (n) => n >= 0 && n <= 1, 'a fraction between 0 and 1');
const whole = (options: Record<string, unknown>, key: string, flag: string, min: number) =>
  number(options, key, flag, (n) => Number.isInteger(n) && n >= min, `a whole number of at least ${min}`);

/**
 * The token clients must send: --token, else $SCIMFORM_EMULATOR_TOKEN (empty: none), without
 * surrounding whitespace as the client reads its own. What no client can send in a header, and a
 * token shorter than scimform's commands accept, is refused, with the client's words, rather
 * than answering every request 401.
 */
function emulatorToken(env: NodeJS.ProcessEnv, flag: unknown): string | undefined {
  const fromFlag = typeof flag === 'string';
  const source = fromFlag ? '--token' : 'environment variable SCIMFORM_EMULATOR_TOKEN';
  const token = (fromFlag ? flag : env.SCIMFORM_EMULATOR_TOKEN)?.trim();
  if (token === undefined || (token === '' && !fromFlag)) return undefined;
  if (token === '') {
    throw new ScimformError('--token must not be empty', { hint: 'Give the token clients must send, or leave --token out (and SCIMFORM_EMULATOR_TOKEN unset) to check none.' });
  }
  const unsafe = headerUnsafe(token);
  if (unsafe === 'control characters') {
    throw new ScimformError(`${source} holds a token with control characters`, { hint: `Give ${fromFlag ? '--token' : 'SCIMFORM_EMULATOR_TOKEN'} the token alone, on one line.` });
  }
  if (unsafe === 'not ASCII') {
    throw new ScimformError(`${source} holds a token with characters that cannot be sent in an HTTP header`, {
      hint: `A token is plain ASCII, as clients can send no other; typographic quotes or a zero-width or non-breaking space often come with a copy-and-paste. Give ${fromFlag ? '--token' : 'SCIMFORM_EMULATOR_TOKEN'} the token again, as plain text.`,
    });
  }
  // scimform's own commands refuse such a token (see resolveToken): they could never be let in.
  if (token.length < MIN_TOKEN_CHARS) {
    throw new ScimformError(`${source} holds a token shorter than ${MIN_TOKEN_CHARS} characters, which scimform refuses to send`, {
      hint: `Give ${fromFlag ? '--token' : 'SCIMFORM_EMULATOR_TOKEN'} a token of at least ${MIN_TOKEN_CHARS} characters (\`openssl rand -hex 16\` makes one), and the target's tokenEnv variable the same token.`,
    });
  }
  return token;
}

/** The domains of --drop-domain, `@` optional (`@example.com` is the domain example.com). */
function domains(raw: unknown): string[] {
  const given = Array.isArray(raw) ? (raw as unknown[]) : raw === undefined ? [] : [raw];
  return given.map((value) => {
    const domain = String(value).trim().replace(/^@/, '');
    if (!/^[^\s@/]+\.[^\s@/]+$/u.test(domain)) {
      throw new ScimformError(`--drop-domain must be an email domain such as example.com, not "${String(value)}"`, { hint: 'Give the part of an address after the @.' });
    }
    return domain;
  });
}

/** Turns the command-line options into emulator options; exported for tests. */
export function emulatorOptions(ctx: Pick<CliContext, 'env' | 'cwd'>, options: Record<string, unknown>): EmulatorOptions {
  const faults: EmulatorFaults = {};
  const set = <K extends keyof EmulatorFaults>(key: K, value: EmulatorFaults[K] | undefined) => {
    if (value !== undefined) faults[key] = value;
  };
  set('latencyMs', whole(options, 'latency', '--latency', 0));
  set('rate429', rate(options, 'rate429', '--rate-429'));
  set('retryAfterSeconds', whole(options, 'retryAfter', '--retry-after', 0));
  set('rate5xx', rate(options, 'rate5xx', '--rate-5xx'));
  set('rateReset', rate(options, 'rateReset', '--rate-reset'));
  set('rateLostResponse', rate(options, 'rateLostResponse', '--rate-lost-response'));
  set('seed', whole(options, 'seed', '--seed', 0));
  const dropDomains = domains(options.dropDomain);
  const token = emulatorToken(ctx.env, options.token);
  const port = whole(options, 'port', '--port', 0);
  if (port !== undefined && port > 65535) throw new ScimformError(`--port must be at most 65535, not ${port}`, { hint: 'Use 0 to pick a free port.' });
  const maxPageSize = whole(options, 'maxPageSize', '--max-page-size', 1);
  if (typeof options.host === 'string' && options.host.trim() === '') {
    throw new ScimformError('--host must not be empty', { hint: 'Use 127.0.0.1 (the default) for this machine only, or 0.0.0.0 for every interface.' });
  }
  return {
    host: typeof options.host === 'string' ? options.host : '127.0.0.1',
    port: port ?? 0,
    profile: options.profile === 'lightstep' ? 'lightstep' : 'generic',
    ...(options.pagination === 'cursor' || options.pagination === 'index' ? { pagination: options.pagination } : {}),
    ...(maxPageSize !== undefined ? { maxPageSize } : {}),
    ...(token !== undefined ? { token } : {}),
    ...(typeof options.data === 'string' ? { dataFile: resolve(ctx.cwd, options.data) } : {}),
    ...(typeof options.requestLog === 'string' ? { requestLogFile: resolve(ctx.cwd, options.requestLog) } : {}),
    ...(Object.keys(faults).length > 0 ? { faults } : {}),
    ...(dropDomains.length > 0 ? { quirks: { dropDomains } } : {}),
    // Nothing reads an in-memory log here (--request-log writes one to a file); keeping every
    // request would grow the process by each one's body for as long as it runs.
    keepRequests: false,
  };
}

/** Runs the emulator until SIGINT/SIGTERM; the URL is the first line on stdout so scripts can read it. */
export async function run(ctx: CliContext, options: Record<string, unknown>, _args: string[]): Promise<number> {
  const settings = emulatorOptions(ctx, options);
  if (settings.dataFile !== undefined && !existsSync(dirname(settings.dataFile))) {
    throw new ScimformError(`the folder of the data file ${settings.dataFile} does not exist`, {
      hint: 'Create the folder first, or give --data a path in a folder that exists.',
    });
  }
  const { startEmulatorWithDescription } = await import('../emulator/index.js');
  const { emulator, description } = await startEmulatorWithDescription(settings);
  ctx.out(emulator.url);
  ctx.note(`SCIM emulator: ${description}${settings.dataFile ? `, data in ${settings.dataFile}` : ''}. Stop with Ctrl-C.`);
  if (!isLoopbackHost(settings.host ?? '127.0.0.1')) {
    ctx.warn(
      `warning: the emulator listens on ${settings.host}, not on loopback: other machines can reach it${settings.token === undefined ? ', and it checks no token (set SCIMFORM_EMULATOR_TOKEN to require one)' : ''}.`,
    );
  }
  if (!ctx.signal.aborted) await new Promise<void>((done) => ctx.signal.addEventListener('abort', () => done(), { once: true }));
  await emulator.close();
  ctx.note('SCIM emulator stopped.');
  return 0;
}
