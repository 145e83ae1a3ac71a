/**
 * The apply's job summary stays under GitHub's 1 MiB for a step, over which GitHub shows none of
 * it: pure rendering with made-up outputs, then a real apply of thousands of users through
 * `scimform github apply` against the emulator.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { renderApplySummary, shortenLines, STEP_SUMMARY_LIMIT } from '../../src/github/summary.js';
import { runCli } from '../helpers/cli.js';
import { exampleRepository, TOKEN, type TestRepository } from '../helpers/repo.js';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
const lines = (count: number, text: (i: number) => string) => Array.from({ length: count }, (_, i) => text(i)).join('\n');

describe('shortenLines', () => {
  test.each([
    { name: 'text that fits is kept whole', text: 'a\nb\nc', budget: 100, keepEnd: false, expected: 'a\nb\nc' },
    { name: 'the first lines, and a count of the others', text: lines(10, (i) => `line ${i} of ten`), budget: 90, keepEnd: false, expected: 'line 0 of ten\nline 1 of ten\n… 8 lines not shown here: the job log has them all' },
    { name: 'with keepEnd, the last lines too', text: lines(10, (i) => `line ${i} of ten`), budget: 90, keepEnd: true, expected: 'line 0 of ten\n… 8 lines not shown here: the job log has them all\nline 9 of ten' },
  ])('$name', ({ text, budget, keepEnd, expected }) => {
    expect(shortenLines(text, budget, keepEnd)).toBe(expected);
    expect(bytes(shortenLines(text, budget, keepEnd))).toBeLessThanOrEqual(budget);
  });
});

describe('renderApplySummary', () => {
  const heading = '> [!WARNING]\n> **This apply differs from the plan reviewed on pull request #7**: the files changed after the review.';
  const outcome = '\n**The apply did not complete**: see the run log.\n';
  const report = 'Apply lightstep: 9000 created, 0 updated (9000 writes, 41.0 s).\nlightstep: 3 failed.';

  test('a small apply is shown whole', () => {
    const text = renderApplySummary({ heading, difference: '--- reviewed plan\n+++ applied plan\n-a\n+b', outcome: '', output: 'plan\nlightstep: converged.' });
    expect(text).toBe(
      `### scimform apply\n\n${heading}\n\n<details><summary>How the applied plan differs from the reviewed one</summary>\n\n\`\`\`diff\n--- reviewed plan\n+++ applied plan\n-a\n+b\n\`\`\`\n\n</details>\n\n\`\`\`diff\nplan\nlightstep: converged.\n\`\`\`\n`,
    );
  });

  test.each([
    { name: 'a large output', difference: '', output: `${lines(30_000, (i) => `  + user user${i}@acme.example  identities/all.yaml:${i}`)}\n${report}` },
    { name: 'a large diff and a large output', difference: lines(40_000, (i) => `+      name.familyName: "Fämily ${i} 😀"`), output: `${lines(30_000, (i) => `  ~ user user${i}@acme.example`)}\n${report}` },
    { name: 'names with backticks', difference: lines(40_000, (i) => `+ user \`\`\`\`${i}`), output: `${lines(40_000, (i) => `  + user \`\`\`\`\`${i}`)}\n${report}` },
  ])('$name: under the limit, with the heading, the outcome and the report kept', ({ difference, output }) => {
    expect(bytes(difference) + bytes(output)).toBeGreaterThan(STEP_SUMMARY_LIMIT);
    const text = renderApplySummary({ heading, difference, outcome, output });
    expect(bytes(text)).toBeLessThanOrEqual(STEP_SUMMARY_LIMIT);
    expect(bytes(text)).toBeGreaterThan(STEP_SUMMARY_LIMIT * 0.9);
    expect(text.startsWith(`### scimform apply\n\n${heading}`)).toBe(true);
    expect(text).toContain(outcome);
    expect(text).toContain(`${report}\n`);
    expect(text).toMatch(/^… [\d,]+ lines not shown here: the job log has them all$/m);
  });
});

describe('scimform github apply', () => {
  let repo: TestRepository;
  afterEach(async () => repo.close());

  test('an apply whose output is over the 1 MiB a job summary may hold still writes a summary GitHub shows', async () => {
    repo = await exampleRepository({ profile: 'generic' });
    const users = Array.from(
      { length: 4_000 },
      (_, i) =>
        `  - userName: person.number.${i}.with.a.long.name@acme.example\n    externalId: E-${100_000 + i}\n    name: { givenName: Given${i}, familyName: Family${i} }\n    emails: [{ value: person.number.${i}.with.a.long.name@acme.example, type: work, primary: true }]\n`,
    );
    await writeFile(path.join(repo.dir, 'identities/many.yaml'), `users:\n${users.join('')}`);
    const summaryFile = path.join(repo.dir, 'summary.md');
    const result = await runCli(['github', 'apply', '--auto-approve'], { ...repo.env, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summaryFile }, repo.dir);
    expect(result.code).toBe(0);
    expect(bytes(result.stdout)).toBeGreaterThan(STEP_SUMMARY_LIMIT);
    const summary = await readFile(summaryFile, 'utf8');
    expect(bytes(summary)).toBeLessThanOrEqual(STEP_SUMMARY_LIMIT);
    expect(summary).toContain('**No reviewed plan to apply**');
    expect(summary).toMatch(/^… [\d,]+ lines not shown here: the job log has them all$/m);
    expect(summary).toMatch(/^Apply local: 4012 created/m);
    expect(summary).toContain('local: converged.');
    expect(summary).not.toContain(TOKEN);
  });
});
