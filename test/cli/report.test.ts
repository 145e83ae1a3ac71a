/** Errors as the CLI prints them: one line, a hint line, and nothing from a name that could act on a terminal or a CI log. */
import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import type { CliIO } from '../../src/cli/context.js';
import { reportError } from '../../src/cli/report.js';
import { ScimformError, ValidationError } from '../../src/errors.js';
import { ESCAPED_NAMES, HOSTILE_NAMES, expectSafeOutput } from '../helpers/hostile.js';

function printed(error: unknown): string {
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (chunk) => (text += chunk));
  const io: CliIO = { stdout: new PassThrough(), stderr, stdin: new PassThrough(), env: {}, cwd: '/' };
  reportError(error, io, false);
  return text;
}

describe('reportError', () => {
  test.each(HOSTILE_NAMES.map((name, index) => [name, ESCAPED_NAMES[index]!]))('a message and hint quoting %j show it escaped, on their own two lines', (name, escaped) => {
    const text = printed(new ScimformError(`saved plan is stale: user ${name} changed on the server since the plan`, { hint: `Look at ${name}` }));
    expectSafeOutput(text);
    expect(text).toBe(`error: saved plan is stale: user ${escaped.replace(/^\\u003a/, ':')} changed on the server since the plan\n  Look at ${escaped.replace(/^\\u003a/, ':')}\n`);
  });

  test('validation messages and internal errors are escaped too', () => {
    const issue = { file: 'identities/a.yaml', line: 3, column: 5, path: '/users/0', message: `userName ${HOSTILE_NAMES[0]} is declared twice` };
    const validation = printed(new ValidationError([issue]));
    expectSafeOutput(validation);
    expect(validation).toContain(`identities/a.yaml:3:5: userName ${ESCAPED_NAMES[0]} is declared twice\n`);
    const internal = printed(new Error(`unexpected ${HOSTILE_NAMES[1]}`));
    expectSafeOutput(internal);
    expect(internal).toContain(`error: internal error: unexpected ${ESCAPED_NAMES[1]}\n`);
  });
});
