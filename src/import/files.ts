/**
 * The imperative shell of `import`: where the files go, whether they may be written, and
 * writing them. Everything refused is refused before the first file is written.
 */
import { constants } from 'node:fs';
import { access, lstat, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { ScimformError } from '../errors.js';
import { readRegularFile } from '../files.js';
import type { Config } from '../model.js';
import { MAX_FILE_BYTES } from '../config/index.js';
import { expandGlobs, refusedLinkProblem } from '../config/glob.js';
import { readSchema, schemaPath, SCHEMA_FILES } from '../config/schemas.js';
import type { ImportSelection } from './identities.js';
import { layoutFiles, SAMPLE_NAMES, type Extension, type SplitMode } from './layout.js';
import { renderIdentityFile } from './render.js';

export interface RenderedFile {
  absolute: string;
  /** Relative to the config folder, `/`-separated, as validate and plan name files. */
  path: string;
  text: string;
}

const posix = (file: string): string => file.split(path.sep).join('/');
const isUrl = (reference: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(reference);

/**
 * The `$schema` reference for the identity files, relative to `folder` where it is a path:
 * next to the config file's own schema when its yaml-language-server line names one, else the
 * installed package's schema when it sits inside the repository (node_modules), else its `$id`.
 */
export async function schemaReference(config: Config, folder: string): Promise<string> {
  const text = (await readRegularFile(config.file)).toString('utf8');
  const declared = /^#\s*yaml-language-server:\s*\$schema=(\S+)/m.exec(text)?.[1];
  if (declared && /(^|\/)config\.schema\.json$/.test(declared)) {
    const sibling = declared.replace(/config\.schema\.json$/, SCHEMA_FILES.identities);
    if (isUrl(sibling)) return sibling;
    return posix(path.relative(folder, path.resolve(config.dir, sibling)));
  }
  const installed = schemaPath(SCHEMA_FILES.identities);
  if (!path.relative(config.dir, installed).startsWith('..')) return posix(path.relative(folder, installed));
  return String(readSchema(SCHEMA_FILES.identities).$id);
}

export interface LayoutOptions {
  /** The output folder, absolute. */
  outDir: string;
  split: SplitMode;
  /** Named in each file's header comment. */
  target: string;
  /** `yaml` unless the globs read `.yml` files only (see `checkImportFolder`). */
  extension?: Extension;
}

export async function renderImportFiles(config: Config, selection: ImportSelection, options: LayoutOptions): Promise<RenderedFile[]> {
  const schema = await schemaReference(config, options.outDir);
  const header = [`Imported from target ${options.target} by \`scimform import\`. Edit freely: git is now the source of truth.`];
  return layoutFiles(selection, options.split, options.extension).map((file) => {
    const absolute = path.join(options.outDir, file.name);
    return { absolute, path: posix(path.relative(config.dir, absolute)), text: renderIdentityFile(file, { schema, header }) };
  });
}

const list = (paths: readonly string[]): string => (paths.length > 5 ? `${paths.slice(0, 5).join(', ')} and ${paths.length - 5} more` : paths.join(', '));
const leaves = (relative: string): boolean => relative === '..' || relative.startsWith('../') || path.isAbsolute(relative);

function unreadError(config: Config, paths: readonly string[], outside: boolean, out: string): ScimformError {
  return new ScimformError(`the imported files would not be read: ${list(paths)} ${outside ? 'lies outside the configuration file\'s folder' : `matches none of the \`desired\` globs (${config.desired.join(', ')})`}`, {
    // A folder outside the config's cannot be covered by a glob (validate refuses one that leaves it).
    hint:
      outside || out.trim() === ''
        ? `Choose an --out folder inside the configuration file's folder that the \`desired\` globs cover (for example \`--out identities\` with \`identities/**/*.yaml\`).`
        : `Choose an --out folder the \`desired\` globs cover (for example \`--out identities\` with \`identities/**/*.yaml\`), or add a glob for ${out}/**/*.yaml to ${path.basename(config.file)}.`,
  });
}

const othersError = (others: readonly string[]): ScimformError =>
  new ScimformError(`other identity files already match the \`desired\` globs: ${list(others)}; with the imported files, users would be declared twice`, {
    hint: 'Import into a repository without identity files, or move those files away (for example the files of an earlier import with another --split), then import again.',
  });

const overwriteError = (existing: readonly string[]): ScimformError =>
  new ScimformError(`refusing to overwrite ${list(existing)}`, { hint: 'Run again with --force to replace them with the live state (review the change with git diff).' });

/** The identity files the config's globs read now, but for the config itself; a link the globs refuse to follow fails import as it fails validate. */
async function identityFiles(config: Config): Promise<string[]> {
  const configPath = posix(path.relative(config.dir, config.file));
  const { matches, refused } = await expandGlobs(config.desired, config.dir);
  if (refused[0] !== undefined) {
    throw new ScimformError(`the \`desired\` globs reach ${refusedLinkProblem(refused[0])}`, { hint: 'Remove the link, or narrow the globs so that they do not reach it (`scimform validate` names every such link), then import again.' });
  }
  return matches.filter((file) => file !== configPath).sort();
}

/** Refuses an --out folder that cannot be made or written: the path or one of its parents is a file, or the first that exists is read-only. */
async function checkFolderUsable(outDir: string, out: string): Promise<void> {
  let existing = outDir;
  for (;;) {
    try {
      if (!(await stat(existing)).isDirectory()) {
        throw new ScimformError(existing === outDir ? `--out ${out} is a file, not a folder` : `--out ${out} cannot be made: ${existing} is a file`, { hint: 'Pass a folder for the identity files with --out (it is made when it does not exist).' });
      }
      break;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      existing = path.dirname(existing);
    }
  }
  try {
    await access(existing, constants.W_OK);
  } catch (error) {
    throw new ScimformError(`--out ${out} cannot be written: ${existing} is not writable (${(error as { code?: string }).code ?? 'error'})`, { hint: 'Choose an --out folder you may write to.', cause: error });
  }
}

export interface FolderOptions {
  /** As given: relative to the config folder. */
  out: string;
  split: SplitMode;
  force: boolean;
}

/**
 * What can be refused before the target is read, so that a typo does not cost a read of every
 * user first: an --out folder outside the configuration's, or one that cannot be made; globs that
 * would read no file written there; identity files the globs read already (unless `force`, where
 * the file names only the live data gives decide, after the read). Returns the extension to write:
 * `yaml`, or `yml` where the globs read only that.
 */
export async function checkImportFolder(config: Config, options: FolderOptions): Promise<Extension> {
  const outDir = path.resolve(config.dir, options.out);
  const folder = posix(path.relative(config.dir, outDir));
  const at = (name: string): string => (folder === '' ? name : `${folder}/${name}`);
  const samples = SAMPLE_NAMES[options.split];
  if (leaves(folder)) throw unreadError(config, [at(`${samples[0]}.yaml`)], true, options.out);
  await checkFolderUsable(outDir, options.out);

  const matches = picomatch(config.desired);
  const extension = (['yaml', 'yml'] as const).find((candidate) => samples.some((name) => matches(at(`${name}.${candidate}`))));
  if (extension === undefined) throw unreadError(config, [at(`${samples[0]}.yaml`)], false, options.out);

  const found = await identityFiles(config);
  if (options.split === 'none') {
    // The one file import writes is known: the checks after the read come to the same answer.
    const mine = at(`identities.${extension}`);
    const others = found.filter((file) => file !== mine);
    if (others.length > 0) throw othersError(others);
    if (found.includes(mine) && !options.force) throw overwriteError([mine]);
  } else if (found.length > 0 && !options.force) {
    throw new ScimformError(`identity files already match the \`desired\` globs: ${list(found)}; import would replace them, or declare their users a second time`, {
      hint: 'Run again with --force to replace the files of an earlier import made with the same --split (review the change with git diff), or move them away, then import again.',
    });
  }
  return extension;
}

/**
 * Refuses, before anything is written: files the config's `desired` globs would not read (the
 * round trip could not be empty), other identity files the globs read (every user would be
 * declared twice), existing files unless `force`, and files over the loader's size limit.
 */
export async function checkImportFiles(config: Config, files: readonly RenderedFile[], options: { force: boolean; out: string }): Promise<void> {
  const outside = files.filter((file) => leaves(file.path));
  const matches = picomatch(config.desired);
  const unread = files.filter((file) => !outside.includes(file) && !matches(file.path));
  if (outside.length > 0 || unread.length > 0) throw unreadError(config, [...outside, ...unread].map((file) => file.path), outside.length > 0, options.out);

  const writing = new Set(files.map((file) => file.path));
  const others = (await identityFiles(config)).filter((file) => !writing.has(file));
  if (others.length > 0) throw othersError(others);

  const existing = (await Promise.all(files.map(async (file) => ((await exists(file.absolute)) ? file.path : undefined)))).filter((file) => file !== undefined);
  if (existing.length > 0 && !options.force) throw overwriteError(existing);

  const large = files.filter((file) => Buffer.byteLength(file.text) > MAX_FILE_BYTES);
  if (large.length > 0) {
    throw new ScimformError(`${list(large.map((file) => file.path))} would be over the ${MAX_FILE_BYTES / 1024 / 1024} MiB limit for one identity file`, {
      hint: 'Spread the users over several files with --split domain or --split group.',
    });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return false;
    throw error;
  }
}

export async function writeImportFiles(files: readonly RenderedFile[]): Promise<void> {
  for (const file of files) {
    await mkdir(path.dirname(file.absolute), { recursive: true });
    await writeFile(file.absolute, file.text);
  }
}
