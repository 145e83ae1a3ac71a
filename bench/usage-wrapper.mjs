/**
 * `node usage-wrapper.mjs USAGE_FILE SCRIPT ARGS...`: runs SCRIPT in this process as if started
 * directly, and at exit writes this process's resource usage (CPU, peak RSS) to USAGE_FILE.
 * Used where GNU time is not installed.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [usageFile, script, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], resolve(script), ...args];
process.on('exit', () => writeFileSync(usageFile, JSON.stringify(process.resourceUsage())));
await import(pathToFileURL(resolve(script)).href);
