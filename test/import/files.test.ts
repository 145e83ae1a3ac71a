/** Where import's files point their `$schema` line: next to the config's own schema, else a stable URL. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { schemaReference } from '../../src/import/files.js';
import type { Config } from '../../src/model.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

test.each([
  ['a relative path, re-based on the output folder', '# yaml-language-server: $schema=../../schemas/config.schema.json\n', 'identities', '../../../schemas/identities.schema.json'],
  ['a relative path, from a deeper output folder', '# yaml-language-server: $schema=node_modules/scimform/schemas/config.schema.json\n', 'people/by-domain', '../../node_modules/scimform/schemas/identities.schema.json'],
  ['a URL, kept as a URL', '# yaml-language-server: $schema=https://example.test/s/config.schema.json\n', 'identities', 'https://example.test/s/identities.schema.json'],
  ['no schema line: the schema\'s own $id', 'version: 1\n', 'identities', 'https://scimform.dev/schemas/identities.schema.json'],
])('the config names %s', async (_name, header, out, expected) => {
  dir = await mkdtemp(path.join(tmpdir(), 'scimform-schema-'));
  const file = path.join(dir, 'scimform.yaml');
  await writeFile(file, `${header}version: 1\n`);
  expect(await schemaReference({ file, dir } as Config, path.join(dir, out))).toBe(expected);
});
