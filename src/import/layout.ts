/**
 * How imported identities are spread over files (`--split`). Every user is declared in exactly
 * one file, and file names are derived from sorted data, so a second import writes the same
 * files.
 *
 * - `none`: one file, `identities.yaml`, with every user and group.
 * - `domain`: one file per userName domain (`acme.example.yaml`; `no-domain.yaml` for userNames
 *   without one), and every group in `groups.yaml`.
 * - `group`: one file per group (`engineering.yaml`) holding the group and the users whose first
 *   group, by name, it is; users in no group in `ungrouped.yaml`.
 *
 * Files end in `.yaml`, or in `.yml` where that is what the configuration's globs read.
 */
import type { ImportedGroup, ImportedUser, ImportSelection } from './identities.js';

export type SplitMode = 'none' | 'group' | 'domain';
export type Extension = 'yaml' | 'yml';

export interface ImportFile {
  /** File name inside the output folder (no folder part). */
  name: string;
  users: ImportedUser[];
  groups: ImportedGroup[];
}

const lower = (value: string): string => value.toLowerCase();

/** A file-name-safe form of a name: lower case, runs of other characters as `-`. */
export function slug(text: string): string {
  const base = lower(text)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 80)
    .replace(/[-.]+$/, '');
  return base === '' ? 'unnamed' : base;
}

/** Hands out file names in call order, adding `-2`, `-3`… to names already given (slugs are lower case, so case-insensitive file systems agree). */
function nameAllocator(extension: Extension): (wanted: string) => string {
  const used = new Set<string>();
  return (wanted) => {
    let name = wanted;
    for (let n = 2; used.has(name); n += 1) name = `${wanted}-${n}`;
    used.add(name);
    return `${name}.${extension}`;
  };
}

/**
 * Names (without extension) a layout writes, to try the globs on before the live data is read:
 * its fixed names, and one made from data (a domain, a group) standing in for the others.
 */
export const SAMPLE_NAMES: Record<SplitMode, readonly string[]> = {
  none: ['identities'],
  domain: ['identities', 'groups', 'example.com'],
  group: ['ungrouped', 'engineering'],
};

export function layoutFiles(selection: Pick<ImportSelection, 'users' | 'groups'>, split: SplitMode, extension: Extension = 'yaml'): ImportFile[] {
  const { users, groups } = selection;
  if (split === 'none') return [{ name: `identities.${extension}`, users, groups }];

  const allocate = nameAllocator(extension);
  if (split === 'domain') {
    const reserved = allocate('groups');
    const byDomain = new Map<string, ImportedUser[]>();
    for (const user of users) {
      const at = user.userName.lastIndexOf('@');
      const domain = at > 0 && at < user.userName.length - 1 ? slug(user.userName.slice(at + 1)) : 'no-domain';
      byDomain.set(domain, [...(byDomain.get(domain) ?? []), user]);
    }
    const files = [...byDomain.keys()].sort().map((domain) => ({ name: allocate(domain), users: byDomain.get(domain)!, groups: [] }));
    if (groups.length > 0) return [...files, { name: reserved, users: [], groups }];
    // An empty target still gets a file: the folder then says what was imported (nothing).
    return files.length > 0 ? files : [{ name: `identities.${extension}`, users: [], groups: [] }];
  }

  // split === 'group': groups arrive sorted by name, so a user's first group is the first that lists them.
  const home = new Map<string, ImportedGroup>();
  for (const group of groups) for (const member of group.members) if (!home.has(lower(member))) home.set(lower(member), group);
  const reserved = allocate('ungrouped');
  const files: ImportFile[] = groups.map((group) => ({
    name: allocate(slug(group.displayName)),
    users: users.filter((user) => home.get(lower(user.userName)) === group),
    groups: [group],
  }));
  const ungrouped = users.filter((user) => !home.has(lower(user.userName)));
  return ungrouped.length > 0 || files.length === 0 ? [...files, { name: reserved, users: ungrouped, groups: [] }] : files;
}
