import type { CliContext } from './context.js';
import { ScimformError } from '../errors.js';

export async function run(_ctx: CliContext, _options: Record<string, unknown>, _args: string[]): Promise<number> {
  throw new ScimformError('`scimform import` is not implemented yet', { hint: 'This command is planned; see the README for what works today.' });
}
