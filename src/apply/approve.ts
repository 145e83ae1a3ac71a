/** Approval before a plan-then-apply run, as Terraform asks it: only the word `yes` goes ahead. */
import { createInterface } from 'node:readline';
import { ScimformError } from '../errors.js';

export interface ApprovalIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

/**
 * Resolves true when apply may go ahead. With `--auto-approve` it does not ask; on a terminal it
 * asks for `yes`; without a terminal (CI) it refuses, because nobody can answer.
 */
export async function confirmApply(io: ApprovalIO, options: { autoApprove: boolean; signal?: AbortSignal }): Promise<boolean> {
  if (options.autoApprove) return true;
  if (io.stdin.isTTY !== true) {
    throw new ScimformError('refusing to apply without approval: this run is not interactive', {
      hint: 'Review the plan, then run `scimform apply --auto-approve` (or apply a saved plan file).',
    });
  }
  const lines = createInterface({ input: io.stdin, output: io.stderr, terminal: false });
  // Ctrl-C at the prompt, or the end of input, is a "no".
  let decline = (): void => {};
  const onAbort = (): void => decline();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    io.stderr.write('Do you want to apply these changes? Only "yes" will be accepted: ');
    const answer = await new Promise<string>((resolve) => {
      decline = () => resolve('');
      if (options.signal?.aborted) decline();
      lines.once('line', resolve);
      lines.once('close', decline);
    });
    return answer.trim() === 'yes';
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    lines.close();
  }
}
