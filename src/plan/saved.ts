/**
 * The saved plan (`plan --out`, `apply plan.json`; SPEC §4 "Saved plan"): a versioned JSON
 * document, written atomically, read back with a schema check, and tied to the files it was
 * computed from by a digest.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { loadSchemas, type SchemaError } from '../config/schemas.js';
import { ScimformError } from '../errors.js';
import { NotAFileError, readRegularFile } from '../files.js';
import type { IdentityFile } from '../model.js';
import { renderJson } from '../render/json.js';
import type { SavedPlan, TargetPlan } from './types.js';

export const SAVED_PLAN_FORMAT_VERSION = 1;

const byPath = (a: IdentityFile, b: IdentityFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * The digest of the config and identity files: sha256 (hex) of the text made of one line
 * `<sha256 of the file>  <path>\n` per file, sorted by path (code-unit order) — the format of
 * `sha256sum`, so it can be checked by hand:
 * `(cd <config folder> && sha256sum <files…> | sort -k2 | sha256sum)`. It does not depend on the
 * order the files were read in.
 */
export function computeDigest(files: IdentityFile[]): string {
  const lines = [...files].sort(byPath).map((file) => `${file.sha256}  ${file.path}\n`);
  return createHash('sha256').update(lines.join('')).digest('hex');
}

export function buildSavedPlan(input: {
  digest: string;
  config: string;
  targets: TargetPlan[];
  scimformVersion: string;
  createdAt: string;
  /** The files behind the digest; stored so a stale plan can name what changed. */
  files?: IdentityFile[];
  failedTargets?: { name: string; message: string }[];
}): SavedPlan {
  return {
    formatVersion: SAVED_PLAN_FORMAT_VERSION,
    scimformVersion: input.scimformVersion,
    createdAt: input.createdAt,
    digest: input.digest,
    config: input.config,
    ...(input.files === undefined ? {} : { files: [...input.files].sort(byPath).map(({ path, sha256 }) => ({ path, sha256 })) }),
    targets: input.targets,
    ...(input.failedTargets === undefined || input.failedTargets.length === 0 ? {} : { failedTargets: input.failedTargets }),
  };
}

// ---------------------------------------------------------------------------------------------
// Schema

function describeSchemaError(error: SchemaError): string {
  const where = error.instancePath === '' ? 'the document' : error.instancePath;
  if (error.keyword === 'additionalProperties') {
    return `${where} has an unknown property "${String((error.params as { additionalProperty?: unknown }).additionalProperty)}"`;
  }
  if (error.keyword === 'enum') {
    return `${where} ${error.message ?? 'is invalid'}: ${(error.params as { allowedValues?: unknown[] }).allowedValues?.map((value) => JSON.stringify(value)).join(', ') ?? ''}`;
  }
  return `${where} ${error.message ?? 'is invalid'}`;
}

/** The errors a person can act on: `if` failures only repeat what the `then` errors say. */
function schemaProblems(errors: SchemaError[] | null | undefined): string[] {
  return [...new Set((errors ?? []).filter((error) => error.keyword !== 'if').map(describeSchemaError))];
}

/** Validates a plan about to be written. A failure here is a bug in scimform, not the person's doing. */
async function assertValid(saved: SavedPlan): Promise<void> {
  const { validatePlan: validate } = await loadSchemas();
  if (!validate(JSON.parse(renderJson(saved)))) {
    throw new Error(`internal error: the saved plan does not match schemas/plan.schema.json: ${schemaProblems(validate.errors).join('; ')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Files

/**
 * Writes the plan so that a reader sees the old file or the new one, never half of one: a temp
 * file in the same folder (rename is atomic only within a file system), fsync, rename. Mode 0600:
 * the plan names every user.
 */
export async function writeSavedPlan(path: string, saved: SavedPlan): Promise<void> {
  await assertValid(saved);
  const text = renderJson(saved);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    throw new ScimformError(`cannot write the saved plan to ${path}${code ? ` (${code})` : ''}`, {
      hint: 'Check that the folder exists and is writable, or pass another path to --out.',
      cause: error,
    });
  }
  await syncFolder(dirname(path));
}

/** Makes the rename itself durable (POSIX); folders cannot be opened for this on Windows, where it is skipped. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r').catch(() => undefined);
  if (handle === undefined) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a folder; the plan is written either way.
  } finally {
    await handle.close();
  }
}

/** `line L, column C` of a 0-based offset. */
function lineColumn(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let index = text.indexOf('\n'); index !== -1 && index < offset; index = text.indexOf('\n', index + 1)) {
    line += 1;
    start = index + 1;
  }
  return `line ${line}, column ${offset - start + 1}`;
}

const NOT_A_PLAN_HINT = 'Pass the file written by `scimform plan --out FILE`.';
const REMAKE_HINT = 'The file was edited or damaged; run `scimform plan --out FILE` again and apply the new file.';

export async function readSavedPlan(path: string): Promise<SavedPlan> {
  let text: string;
  try {
    text = (await readRegularFile(path)).toString('utf8');
  } catch (error) {
    if (error instanceof NotAFileError) {
      throw new ScimformError(`saved plan ${path} is ${error.kind}, not a regular file`, {
        hint: 'Save the plan to a file with `scimform plan --out FILE` and pass that file (scimform does not read pipes or devices).',
        cause: error,
      });
    }
    const code = (error as NodeJS.ErrnoException).code;
    throw new ScimformError(
      code === 'ENOENT' ? `saved plan ${path} does not exist` : `cannot read saved plan ${path}${code ? ` (${code})` : ''}`,
      { hint: 'Check the path, or make a plan with `scimform plan --out FILE`.', cause: error },
    );
  }

  // An editor may have added a byte-order mark, which JSON.parse refuses.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const offset = jsonErrorOffset(text);
    throw new ScimformError(`${path} is not valid JSON at position ${offset} (${lineColumn(text, offset)})`, {
      hint: `${NOT_A_PLAN_HINT} If it is one, it was damaged; make it again.`,
      cause: error,
    });
  }

  if (document === null || typeof document !== 'object' || Array.isArray(document) || !('formatVersion' in document)) {
    throw new ScimformError(`${path} is not a scimform plan (it has no formatVersion)`, { hint: NOT_A_PLAN_HINT });
  }
  // Checked before the schema: a newer document is expected to fail this version's schema.
  const version = (document as { formatVersion: unknown }).formatVersion;
  if (typeof version === 'number' && Number.isInteger(version) && version > SAVED_PLAN_FORMAT_VERSION) {
    throw new ScimformError(`${path} was written by a newer scimform (format ${version}); this one reads format ${SAVED_PLAN_FORMAT_VERSION}`, {
      hint: 'Upgrade scimform to the version that made the plan, or make the plan again with this version.',
    });
  }
  if (version !== SAVED_PLAN_FORMAT_VERSION) {
    throw new ScimformError(`${path} is not a scimform plan (unknown formatVersion ${JSON.stringify(version)})`, { hint: NOT_A_PLAN_HINT });
  }

  const { validatePlan: validate } = await loadSchemas();
  if (!validate(document)) {
    const problems = schemaProblems(validate.errors);
    const shown = problems.slice(0, 3).join('; ');
    const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : '';
    throw new ScimformError(`${path} is not a valid scimform plan: ${shown}${more}`, { hint: REMAKE_HINT });
  }
  const saved = document as SavedPlan;
  if (saved.files !== undefined && computeDigest(saved.files) !== saved.digest) {
    throw new ScimformError(`${path} is not a valid scimform plan: its digest does not match the file hashes it lists`, { hint: REMAKE_HINT });
  }
  return saved;
}

/** Lists at most a few names, so the message stays one readable line. */
function listNames(names: string[]): string {
  const shown = names.slice(0, 5);
  const rest = names.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : shown.join(', ');
}

/**
 * Refuses a saved plan made from other files than those in the working tree (SPEC §4): the
 * operations were computed from what the files said then.
 */
export function assertDigestMatches(saved: SavedPlan, files: IdentityFile[]): void {
  if (computeDigest(files) === saved.digest) return;
  const hint = 'Run `scimform plan` again and review the new plan.';
  if (saved.files === undefined) {
    throw new ScimformError('saved plan is stale: the configuration or identity files changed since the plan was made', { hint });
  }
  const then = new Map(saved.files.map((file) => [file.path, file.sha256]));
  const now = new Map(files.map((file) => [file.path, file.sha256]));
  const changed = [...now].filter(([path, sha256]) => then.has(path) && then.get(path) !== sha256).map(([path]) => path).sort();
  const added = [...now.keys()].filter((path) => !then.has(path)).sort();
  const removed = [...then.keys()].filter((path) => !now.has(path)).sort();
  const parts = [
    ...(changed.length > 0 ? [`${listNames(changed)} changed`] : []),
    ...(added.length > 0 ? [`${listNames(added)} ${added.length === 1 ? 'is' : 'are'} new`] : []),
    ...(removed.length > 0 ? [`${listNames(removed)} ${removed.length === 1 ? 'was' : 'were'} removed`] : []),
  ];
  const what = parts.length > 0 ? parts.join(', ') : 'the configuration or identity files changed';
  throw new ScimformError(`saved plan is stale: ${what} since the plan was made`, { hint });
}

// ---------------------------------------------------------------------------------------------
// Where JSON.parse failed. Node 20's messages do not always give a position ("Unexpected token
// '}', … is not valid JSON"), so the offset is found by a small scanner of RFC 8259 grammar.

/** 0-based offset of the first syntax error in `text` (its length when the text ends too early). */
export function jsonErrorOffset(text: string): number {
  let at = 0;
  // Typed explicitly so that TypeScript knows code after `fail()` is unreachable.
  const fail: () => never = () => {
    throw at;
  };
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at] ?? '')) at += 1;
  };
  const literal = (word: string) => {
    for (const char of word) {
      if (text[at] !== char) fail();
      at += 1;
    }
  };
  const string = () => {
    at += 1;
    for (;;) {
      const char = text[at];
      if (char === undefined) fail();
      if (char === '"') {
        at += 1;
        return;
      }
      if (char === '\\') {
        at += 1;
        const escape = text[at];
        if (escape === 'u') {
          at += 1;
          for (let digit = 0; digit < 4; digit += 1) {
            if (!/[0-9a-fA-F]/.test(text[at] ?? '')) fail();
            at += 1;
          }
          continue;
        }
        if (escape === undefined || !'"\\/bfnrt'.includes(escape)) fail();
        at += 1;
        continue;
      }
      if ((char.codePointAt(0) ?? 0) < 0x20) fail();
      at += 1;
    }
  };
  const numberPattern = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  const number = () => {
    numberPattern.lastIndex = at;
    const match = numberPattern.exec(text);
    if (!match) fail();
    at += match[0].length;
  };
  const value = (): void => {
    space();
    const char = text[at];
    if (char === '{') {
      at += 1;
      space();
      if (text[at] === '}') {
        at += 1;
        return;
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail();
        string();
        space();
        if (text[at] !== ':') fail();
        at += 1;
        value();
        space();
        if (text[at] === ',') {
          at += 1;
          continue;
        }
        if (text[at] === '}') {
          at += 1;
          return;
        }
        fail();
      }
    }
    if (char === '[') {
      at += 1;
      space();
      if (text[at] === ']') {
        at += 1;
        return;
      }
      for (;;) {
        value();
        space();
        if (text[at] === ',') {
          at += 1;
          continue;
        }
        if (text[at] === ']') {
          at += 1;
          return;
        }
        fail();
      }
    }
    if (char === '"') return string();
    if (char === 't') return literal('true');
    if (char === 'f') return literal('false');
    if (char === 'n') return literal('null');
    if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return number();
    fail();
  };
  try {
    value();
    space();
    if (at < text.length) fail();
    return text.length;
  } catch (offset) {
    // A RangeError from nesting deeper than the stack: say where the scan was.
    return typeof offset === 'number' ? offset : at;
  }
}
