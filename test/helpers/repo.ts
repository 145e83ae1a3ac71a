import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';
import { runCli, type CliResult } from './cli.js';

export const EXAMPLE = path.resolve(import.meta.dirname, '../../examples/basic');
/** A distinctive token: tests grep every output for it. */
export const TOKEN = 'tok-5ecret-7f3a9c1e-do-not-print';

export interface TestRepository {
  dir: string;
  emulator: RunningEmulator;
  env: NodeJS.ProcessEnv;
  run(...argv: string[]): Promise<CliResult>;
  /** Rewrites a file of the repository (relative path) through a function of its text. */
  edit(file: string, change: (text: string) => string): Promise<void>;
  writes(): number;
  close(): Promise<void>;
}

/**
 * A copy of examples/basic in a temporary folder whose target points at a fresh emulator
 * requiring `TOKEN`, with `$SCIMFORM_TOKEN` set for the CLI.
 */
export async function exampleRepository(options: EmulatorOptions = {}): Promise<TestRepository> {
  const dir = await mkdtemp(path.join(tmpdir(), 'scimform-test-'));
  await cp(EXAMPLE, dir, { recursive: true });
  const emulator = await startEmulator({ token: TOKEN, ...options });
  const env = { SCIMFORM_TOKEN: TOKEN };
  const edit = async (file: string, change: (text: string) => string) => {
    const full = path.join(dir, file);
    await writeFile(full, change(await readFile(full, 'utf8')));
  };
  await edit('scimform.yaml', (text) => text.replace(/^(\s*url:\s*).*$/m, `$1${emulator.url}`));
  return {
    dir,
    emulator,
    env,
    run: (...argv) => runCli(argv, env, dir),
    edit,
    writes: () => emulator.requests.filter((request) => request.method !== 'GET').length,
    close: async () => {
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
