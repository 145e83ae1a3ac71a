/**
 * The compiled JSON Schema validators (config, identities, saved plan). The build precompiles them into standalone code
 * (`compile-schemas.ts` writes `validators.generated.js` next to this module) because
 * compiling with ajv at start-up costs 40–230 ms; when that module is absent (tests run from
 * source) the schemas are compiled here, once per process.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The part of an ajv error this package reads. */
export interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

export interface SchemaValidator {
  (data: unknown): boolean;
  errors?: SchemaError[] | null;
}

export type JsonSchema = Record<string, unknown>;

export interface Schemas {
  validateConfig: SchemaValidator;
  validateIdentities: SchemaValidator;
  /** The saved plan (`plan --out`), checked before it is written. */
  validatePlan: SchemaValidator;
  configSchema: JsonSchema;
  identitiesSchema: JsonSchema;
}

export const SCHEMA_FILES = { config: 'config.schema.json', identities: 'identities.schema.json', plan: 'plan.schema.json' } as const;

/** `schemas/` at the package root: two levels up from both `src/config` and `dist/config`. */
export function schemaPath(name: string): string {
  return fileURLToPath(new URL(`../../schemas/${name}`, import.meta.url));
}

export function readSchema(name: string): JsonSchema {
  return JSON.parse(readFileSync(schemaPath(name), 'utf8')) as JsonSchema;
}

/** ajv options shared by the run-time compilation and the build-time code generation. */
// `format` is an annotation: the plan's timestamp has a pattern that does the checking.
export const AJV_OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true, validateFormats: false } as const;

let loaded: Promise<Schemas> | undefined;

export function loadSchemas(): Promise<Schemas> {
  loaded ??= loadPrecompiled().then((schemas) => schemas ?? compileAtRunTime());
  return loaded;
}

async function loadPrecompiled(): Promise<Schemas | undefined> {
  // A variable specifier keeps TypeScript from resolving a module that only the build creates.
  const specifier = './validators.generated.js';
  try {
    return (await import(specifier)) as Schemas;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

async function compileAtRunTime(): Promise<Schemas> {
  const { Ajv2020 } = await import('ajv/dist/2020.js');
  const ajv = new Ajv2020(AJV_OPTIONS);
  const configSchema = readSchema(SCHEMA_FILES.config);
  const identitiesSchema = readSchema(SCHEMA_FILES.identities);
  return {
    validateConfig: ajv.compile(configSchema) as SchemaValidator,
    validateIdentities: ajv.compile(identitiesSchema) as SchemaValidator,
    validatePlan: ajv.compile(readSchema(SCHEMA_FILES.plan)) as SchemaValidator,
    configSchema,
    identitiesSchema,
  };
}
