import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('scimform command line', () => {
  test('--help lists every command of the specification', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const command of ['validate', 'plan', 'apply', 'drift', 'import', 'ids', 'emulate']) {
      expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });

  test('README.md names every option of every command', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const command of ['validate', 'plan', 'apply', 'drift', 'import', 'ids', 'emulate', 'github']) {
      const { stdout } = await runCli([command, '--help']);
      const options = [...stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z0-9-]+)/gm)].map((match) => match[1]!).filter((option) => option !== '--help');
      expect(options.length).toBeGreaterThan(0);
      const missing = options.filter((option) => !new RegExp(`\`[^\`]*${option}\\b`).test(readme));
      expect(missing, `scimform ${command}`).toEqual([]);
    }
  });

  test('an unknown command exits 1 with a pointer to --help', async () => {
    const { code, stderr } = await runCli(['bogus']);
    expect(code).toBe(1);
    expect(stderr).toContain("unknown command 'bogus'");
    expect(stderr).toContain('--help');
  });

  test.each([
    [['plan', '--format', 'yaml'], "argument 'yaml' is invalid"],
    [['emulate', '--profile', 'okta'], "argument 'okta' is invalid"],
  ])('a bad option value (%j) exits 1 and says which', async (argv, message) => {
    const { code, stderr } = await runCli(argv);
    expect(code).toBe(1);
    expect(stderr).toContain(message);
  });
});
