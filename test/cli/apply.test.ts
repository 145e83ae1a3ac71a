/** `scimform apply` options that are checked before the target is read. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { exampleRepository, type TestRepository } from '../helpers/repo.js';

let repo: TestRepository | undefined;
afterEach(async () => {
  await repo?.close();
  repo = undefined;
});

test.each([
  ['a folder', 'logs', /^error: cannot open the audit log .*\/logs: it is a folder\n {2}Give --audit-log a file, for example .*\/logs\/scimform-audit\.jsonl/m],
  ['in a folder that does not exist', 'missing/audit.jsonl', /^error: cannot open the audit log .*\/missing\/audit\.jsonl: the folder .*\/missing does not exist\n/m],
])('an --audit-log that cannot be opened (%s) is refused before the target is read or a plan shown', async (_case, auditLog, error) => {
  repo = await exampleRepository({ profile: 'generic' });
  await mkdir(path.join(repo.dir, 'logs'));
  const result = await repo.run('apply', '--auto-approve', '--audit-log', auditLog);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(error);
  expect(result.stdout).toBe('');
  expect(repo.emulator.requests).toEqual([]);
});
