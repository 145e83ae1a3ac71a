/**
 * Build step (`npm run build`): generates standalone validator code for the JSON Schemas
 * into `dist/config/validators.generated.js`, so the CLI does not compile schemas at start-up.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { AJV_OPTIONS, SCHEMA_FILES, readSchema } from './schemas.js';

const configSchema = readSchema(SCHEMA_FILES.config);
const identitiesSchema = readSchema(SCHEMA_FILES.identities);
const ajv = new Ajv2020({ ...AJV_OPTIONS, code: { source: true, esm: true } });
ajv.addSchema(configSchema, 'config');
ajv.addSchema(identitiesSchema, 'identities');
ajv.addSchema(readSchema(SCHEMA_FILES.plan), 'plan');

const code = standaloneCode.default(ajv, { validateConfig: 'config', validateIdentities: 'identities', validatePlan: 'plan' });
// ajv's ESM output still `require`s its small run-time helpers (ucs2length for minLength).
const header = "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n";
const schemas =
  `export const configSchema = ${JSON.stringify(configSchema)};\n` +
  `export const identitiesSchema = ${JSON.stringify(identitiesSchema)};\n`;
const target = fileURLToPath(new URL('./validators.generated.js', import.meta.url));
writeFileSync(target, header + code.replace(/^"use strict";/, '') + '\n' + schemas);
