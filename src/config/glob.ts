/**
 * Expanding the `desired` globs into file names, without leaving the configuration's folder. A
 * glob walks into symbolic links to folders (a shared folder of identity files may be one), but
 * not into a link to a folder outside the configuration's (a link to `/` walked the whole
 * machine) nor into a link to a folder that holds the link (a loop): such a link is skipped and
 * named, so the caller can refuse it. Links to files are left to the reader, which refuses
 * those that lead outside. So are named pipes, devices and sockets, and links that lead nowhere:
 * the walk would leave them out without a word, and a file moved away from under its link would
 * silently declare nobody.
 */
import { readdir, realpath, type Dirent } from 'node:fs';
import { realpath as realpathAsync, stat } from 'node:fs/promises';
import path from 'node:path';
import { glob, type GlobOptions } from 'tinyglobby';
import { show } from './issues.js';

export interface RefusedLink {
  /** The link (or the folder reached through one), relative to the config folder, `/`-separated. */
  path: string;
  /** The folder it leads to, as the file system resolves it. */
  target: string;
  /** true when the target holds the link itself; else the target lies outside the config folder. */
  loop: boolean;
}

export interface GlobResult {
  /** Relative to the config folder, `/`-separated, as tinyglobby gives them. */
  matches: string[];
  refused: RefusedLink[];
}

const inside = (folder: string, candidate: string): boolean => candidate === folder || candidate.startsWith(folder.endsWith(path.sep) ? folder : folder + path.sep);

/**
 * An entry the walk would leave out (a pipe, a device, a socket, a link whose target is missing),
 * shown to it as a file, so that a glob matching it lists it for the reader to refuse.
 */
async function asFileWhenNotWalked(folder: string, entry: Dirent): Promise<Dirent> {
  if (entry.isFile() || entry.isDirectory()) return entry;
  if (entry.isSymbolicLink()) {
    const leadsNowhere = await stat(path.join(folder, entry.name)).then(
      () => false,
      () => true,
    );
    if (!leadsNowhere) return entry;
  }
  return Object.create(entry, { isFile: { value: () => true }, isSymbolicLink: { value: () => false } }) as Dirent;
}

/** The files that `patterns` match under `dir`, and the links to folders the walk refused to enter. */
export async function expandGlobs(patterns: string | readonly string[], dir: string): Promise<GlobResult> {
  const realDir = await realpathAsync(dir);
  // The walk resolves each link it meets (here), then lists the folder it leads to by that folder's real path.
  const linksTo = new Map<string, string>();
  const refused = new Map<string, RefusedLink>();
  const relative = (absolute: string): string => {
    const base = inside(realDir, absolute) ? realDir : dir;
    return path.relative(base, absolute).split(path.sep).join('/');
  };

  const trackedRealpath = ((link: string, callback: (error: NodeJS.ErrnoException | null, resolved: string) => void) =>
    realpath(link, (error, resolved) => {
      if (!error && !linksTo.has(resolved)) linksTo.set(resolved, link);
      callback(error, resolved);
    })) as typeof realpath;

  /** Why the folder at `folder` must not be listed, or nothing. */
  const refusal = async (folder: string): Promise<RefusedLink | undefined> => {
    const real = await realpathAsync(folder);
    const link = linksTo.get(real);
    const named = link ?? folder;
    if (!inside(realDir, real)) return { path: relative(named), target: real, loop: false };
    if (link !== undefined && inside(real, await realpathAsync(path.dirname(link)))) return { path: relative(link), target: real, loop: true };
    return undefined;
  };

  const guardedReaddir = ((folder: string, options: unknown, callback: (error: NodeJS.ErrnoException | null, entries: unknown[]) => void) => {
    // A check that fails leaves the folder to readdir, which reports what is wrong; the walk waits for this callback either way.
    void refusal(folder)
      .catch(() => undefined)
      .then((refuse) => {
        if (refuse === undefined) {
          readdir(folder, options as { withFileTypes: true }, (error, entries) => {
            if (error) callback(error, []);
            else void Promise.all(entries.map((entry) => asFileWhenNotWalked(folder, entry))).then((listed) => callback(null, listed));
          });
          return;
        }
        refused.set(refuse.path, refuse);
        // An error makes the walk skip the folder, as it skips one it cannot read.
        callback(Object.assign(new Error(`${refuse.path} is not walked`), { code: 'ELOOP' }), []);
      });
  }) as typeof readdir;

  const options: GlobOptions = { cwd: dir, onlyFiles: true, expandDirectories: false, fs: { readdir: guardedReaddir, realpath: trackedRealpath } };
  const matches = await glob(patterns, options);
  return { matches, refused: [...refused.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
}

/** The link the walk refused and what is wrong with it, as a noun phrase: `` `a/b`, a symbolic link to … `` */
export function refusedLinkProblem(link: RefusedLink): string {
  return link.loop
    ? `${show(link.path)}, a symbolic link to ${show(link.target)}, a folder that holds the link itself (a loop)`
    : `${show(link.path)}, a symbolic link to the folder ${show(link.target)}, outside the configuration file's folder`;
}
