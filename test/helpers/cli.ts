import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/context.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process and captures what it prints. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  const io: CliIO = { stdout, stderr, stdin: new PassThrough(), env, cwd };
  const code = await main(argv, io);
  stdout.end();
  stderr.end();
  await Promise.all([once(stdout, 'end'), once(stderr, 'end')]);
  return { code, stdout: out, stderr: err };
}
