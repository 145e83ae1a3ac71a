import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/**
 * A throw-away repository: the fixture repo (`fixtures/repo`: a config and `identities/base.yaml`)
 * plus the given identity fixtures and, optionally, another config file.
 */
export async function makeRepository(options: { identities?: string[]; config?: string; files?: Record<string, string> } = {}): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'scimform-config-'));
  await cp(join(FIXTURES, 'repo'), dir, { recursive: true });
  for (const fixture of options.identities ?? []) {
    const source = join(FIXTURES, 'bad', 'identities', fixture);
    // A folder fixture holds several identity files that are only wrong together.
    if (fixture.endsWith('.yaml')) await cp(source, join(dir, 'identities', basename(fixture)));
    else await cp(source, join(dir, 'identities'), { recursive: true });
  }
  if (options.config) await cp(join(FIXTURES, 'bad', 'config', options.config), join(dir, 'scimform.yaml'));
  for (const [path, content] of Object.entries(options.files ?? {})) await writeFile(join(dir, path), content);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const cleanups: (() => Promise<void>)[] = [];

/** Runs `cleanup` after the current test, with the repositories. */
export function afterThisTest(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

/** A throw-away repository (see `makeRepository`), removed after the test that made it. */
export async function repository(options: Parameters<typeof makeRepository>[0]): Promise<string> {
  const repo = await makeRepository(options);
  cleanups.push(repo.cleanup);
  return repo.dir;
}

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});
