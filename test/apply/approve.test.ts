import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { confirmApply } from '../../src/apply/approve.js';
import { ScimformError } from '../../src/errors.js';

describe('confirmApply', () => {
  function io(tty: boolean, answer?: string) {
    const stdin = Object.assign(new PassThrough(), { isTTY: tty });
    const stderr = new PassThrough();
    let prompt = '';
    stderr.on('data', (chunk: Buffer) => (prompt += chunk.toString()));
    if (answer !== undefined) stdin.end(answer);
    return { io: { stdin, stderr }, prompt: () => prompt };
  }

  test.each([
    { answer: 'yes\n', approved: true },
    { answer: 'y\n', approved: false },
    { answer: 'YES\n', approved: false },
    { answer: '', approved: false },
  ])('on a terminal only "yes" approves ($answer → $approved)', async ({ answer, approved }) => {
    const { io: streams, prompt } = io(true, answer);
    await expect(confirmApply(streams, { autoApprove: false })).resolves.toBe(approved);
    expect(prompt()).toContain('Only "yes" will be accepted');
  });

  test('without a terminal it refuses unless --auto-approve', async () => {
    await expect(confirmApply(io(false).io, { autoApprove: false })).rejects.toThrow(ScimformError);
    await expect(confirmApply(io(false).io, { autoApprove: false })).rejects.toThrow('refusing to apply without approval: this run is not interactive');
    await expect(confirmApply(io(false).io, { autoApprove: true })).resolves.toBe(true);
  });

  test('Ctrl-C at the prompt is a no', async () => {
    const { io: streams } = io(true);
    const controller = new AbortController();
    const answer = confirmApply(streams, { autoApprove: false, signal: controller.signal });
    controller.abort();
    await expect(answer).resolves.toBe(false);
  });
});
