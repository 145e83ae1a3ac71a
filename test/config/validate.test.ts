import { symlink, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { afterThisTest, repository } from './repo.js';


interface Expected {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
}

/** Every bad identity fixture, checked against `fixtures/repo/scimform.yaml` (scope *@example.com, domain example.com). */
const badIdentities: [fixture: string, expected: Expected[]][] = [
  ['syntax-unclosed-flow.yaml', [{ file: 'identities/syntax-unclosed-flow.yaml', line: 4, column: 5, path: '', message: 'YAML syntax error: flow sequence in block collection must be sufficiently indented and end with a ]' }]],
  // A quoted string left open runs to the end of the file; the error is where it starts.
  [
    'syntax-unclosed-quote.yaml',
    [{ file: 'identities/syntax-unclosed-quote.yaml', line: 3, column: 18, path: '', message: 'YAML syntax error: the string that starts here with `"` has no closing `"`: add one where the value ends' }],
  ],
  [
    'syntax-unclosed-quote-at-end.yaml',
    [{ file: 'identities/syntax-unclosed-quote-at-end.yaml', line: 3, column: 18, path: '', message: "YAML syntax error: the string that starts here with `'` has no closing `'`: add one where the value ends" }],
  ],
  // An error yaml finds only at the end of the file is placed at the end of its last line, not on the line after it.
  [
    'syntax-unclosed-flow-at-end.yaml',
    [{ file: 'identities/syntax-unclosed-flow-at-end.yaml', line: 3, column: 25, path: '', message: 'YAML syntax error: flow map in block collection must be sufficiently indented and end with a }' }],
  ],
  ['syntax-bad-indentation.yaml', [{ file: 'identities/syntax-bad-indentation.yaml', line: 5, column: 1, path: '', message: 'YAML syntax error: all mapping items must start at the same column' }]],
  ['tab-indentation.yaml', [{ file: 'identities/tab-indentation.yaml', line: 2, column: 1, path: '', message: 'YAML syntax error: tabs are not allowed as indentation' }]],
  // Written as Latin-1: the é is the one byte 0xe9.
  [
    'not-utf8.yaml',
    [
      {
        file: 'identities/not-utf8.yaml',
        line: 3,
        column: 21,
        path: '',
        message: 'the file is not valid UTF-8 text: the character here (byte 0xe9) is not UTF-8; save the file with the UTF-8 encoding (files saved as Latin-1 or Windows-1252 have such bytes)',
      },
    ],
  ],
  [
    'two-documents.yaml',
    [
      {
        file: 'identities/two-documents.yaml',
        line: 3,
        column: 1,
        path: '',
        message: 'an identity file holds one YAML document, and this `---` starts a second: remove it and merge the two into one (one `users:` list and one `groups:` list), or move the second to a file of its own',
      },
    ],
  ],
  ['duplicate-key.yaml', [{ file: 'identities/duplicate-key.yaml', line: 4, column: 5, path: '', message: 'duplicate key `displayName`: each key may appear only once in a mapping' }]],
  [
    'duplicate-empty-key.yaml',
    [{ file: 'identities/duplicate-empty-key.yaml', line: 4, column: 5, path: '', message: 'duplicate key: this `:` has no key before it, and the mapping already has such an empty key: write the key in front of the `:`, or remove the line' }],
  ],
  ['empty.yaml', [{ file: 'identities/empty.yaml', line: 1, column: 1, path: '', message: 'the file is empty: declare `users:` and/or `groups:` (write `users: []` for a file that is empty on purpose)' }]],
  ['comments-only.yaml', [{ file: 'identities/comments-only.yaml', line: 1, column: 1, path: '', message: 'the file is empty: declare `users:` and/or `groups:` (write `users: []` for a file that is empty on purpose)' }]],
  ['alias-bomb.yaml', [{ file: 'identities/alias-bomb.yaml', line: 2, column: 8, path: '', message: 'aliases expand to too many nodes (more than 100): refusing a possible alias bomb' }]],
  [
    'collection-key.yaml',
    [{ file: 'identities/collection-key.yaml', line: 4, column: 7, path: '', message: 'this key is a list, and keys are plain text: write it as text, in quotes if it holds brackets, braces or commas' }],
  ],
  [
    'alias-cycle.yaml',
    [{ file: 'identities/alias-cycle.yaml', line: 5, column: 9, path: '', message: 'the alias `*engineering` is inside the node it refers to, which would make that node contain itself: write the value out instead of the alias' }],
  ],
  ['wrong-type-active.yaml', [{ file: 'identities/wrong-type-active.yaml', line: 3, column: 13, path: '/users/0/active', message: '`active` must be true or false (got `yes`)' }]],
  ['externalid-number.yaml', [{ file: 'identities/externalid-number.yaml', line: 3, column: 17, path: '/users/0/externalId', message: '`externalId` must be a string or null (got `1001`)' }]],
  ['null-username.yaml', [{ file: 'identities/null-username.yaml', line: 2, column: 15, path: '/users/0/userName', message: '`userName` must be a string (got `null`)' }]],
  ['users-not-a-list.yaml', [{ file: 'identities/users-not-a-list.yaml', line: 2, column: 3, path: '/users', message: '`users` must be a list (got `{"userName":"carol@example.com"}`)' }]],
  ['name-not-a-mapping.yaml', [{ file: 'identities/name-not-a-mapping.yaml', line: 3, column: 11, path: '/users/0/name', message: '`name` must be a mapping (key: value) or null (got `Carol Chen`)' }]],
  ['missing-username.yaml', [{ file: 'identities/missing-username.yaml', line: 3, column: 5, path: '/users/1', message: 'user is missing `userName`' }]],
  [
    'unknown-key.yaml',
    [{ file: 'identities/unknown-key.yaml', line: 3, column: 5, path: '/users/0/emial', message: 'unknown key `emial` in user: did you mean `emails`? (allowed: userName, externalId, displayName, name, emails, active)' }],
  ],
  [
    'merge-key.yaml',
    [
      {
        file: 'identities/merge-key.yaml',
        line: 5,
        column: 5,
        path: '/users/1/<<',
        message: 'unknown key `<<` in user: YAML merge keys are not supported, write the keys out (allowed: userName, externalId, displayName, name, emails, active)',
      },
    ],
  ],
  ['unknown-top-level-key.yaml', [{ file: 'identities/unknown-top-level-key.yaml', line: 1, column: 1, path: '/user', message: 'unknown key `user` in the identity file: did you mean `users`? (allowed: users, groups)' }]],
  ['unknown-name-key.yaml', [{ file: 'identities/unknown-name-key.yaml', line: 3, column: 31, path: '/users/0/name/surname', message: 'unknown key `surname` in `name` of a user (allowed: givenName, familyName)' }]],
  ['bad-email.yaml', [{ file: 'identities/bad-email.yaml', line: 4, column: 18, path: '/users/0/emails/0/value', message: '`carol.example.com` is not an email address' }]],
  [
    'undeclared-member.yaml',
    [{ file: 'identities/undeclared-member.yaml', line: 5, column: 9, path: '/groups/0/members/1', message: 'member `mallory@example.com` of group `Admins` is not a declared user: declare it under `users:` in an identity file, or remove it' }],
  ],
  [
    'duplicate-username-across-files',
    [
      {
        file: 'identities/people.yaml',
        line: 3,
        column: 15,
        path: '/users/1/userName',
        message: 'userName `Alice@Example.com` is declared twice (userNames are compared case-insensitively: `alice@example.com`); first at identities/base.yaml:2:5',
      },
    ],
  ],
  // The members of a group in another file are not reported again as undeclared.
  ['members-of-a-bad-file', [{ file: 'identities/people.yaml', line: 3, column: 13, path: '/users/0/active', message: '`active` must be true or false (got `no`)' }]],
  [
    'duplicate-external-id.yaml',
    [{ file: 'identities/duplicate-external-id.yaml', line: 3, column: 17, path: '/users/0/externalId', message: 'externalId `E-2` is used by two users (`bob@example.com` at identities/base.yaml:5:5 and `carol@example.com`): each must be unique' }],
  ],
  [
    'duplicate-group.yaml',
    [{ file: 'identities/duplicate-group.yaml', line: 4, column: 18, path: '/groups/1/displayName', message: 'group `admins` is declared twice (group names are compared case-insensitively: `Admins`); first at identities/duplicate-group.yaml:2:5' }],
  ],
  ['duplicate-member.yaml', [{ file: 'identities/duplicate-member.yaml', line: 3, column: 51, path: '/groups/0/members/2', message: '`ALICE@example.com` is listed twice in the members of group `Admins` (userNames are compared case-insensitively: `alice@example.com`): remove this entry' }]],
  [
    'primary-email-differs.yaml',
    [{ file: 'identities/primary-email-differs.yaml', line: 4, column: 16, path: '/users/0/emails/0/value', message: 'the primary email `carol.chen@example.com` differs from userName `carol@example.com`: make them the same address' }],
  ],
  [
    'two-primary-emails.yaml',
    [{ file: 'identities/two-primary-emails.yaml', line: 5, column: 47, path: '/users/0/emails/1/primary', message: 'user `carol@example.com` has more than one primary email: mark only one `primary: true`' }],
  ],
  [
    'disallowed-email-domain.yaml',
    [
      {
        file: 'identities/disallowed-email-domain.yaml',
        line: 5,
        column: 18,
        path: '/users/0/emails/1/value',
        message: 'email `carol@gmail.com` is not in an allowed email domain (example.com): use an address in one of them, or add its domain to `allowedEmailDomains`',
      },
    ],
  ],
  [
    'outside-scope.yaml',
    [
      {
        file: 'identities/outside-scope.yaml',
        line: 3,
        column: 15,
        path: '/users/1/userName',
        message: 'user `contractor@partner.example` is outside the policy `scope` `*@example.com`, so it would never be created or updated (widen the scope or remove the user)',
      },
      {
        file: 'identities/outside-scope.yaml',
        line: 3,
        column: 15,
        path: '/users/1/userName',
        message:
          "userName `contractor@partner.example` is not in an allowed email domain (example.com), and the user's email would be derived from it (no `emails` declared): use an address in one of them, or add its domain to `allowedEmailDomains`",
      },
    ],
  ],
  // Declared without `emails`, a user's email is its userName (SPEC §2): the userName is checked as that email would be.
  [
    'username-not-an-email.yaml',
    [
      {
        file: 'identities/username-not-an-email.yaml',
        line: 2,
        column: 15,
        path: '/users/0/userName',
        message:
          "userName `jo hn@example.com` is not an email address, but the user declares no `emails`, so its email would be derived from the userName: fix the userName, or declare the user's addresses under `emails:`, or `emails: null` for a user with none",
      },
      {
        file: 'identities/username-not-an-email.yaml',
        line: 3,
        column: 15,
        path: '/users/1/userName',
        message:
          "userName `a@b@example.com` is not an email address, but the user declares no `emails`, so its email would be derived from the userName: fix the userName, or declare the user's addresses under `emails:`, or `emails: null` for a user with none",
      },
    ],
  ],
];

/** Every bad config fixture, used as scimform.yaml next to the fixture repo's identities. */
const badConfigs: [fixture: string, expected: Expected[]][] = [
  [
    'http-public-host.yaml',
    [
      {
        file: 'scimform.yaml',
        line: 5,
        column: 10,
        path: '/targets/prod/url',
        message: '`url` must use https: http is allowed only for loopback hosts (localhost, 127.0.0.1, [::1]), not `scim.example.com`, because the bearer token would travel in clear',
      },
    ],
  ],
  ['token-in-url.yaml', [{ file: 'scimform.yaml', line: 5, column: 10, path: '/targets/prod/url', message: '`url` must not contain credentials: the token comes from the environment variable named by `tokenEnv`' }]],
  [
    'bad-token-env.yaml',
    [{ file: 'scimform.yaml', line: 6, column: 15, path: '/targets/prod/tokenEnv', message: '`tokenEnv` must be the name of an environment variable (letters, digits and `_`, not starting with a digit), never the token itself' }],
  ],
  [
    'token-as-token-env.yaml',
    [
      {
        file: 'scimform.yaml',
        line: 6,
        column: 15,
        path: '/targets/prod/tokenEnv',
        message: "`tokenEnv` looks like a token, not the name of an environment variable: put the token in an environment variable, write that variable's name here, and revoke the token if this file was shared",
      },
    ],
  ],
  [
    'delete-without-allow.yaml',
    [{ file: 'scimform.yaml', line: 8, column: 19, path: '/policy/unmanagedUsers', message: '`unmanagedUsers: delete` needs `allowDelete: true` in the policy: DELETE is never sent otherwise (use `deactivate` to keep accounts, or set allowDelete)' }],
  ],
  [
    'protected-outside-scope.yaml',
    [
      {
        file: 'scimform.yaml',
        line: 11,
        column: 7,
        path: '/policy/protectedUsers/1',
        message: 'protected user `root@ops.example.net` is outside `scope` `*@example.com`: users outside the scope are never touched, so protecting it has no effect (remove it or widen the scope)',
      },
    ],
  ],
  ['glob-outside-folder.yaml', [{ file: 'scimform.yaml', line: 4, column: 5, path: '/desired/1', message: "glob `../shared/*.yaml` leaves the configuration file's folder: identity files must be inside it" }]],
  [
    'glob-starting-with-dots.yaml',
    [{ file: 'scimform.yaml', line: 4, column: 5, path: '/desired/1', message: "glob `..../shared/*.yaml` starts with `..`, which is read as leaving the configuration file's folder: identity files must be inside it" }],
  ],
  ['glob-control-character.yaml', [{ file: 'scimform.yaml', line: 3, column: 5, path: '/desired/0', message: 'glob `identities/\\u0000*.yaml` contains a control character: write the path of identity files in plain text' }]],
  ['glob-absolute.yaml', [{ file: 'scimform.yaml', line: 3, column: 5, path: '/desired/0', message: "glob `/etc/scimform/*.yaml` is an absolute path: write it relative to the configuration file's folder" }]],
  [
    'glob-matches-nothing.yaml',
    [{ file: 'scimform.yaml', line: 4, column: 5, path: '/desired/1', message: "glob `identitis/*.yaml` matches no file (a typo?): identity files are looked up relative to the configuration file's folder" }],
  ],
  ['missing-targets.yaml', [{ file: 'scimform.yaml', line: 1, column: 1, path: '', message: 'the configuration is missing `targets`' }]],
  [
    'protected-pattern.yaml',
    [
      {
        file: 'scimform.yaml',
        line: 10,
        column: 7,
        path: '/policy/protectedUsers/0',
        message: 'protected user `breakglass*` looks like a pattern, but protectedUsers takes exact userNames: list each account (a pattern would protect nobody)',
      },
    ],
  ],
  ['empty.yaml', [{ file: 'scimform.yaml', line: 1, column: 1, path: '', message: 'the configuration file is empty: it needs `version: 1`, `desired:` and `targets:` (see examples/basic/scimform.yaml)' }]],
  // A document ended by `...` and followed by another: the second starts on the line after the marker.
  [
    'two-documents.yaml',
    [{ file: 'scimform.yaml', line: 5, column: 1, path: '', message: 'the configuration file holds one YAML document, and a second starts here, after a `...`: remove the `...` and merge the two into one' }],
  ],
  ['wrong-version.yaml', [{ file: 'scimform.yaml', line: 1, column: 10, path: '/version', message: '`version` must be 1' }]],
  ['bad-max-removals.yaml', [{ file: 'scimform.yaml', line: 8, column: 16, path: '/policy/maxRemovals', message: '`maxRemovals` must be a count such as "20" or a percentage such as "25%" (got `lots`)' }]],
  ['bad-scope-glob.yaml', [{ file: 'scimform.yaml', line: 8, column: 10, path: '/policy/scope', message: '`scope` is not a valid glob: Missing closing: "]" - use "\\\\]" to match literal characters' }]],
  [
    'scope-too-many-wildcards.yaml',
    [
      {
        file: 'scimform.yaml',
        line: 8,
        column: 10,
        path: '/policy/scope',
        message:
          '`scope` `*a*a*a*a*a*a*a*a*a*b` is refused: it has 10 `*` wildcards, over the limit of 2 (with each one more, matching a long userName takes many times longer, up to minutes): narrow it, for example `*@*.example.com`, or list the choices in braces, for example `*@{eng,ops}.example.com`',
      },
    ],
  ],
  [
    'scope-extended-glob.yaml',
    [
      {
        file: 'scimform.yaml',
        line: 8,
        column: 10,
        path: '/policy/scope',
        message: '`scope` `*(*a)@example.com` is refused: it uses an extended glob (`*(…)`, `+(…)`, `?(…)`, `@(…)` or `!(…)`), which a scope does not support: write it with `*`, `?`, `[…]` and `{a,b}`',
      },
    ],
  ],
  // An entry of a list is named by its list, so the message says what a domain looks like.
  [
    'bad-email-domain.yaml',
    [{ file: 'scimform.yaml', line: 10, column: 38, path: '/policy/allowedEmailDomains/1', message: '`@example.org` in `allowedEmailDomains` is not a domain name such as example.com' }],
  ],
  // Not also an error for every user in the domain meant: the identity files are checked without the list.
  [
    'email-domain-with-at.yaml',
    [{ file: 'scimform.yaml', line: 10, column: 25, path: '/policy/allowedEmailDomains/0', message: '`@example.com` in `allowedEmailDomains` is not a domain name such as example.com' }],
  ],
  ['unknown-profile.yaml', [{ file: 'scimform.yaml', line: 7, column: 14, path: '/targets/prod/profile', message: '`profile` must be one of lightstep, generic (got `okta`)' }]],
  [
    'unknown-target-key.yaml',
    [
      {
        file: 'scimform.yaml',
        line: 7,
        column: 5,
        path: '/targets/prod/timeout',
        message: 'unknown key `timeout` in target `prod` (allowed: url, tokenEnv, profile, pageSize, concurrency, requestsPerSecond, timeoutSeconds, pagination, memberRemoval, updateMethod)',
      },
    ],
  ],
  [
    'several-problems.yaml',
    [
      { file: 'scimform.yaml', line: 5, column: 10, path: '/targets/prod/url', message: '`url` must be an https URL, not `ftp`' },
      { file: 'scimform.yaml', line: 7, column: 18, path: '/targets/prod/concurrency', message: '`concurrency` must be at least 1' },
      {
        file: 'scimform.yaml',
        line: 9,
        column: 20,
        path: '/policy/unmanagedGroups',
        message: '`unmanagedGroups: delete` needs `allowDelete: true` in the policy: DELETE is never sent otherwise (use `ignore` to leave unmanaged groups alone, or set allowDelete)',
      },
      { file: 'scimform.yaml', line: 10, column: 16, path: '/policy/allowDelete', message: '`allowDelete` must be true or false (got `no`)' },
    ],
  ],
];

async function expectRejected(dir: string, expected: Expected[]) {
  const json = await runCli(['validate', '--format', 'json'], {}, dir);
  expect(json.stdout + json.stderr).not.toContain('ghp_7Fq2ZtL0mXc9RbV4kW1sNd8YhJ3pAe6UoTi'); // a pasted token is never echoed
  expect(json.code).toBe(1);
  expect(JSON.parse(json.stdout).errors).toEqual(expected);

  const text = await runCli(['validate'], {}, dir);
  expect(text.code).toBe(1);
  const lines = text.stderr.trimEnd().split('\n');
  expect(lines.slice(0, -1)).toEqual(expected.map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`));
  expect(lines.at(-1)).toMatch(/^error: \d+ problems? found\./);
  expect(text.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('scimform validate rejects bad identity files at the exact place', () => {
  test.each(badIdentities)('%s', async (fixture, expected) => {
    await expectRejected(await repository({ identities: [fixture] }), expected);
  });
});

describe('scimform validate rejects bad configuration files at the exact place', () => {
  test.each(badConfigs)('%s', async (fixture, expected) => {
    await expectRejected(await repository({ config: fixture }), expected);
  });
});

describe('every message stays on its one line', () => {
  test.each([
    ['a carriage return as the whole document', '\r', 'identities/cr.yaml:1:1: the identity file must be a mapping (key: value) (got `\\r`)'],
    ['a quoted string with a line break', '"line one\\nline two"\n', 'identities/cr.yaml:1:1: the identity file must be a mapping (key: value) (got `line one\\nline two`)'],
    ['a userName with a tab (refused)', 'users:\n  - userName: "a\\tb@example.com"\n', 'identities/cr.yaml:2:15: `userName` must not be empty, start or end with spaces, or contain control characters such as tabs'],
    [
      'a value with an invisible character, shown escaped',
      'users:\n  - userName: "ja\\u200bne@example.com"\n  - userName: "JA\\u200bNE@example.com"\n',
      'identities/cr.yaml:3:15: userName `JA\\u200bNE@example.com` is declared twice (userNames are compared case-insensitively: `ja\\u200bne@example.com`); first at identities/cr.yaml:2:5',
    ],
    // yaml quotes the source it stopped at in some of its messages.
    ['a CR that yaml quotes in a syntax error', '|\r:', 'identities/cr.yaml:1:2: YAML syntax error: not a YAML token: \\r:'],
    ['a line separator that yaml quotes in a syntax error', '|\u2028:', 'identities/cr.yaml:1:2: YAML syntax error: block scalar header includes extra characters: |\\u2028:'],
    [
      'a repeated empty key on lines that end in CRLF: the CR is no key',
      'users: []\n:\r\n:\r\n',
      'identities/cr.yaml:3:1: duplicate key: this `:` has no key before it, and the mapping already has such an empty key: write the key in front of the `:`, or remove the line',
    ],
    ['a duplicate key with a line separator in it', 'users: []\nx\u2028y: 1\nx\u2028y: 2\n', 'identities/cr.yaml:3:1: duplicate key `x\\u2028y`: each key may appear only once in a mapping'],
  ])('%s', async (_name, content, firstLine) => {
    const dir = await repository({ files: { 'identities/cr.yaml': content } });
    const { code, stderr } = await runCli(['validate'], {}, dir);
    expect(code).toBe(1);
    expect(stderr.split('\n')[0]).toBe(firstLine);
  });
});

describe('files that must not be read', () => {
  test('a file over 10 MiB is refused before it is parsed', async () => {
    const dir = await repository({});
    await writeFile(join(dir, 'identities', 'huge.yaml'), `users: []\n${'#'.repeat(10 * 1024 * 1024)}\n`);
    await expectRejected(dir, [{ file: 'identities/huge.yaml', line: 1, column: 1, path: '', message: 'the file is 10.0 MiB, over the 10 MiB limit for one file: split it into several identity files' }]);
  });

  test('a symbolic link to a file outside the configuration folder is refused', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'scimform-outside-'));
    afterThisTest(() => rm(outside, { recursive: true, force: true }));
    await writeFile(join(outside, 'secret.yaml'), 'users: []\n');
    const dir = await repository({});
    await symlink(join(outside, 'secret.yaml'), join(dir, 'identities', 'linked.yaml'));
    const { stdout, code } = await runCli(['validate', '--format', 'json'], {}, dir);
    expect(code).toBe(1);
    expect(JSON.parse(stdout).errors).toEqual([
      { file: 'identities/linked.yaml', line: 1, column: 1, path: '', message: expect.stringMatching(/^the file is a symbolic link to `.*secret\.yaml`, outside the configuration file's folder/) },
    ]);
  });

  test('with --format json, a missing configuration file is reported as data', async () => {
    const dir = await repository({});
    const { code, stdout, stderr } = await runCli(['validate', '--config', 'nope.yaml', '--format', 'json'], {}, dir);
    expect([code, stderr]).toEqual([1, '']);
    expect(JSON.parse(stdout).errors).toEqual([
      { file: 'nope.yaml', line: 1, column: 1, path: '', message: expect.stringMatching(/^configuration file `nope\.yaml` not found \(looked in .*\)\. Run scimform in the folder/) },
    ]);
  });

  test('a missing configuration file is one clear error with a hint', async () => {
    const dir = await repository({});
    const { code, stderr } = await runCli(['validate', '--config', 'nope.yaml'], {}, dir);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: configuration file `nope\.yaml` not found \(looked in .*\)\n {2}Run scimform in the folder that holds scimform\.yaml, or pass --config FILE\.\n$/);
  });
});

describe('valid repositories', () => {
  test('the basic example validates clean and says what it read', async () => {
    const { code, stdout, stderr } = await runCli(['validate', '--config', 'examples/basic/scimform.yaml']);
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'OK: 10 users, 3 groups in 2 files, 1 target\n', stderr: '' });
  });

  test('the fixture repository validates clean, as JSON too', async () => {
    const dir = await repository({});
    const { code, stdout } = await runCli(['validate', '--format', 'json'], {}, dir);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ valid: true, errors: [], users: 2, groups: 0, files: 1, targets: 1 });
  });

  test('a userName with `/` is inside the scope `*@example.com`', async () => {
    const dir = await repository({ files: { 'identities/base.yaml': 'users:\n  - userName: a/b@example.com\n' } });
    const { code, stdout, stderr } = await runCli(['validate'], {}, dir);
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'OK: 1 user, 0 groups in 1 file, 1 target\n', stderr: '' });
  });

  test('an unknown --target is an error that lists the known ones', async () => {
    const dir = await repository({});
    const { code, stderr } = await runCli(['validate', '--target', 'prod'], {}, dir);
    expect(code).toBe(1);
    expect(stderr).toBe('error: unknown target `prod`\n  Targets declared in the configuration: test.\n');
  });
});

describe('rules of a target profile', () => {
  const lightstepConfig = ['version: 1', 'desired: [identities/*.yaml]', 'targets:', '  ls:', '    url: https://api.lightstep.com/scim/v2', '    tokenEnv: LS_TOKEN', '    profile: lightstep', ''].join('\n');
  test.each([
    ['emails: null', 'null', 4, 13],
    ['emails: []', '[]', 4, 13],
  ])('a lightstep target refuses a user declared with %s (Lightstep requires emails)', async (_name, value, line, column) => {
    const identities = ['users:', '  - userName: a@example.com', '  - userName: b@example.com', `    emails: ${value}`, ''].join('\n');
    const dir = await repository({ files: { 'scimform.yaml': lightstepConfig, 'identities/base.yaml': identities } });
    const { code, stdout } = await runCli(['validate', '--format', 'json'], {}, dir);
    expect(code).toBe(1);
    expect(JSON.parse(stdout).errors).toEqual([
      {
        file: 'identities/base.yaml',
        line,
        column,
        path: '/users/1/emails',
        message: 'user `b@example.com` declares no emails, but target `ls` (profile lightstep) requires them: remove `emails:` to use the userName, or list one',
      },
    ]);
  });

  test('a lightstep target refuses a userName that is not an email address, whatever the emails (Lightstep logs people in by email)', async () => {
    const identities = [
      'users:',
      '  - userName: jdoe',
      '  - userName: rdoe',
      '    emails: [{ value: rdoe@example.com }]',
      '  - userName: sdoe',
      '    emails: []',
      '  - userName: ann@example.com',
      '',
    ].join('\n');
    const dir = await repository({ files: { 'scimform.yaml': lightstepConfig, 'identities/base.yaml': identities } });
    const { code, stdout } = await runCli(['validate', '--format', 'json'], {}, dir);
    expect(code).toBe(1);
    const refused = (userName: string) =>
      `userName \`${userName}\` is not an email address, but target \`ls\` (profile lightstep) requires one: Lightstep logs people in by their email, so use the person's address as the userName`;
    expect(JSON.parse(stdout).errors).toEqual([
      { file: 'identities/base.yaml', line: 2, column: 15, path: '/users/0/userName', message: refused('jdoe') },
      { file: 'identities/base.yaml', line: 3, column: 15, path: '/users/1/userName', message: refused('rdoe') },
      { file: 'identities/base.yaml', line: 5, column: 15, path: '/users/2/userName', message: refused('sdoe') },
    ]);
  });

  test.each([
    ['lightstep', "userName `rdoe` is not an email address, but target `ls` (profile lightstep) requires one: Lightstep logs people in by their email, so use the person's address as the userName", '/users/0/userName', 15],
    ['generic', 'the primary email `rdoe@example.com` differs from userName `rdoe`, which is not an email address: use the address as the userName, or remove `primary: true` from the email', '/users/0/emails/0/value', 23],
  ])('a %s target gives one error for a primary email next to a userName that is not an address', async (profile, message, path, column) => {
    const config = lightstepConfig.replace('profile: lightstep', `profile: ${profile}`);
    const identities = ['users:', '  - userName: rdoe', '    emails: [{ value: rdoe@example.com, primary: true }]', ''].join('\n');
    const dir = await repository({ files: { 'scimform.yaml': config, 'identities/base.yaml': identities } });
    const { code, stdout } = await runCli(['validate', '--format', 'json'], {}, dir);
    expect(code).toBe(1);
    expect(JSON.parse(stdout).errors).toEqual([{ file: 'identities/base.yaml', line: path.endsWith('userName') ? 2 : 3, column, path, message }]);
  });

  test('a generic target refuses a userName that is not an email address when the email is derived from it', async () => {
    const config = lightstepConfig.replace('profile: lightstep', 'profile: generic');
    const identities = ['users:', '  - userName: jdoe', '  - userName: rdoe', '    emails: [{ value: rdoe@example.com }]', ''].join('\n');
    const dir = await repository({ files: { 'scimform.yaml': config, 'identities/base.yaml': identities } });
    const { code, stdout } = await runCli(['validate', '--format', 'json'], {}, dir);
    expect(code).toBe(1);
    expect(JSON.parse(stdout).errors).toEqual([
      {
        file: 'identities/base.yaml',
        line: 2,
        column: 15,
        path: '/users/0/userName',
        message: "userName `jdoe` is not an email address, but the user declares no `emails`, so its email would be derived from the userName: fix the userName, or declare the user's addresses under `emails:`, or `emails: null` for a user with none",
      },
    ]);
  });

  test.each([
    ['lightstep', 1],
    ['generic', 0],
  ])('updateMethod: put on a %s target: refused where the service has no PUT', async (profile, code) => {
    const config = lightstepConfig.replace('profile: lightstep', `profile: ${profile}\n    updateMethod: put`);
    const dir = await repository({ files: { 'scimform.yaml': config, 'identities/base.yaml': 'users: []\n' } });
    const result = await runCli(['validate', '--format', 'json'], {}, dir);
    expect(result.code).toBe(code);
    if (code === 0) return;
    expect(JSON.parse(result.stdout).errors).toEqual([
      {
        file: 'scimform.yaml',
        line: 8,
        column: 19,
        path: '/targets/ls/updateMethod',
        message: '`updateMethod: put` does not work with `profile: lightstep`: Lightstep updates users with PATCH and documents no PUT, so every update would be refused (remove `updateMethod`)',
      },
    ]);
  });

  test('a generic target accepts a userName that is not an email address for a user declared with no emails', async () => {
    const identities = ['users:', '  - userName: jdoe', '    emails: null', ''].join('\n');
    const dir = await repository({ files: { 'scimform.yaml': lightstepConfig.replace('profile: lightstep', 'profile: generic'), 'identities/base.yaml': identities } });
    expect((await runCli(['validate'], {}, dir)).code).toBe(0);
  });

  test('a generic target accepts a user with no emails', async () => {
    const identities = ['users:', '  - userName: b@example.com', '    emails: []', ''].join('\n');
    const dir = await repository({ files: { 'identities/base.yaml': identities } });
    const { code } = await runCli(['validate'], {}, dir);
    expect(code).toBe(0);
  });
});

describe('inside GitHub Actions', () => {
  test('each problem is also an ::error annotation with a path relative to the working directory', async () => {
    const dir = await repository({ identities: ['wrong-type-active.yaml', 'undeclared-member.yaml'] });
    const { code, stdout } = await runCli(['validate', '--config', 'scimform.yaml'], { GITHUB_ACTIONS: 'true' }, dir);
    expect(code).toBe(1);
    expect(stdout.trimEnd().split('\n')).toEqual([
      '::error file=identities/undeclared-member.yaml,line=5,col=9::member `mallory@example.com` of group `Admins` is not a declared user: declare it under `users:` in an identity file, or remove it',
      '::error file=identities/wrong-type-active.yaml,line=3,col=13::`active` must be true or false (got `yes`)',
    ]);
  });

  test('with --format json the annotations go to stderr, so stdout is one JSON document', async () => {
    const dir = await repository({ identities: ['wrong-type-active.yaml'] });
    const { code, stdout, stderr } = await runCli(['validate', '--format', 'json'], { GITHUB_ACTIONS: 'true' }, dir);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ valid: false, errors: [{ file: 'identities/wrong-type-active.yaml', line: 3, column: 13 }] });
    expect(stderr).toContain('::error file=identities/wrong-type-active.yaml,line=3,col=13::`active` must be true or false (got `yes`)');
  });

  test('a file name with a newline cannot start a line of its own (a workflow command) in the text output', async () => {
    const dir = await repository({ files: { 'identities/x\n::add-mask::scimform\ny.yaml': 'users:\n  - userName: 5\n' } });
    const { code, stderr } = await runCli(['validate'], { GITHUB_ACTIONS: 'true' }, dir);
    expect(code).toBe(1);
    expect(stderr).toContain('identities/x\\u000a::add-mask::scimform\\u000ay.yaml:2:15: `userName` must be a string');
    expect(stderr.split('\n').filter((line) => line.startsWith('::add-mask::'))).toEqual([]);
  });

  test('paths in annotations are relative to where scimform runs, not to the config folder', async () => {
    const dir = await repository({ identities: ['bad-email.yaml'] });
    const { stdout } = await runCli(['validate', '--config', join(dir, 'scimform.yaml')], { GITHUB_ACTIONS: 'true' }, join(dir, '..'));
    expect(stdout).toContain(`::error file=${dir.split('/').at(-1)}/identities/bad-email.yaml,line=4,col=18::`);
  });

  test('the text and JSON outputs use the same paths as the annotations', async () => {
    const dir = await repository({ identities: ['bad-email.yaml'] });
    const folder = dir.split('/').at(-1);
    const text = await runCli(['validate', '--config', join(dir, 'scimform.yaml')], {}, join(dir, '..'));
    expect(text.stderr).toMatch(new RegExp(`^${folder}/identities/bad-email\\.yaml:4:18: `, 'm'));
    const json = await runCli(['validate', '--format', 'json', '--config', join(dir, 'scimform.yaml')], {}, join(dir, '..'));
    expect(JSON.parse(json.stdout).errors[0]).toMatchObject({ file: `${folder}/identities/bad-email.yaml`, line: 4, column: 18 });
  });
});
