/**
 * The imperative shell of `import`: where the files go, whether they may be written, and
 * writing them. Everything refused is refused before the first file is written.
 */
import { lstat, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import { ScimformError } from '../errors.js';
import { readRegularFile } from '../files.js';
import type { Config } from '../model.js';
import { MAX_FILE_BYTES } from '../config/index.js';
import { readSchema, schemaPath, SCHEMA_FILES } from '../config/schemas.js';
import type { ImportSelection } from './identities.js';
import { layoutFiles, type SplitMode } from './layout.js';
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
}

export async function renderImportFiles(config: Config, selection: ImportSelection, options: LayoutOptions): Promise<RenderedFile[]> {
  const schema = await schemaReference(config, options.outDir);
  const header = [`Imported from target ${options.target} by \`scimform import\`. Edit freely: git is now the source of truth.`];
  return layoutFiles(selection, options.split).map((file) => {
    const absolute = path.join(options.outDir, file.name);
    return { absolute, path: posix(path.relative(config.dir, absolute)), text: renderIdentityFile(file, { schema, header }) };
  });
}

const list = (paths: readonly string[]): string => (paths.length > 5 ? `${paths.slice(0, 5).join(', ')} and ${paths.length - 5} more` : paths.join(', '));

/**
 * Refuses, before anything is written: files the config's `desired` globs would not read (the
 * round trip could not be empty), other identity files the globs read (every user would be
 * declared twice), existing files unless `force`, and files over the loader's size limit.
 */
export async function checkImportFiles(config: Config, files: readonly RenderedFile[], options: { force: boolean; out: string }): Promise<void> {
  const outside = files.filter((file) => file.path.startsWith('../') || path.isAbsolute(file.path));
  const matches = picomatch(config.desired);
  const unread = files.filter((file) => !outside.includes(file) && !matches(file.path));
  if (outside.length > 0 || unread.length > 0) {
    throw new ScimformError(`the imported files would not be read: ${list([...outside, ...unread].map((file) => file.path))} ${outside.length > 0 ? 'lies outside the configuration file\'s folder' : `matches none of the \`desired\` globs (${config.desired.join(', ')})`}`, {
      // A folder outside the config's cannot be covered by a glob (validate refuses one that leaves it).
      hint:
        outside.length > 0 || options.out.trim() === ''
          ? `Choose an --out folder inside the configuration file's folder that the \`desired\` globs cover (for example \`--out identities\` with \`identities/**/*.yaml\`).`
          : `Choose an --out folder the \`desired\` globs cover (for example \`--out identities\` with \`identities/**/*.yaml\`), or add a glob for ${options.out}/**/*.yaml to ${path.basename(config.file)}.`,
    });
  }

  const writing = new Set(files.map((file) => file.path));
  const configPath = posix(path.relative(config.dir, config.file));
  const others = (await glob(config.desired, { cwd: config.dir, onlyFiles: true, expandDirectories: false }))
    .filter((file) => file !== configPath && !writing.has(file))
    .sort();
  if (others.length > 0) {
    throw new ScimformError(`other identity files already match the \`desired\` globs: ${list(others)}; with the imported files, users would be declared twice`, {
      hint: 'Import into a repository without identity files, or move those files away (for example the files of an earlier import with another --split), then import again.',
    });
  }

  const existing = (await Promise.all(files.map(async (file) => ((await exists(file.absolute)) ? file.path : undefined)))).filter((file) => file !== undefined);
  if (existing.length > 0 && !options.force) {
    throw new ScimformError(`refusing to overwrite ${list(existing)}`, { hint: 'Run again with --force to replace them with the live state (review the change with git diff).' });
  }

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
