/**
 * Deterministic benchmark data: a repository of identity files (YAML, as teams write them) and
 * the matching live state for the emulator's `--data` file. Everything is written in chunks, so
 * a million users never sit in one string.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const DOMAIN = 'acme.example';
export const TOKEN_ENV = 'SCIMFORM_BENCH_TOKEN';

const pad = (n, width) => String(n).padStart(width, '0');
const userName = (i) => `user${pad(i, 7)}@${DOMAIN}`;
const userId = (i) => `00000000-0000-4000-8000-${pad(i.toString(16), 12)}`;
const groupId = (g) => `00000000-0000-4000-9000-${pad(g.toString(16), 12)}`;
const givenName = (i) => `Given${i}`;
const familyName = (i, changed) => (changed ? `Family${i}-renamed` : `Family${i}`);

/** 50…150 members, 100 on average over every 101 groups; members are spread over all users. */
export function groupMembers(g, users) {
  const size = Math.min(users, 50 + (g % 101));
  // 1009 is coprime with the user counts used here, so the members of a group are distinct.
  const step = users % 1009 === 0 ? 1 : 1009;
  return Array.from({ length: size }, (_, j) => (g * 7919 + j * step) % users);
}

/** Whether user i is one of the changed 10% in the "changed" repository. */
export const isChanged = (i) => i % 10 === 0;

/** Buffered writes to one file descriptor. */
function writer(file) {
  const fd = openSync(file, 'w');
  let chunks = [];
  let size = 0;
  const flush = () => {
    if (chunks.length > 0) writeSync(fd, chunks.join(''));
    chunks = [];
    size = 0;
  };
  return {
    write(text) {
      chunks.push(text);
      size += text.length;
      if (size > 1 << 20) flush();
    },
    close() {
      flush();
      closeSync(fd);
    },
  };
}

export function writeConfig(dir, { url, pageSize, concurrency }) {
  writeFileSync(
    join(dir, 'scimform.yaml'),
    [
      'version: 1',
      'desired:',
      '  - identities/**/*.yaml',
      'targets:',
      '  bench:',
      `    url: ${url}`,
      `    tokenEnv: ${TOKEN_ENV}`,
      '    profile: generic',
      `    pageSize: ${pageSize}`,
      `    concurrency: ${concurrency}`,
      '    timeoutSeconds: 60',
      'policy:',
      '  unmanagedUsers: deactivate',
      '  unmanagedGroups: ignore',
      '  allowDelete: false',
      '  maxRemovals: "25%"',
      `  scope: "*@${DOMAIN}"`,
      `  allowedEmailDomains: [${DOMAIN}]`,
      '',
    ].join('\n'),
  );
}

/**
 * Identity files: users in contiguous blocks over `files` files, group g in file g % files.
 * `changed` renames the family name of every tenth user (10% of users to update).
 */
export function writeIdentities(dir, { users, groups, files, changed = false }) {
  const folder = join(dir, 'identities');
  mkdirSync(folder, { recursive: true });
  const perFile = Math.ceil(users / files);
  let memberships = 0;
  for (let f = 0; f < files; f++) {
    const out = writer(join(folder, `team-${pad(f, 3)}.yaml`));
    out.write(`# Team ${f}\nusers:\n`);
    const first = f * perFile;
    const last = Math.min(users, first + perFile);
    if (last <= first) out.write('  []\n');
    for (let i = first; i < last; i++) {
      const name = userName(i);
      out.write(
        `  - userName: ${name}\n` +
          `    externalId: E-${i}\n` +
          `    displayName: ${givenName(i)} ${familyName(i, changed && isChanged(i))}\n` +
          `    name: { givenName: ${givenName(i)}, familyName: ${familyName(i, changed && isChanged(i))} }\n` +
          `    emails:\n      - { value: ${name}, type: work, primary: true }\n`,
      );
    }
    const own = [];
    for (let g = f; g < groups; g += files) own.push(g);
    if (own.length > 0) {
      out.write('groups:\n');
      for (const g of own) {
        const members = groupMembers(g, users);
        memberships += members.length;
        out.write(`  - displayName: Group ${pad(g, 5)}\n    externalId: G-${g}\n    members:\n`);
        for (const m of members) out.write(`      - ${userName(m)}\n`);
      }
    }
    out.close();
  }
  return { memberships };
}

/** The emulator's `--data` file: the converged live state of the unchanged repository. */
export function writeLiveData(file, { users, groups }) {
  const out = writer(file);
  out.write('{"version":1,"users":[');
  for (let i = 0; i < users; i++) {
    const name = userName(i);
    const user = {
      id: userId(i),
      userName: name,
      externalId: `E-${i}`,
      displayName: `${givenName(i)} ${familyName(i, false)}`,
      name: { givenName: givenName(i), familyName: familyName(i, false) },
      emails: [{ value: name, type: 'work', primary: true }],
      active: true,
    };
    out.write(`${i === 0 ? '' : ','}${JSON.stringify(user)}`);
  }
  out.write('],"groups":[');
  for (let g = 0; g < groups; g++) {
    const group = {
      id: groupId(g),
      displayName: `Group ${pad(g, 5)}`,
      externalId: `G-${g}`,
      members: groupMembers(g, users).map((m) => ({ value: userId(m) })),
    };
    out.write(`${g === 0 ? '' : ','}${JSON.stringify(group)}`);
  }
  out.write(']}\n');
  out.close();
}
