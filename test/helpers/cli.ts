import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/context.js';

/** Runs the CLI in-process and captures what it prints. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  const io: CliIO = { stdout, stderr, stdin: new PassThrough(), env, cwd };
  const code = await main(argv, io);
  return { code, stdout: out, stderr: err };
}
