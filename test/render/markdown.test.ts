import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { TargetPlan } from '../../src/plan/types.js';
import { escapeMarkdown, GITHUB_COMMENT_LIMIT, renderMarkdown, renderText } from '../../src/render/index.js';
import { createUser, emptyPlan, genericPlan, largePlan, lightstepPlan, summarize } from './fixtures.js';

/** The `<details>` section of one target. */
function section(markdown: string, target: string): string {
  const start = markdown.indexOf(`<details><summary>${target}: `);
  expect(start, `no section for ${target}`).toBeGreaterThanOrEqual(0);
  return markdown.slice(start, markdown.indexOf('</details>', start));
}

/** Operations shown in a diff block: one title line each, starting with the symbol in column 0. */
function shownOperations(text: string): number {
  return text.split('\n').filter((line) => /^[+~!-] {3}(user|group) /.test(line)).length;
}

describe('renderMarkdown golden output', () => {
  test.each([
    ['lightstep', () => [lightstepPlan()]],
    ['several-targets', () => [lightstepPlan(), genericPlan(), emptyPlan()]],
  ] as const)('%s', async (name, plans) => {
    await expect(renderMarkdown(plans())).toMatchFileSnapshot(`golden/${name}.md`);
  });

  test('truncated', async () => {
    await expect(renderMarkdown([largePlan('big', 300), lightstepPlan()], { maxLength: 8000 })).toMatchFileSnapshot('golden/truncated.md');
  });
});

describe('renderMarkdown', () => {
  test('starts with a summary table with right-aligned counts', () => {
    const markdown = renderMarkdown([lightstepPlan(), largePlan('big', 5000)]);
    expect(markdown.split('\n').slice(0, 7)).toEqual([
      '### scimform plan',
      '',
      '| target | create | update | deactivate | delete | manual |',
      '|---|---:|---:|---:|---:|---:|',
      '| lightstep | 1 | 2 | 1 | 0 | 1 |',
      '| big | 2,500 | 2,500 | 0 | 0 | 0 |',
      '',
    ]);
  });

  test('holds the text plan, without colour, in a diff block with the symbol in column 0', () => {
    const body = section(renderMarkdown([lightstepPlan()]), 'lightstep');
    const text = renderText([lightstepPlan()], { color: false });
    expect(body).toContain('<details><summary>lightstep: 5 changes</summary>\n\n```diff\nTarget lightstep');
    expect(body).not.toContain('\u001b');
    // Same lines as the terminal, with the symbol moved to where GitHub's diff colouring looks.
    const moved = text
      .split('\n')
      .map((line) => line.replace(/^ {2}([+~!-]) /, '$1   '))
      .filter((line) => /^[+~!-] {3}/.test(line));
    for (const line of moved) expect(body).toContain(`${line}\n`);
    expect(body).toContain('\n+     emails: [new.hire@example.com (work, primary)]\n');
    expect(body).toContain('\n-     active: true → false\n');
    expect(body).toContain('\n!     manual action needed: ');
  });

  test('member lines keep their own + and - under a group update', () => {
    const body = section(renderMarkdown([genericPlan()]), 'okta-staging');
    expect(body).toContain('\n+     + member back@example.com\n-     - member gone@example.com\n');
  });

  test('guard violations are outside every <details>, before the first one', () => {
    const markdown = renderMarkdown([lightstepPlan(), genericPlan()]);
    const message = genericPlan().violations[0]?.message ?? '';
    const caution = markdown.indexOf('> [!CAUTION]');
    expect(caution).toBeGreaterThan(0);
    expect(caution).toBeLessThan(markdown.indexOf('<details>'));
    expect(markdown).toContain(`> **okta-staging**: apply will refuse this plan.\n> - ${escapeMarkdown(message)}\n`);
    expect(markdown.split('<details>').slice(1).join('')).not.toContain('pass --allow-mass-removal');
  });

  test('a target without changes gets a line, not a section', () => {
    const markdown = renderMarkdown([emptyPlan()]);
    expect(markdown).toContain('\n**staging**: No changes. staging matches the files.\n');
    expect(markdown).not.toContain('<details>');
  });

  test('notes are listed, at most 20 of them', () => {
    const base = emptyPlan();
    const notes = Array.from({ length: 25 }, (_, index) => `user u${index}@example.com is protected: left alone`);
    const markdown = renderMarkdown([{ ...base, plan: { ...base.plan, notes } }]);
    expect(markdown).toContain('**staging**: No changes. staging matches the files.\n\n- Note: user u0@example.com is protected: left alone\n');
    expect(markdown).toContain('- Note: user u19@example.com');
    expect(markdown).not.toContain('u20@example.com');
    expect(markdown).toContain('- … 5 more notes not shown; the full plan is in the saved plan artifact\n');
  });

  test('notes of a changed target follow its summary inside the diff block', () => {
    const body = section(renderMarkdown([genericPlan()]), 'okta-staging');
    expect(body).toContain('Removals: 2 of 12 live users (limit 1).\n\nNote: user breakglass@example.com is protected: left alone\n```');
  });

  test.each([
    ['a table separator', 'team|a', 'team\\|a'],
    ['HTML', '<b>x</b>', '&lt;b&gt;x&lt;/b&gt;'],
    ['emphasis', '*x*_y_', '\\*x\\*\\_y\\_'],
    ['a link', '[x](y)', '\\[x\\](y)'],
  ])('escapes %s in names', (_name, raw, escaped) => {
    expect(escapeMarkdown(raw)).toBe(escaped);
  });

  test('a target name is escaped for Markdown in the table and for HTML in <summary>', () => {
    const plan: TargetPlan = { ...lightstepPlan(), target: { ...lightstepPlan().target, name: 'eu_prod<1>' } };
    const markdown = renderMarkdown([plan]);
    expect(markdown).toContain('\n| eu\\_prod&lt;1&gt; | 1 | 2 | 1 | 0 | 1 |\n');
    expect(markdown).toContain('<details><summary>eu_prod&lt;1&gt;: 5 changes</summary>');
  });

  test('a name with backticks cannot close the code fence', () => {
    const operations = [createUser('a```b@example.com', 'A', 'B', 1)];
    const plan: TargetPlan = { ...lightstepPlan(), plan: { ...lightstepPlan().plan, operations, summary: summarize(operations) } };
    const body = section(renderMarkdown([plan]), 'lightstep');
    expect(body).toContain('\n````diff\n');
    expect(body.trimEnd().endsWith('\n````')).toBe(true);
  });
});

describe('renderMarkdown within the comment limit', () => {
  const count = (n: number) => n.toLocaleString('en-US');
  /** The note for what `largePlan(size)` (creates and updates, alternating) lost in `text`. */
  const noteFor = (size: number, text: string) => {
    const create = Math.ceil(size / 2) - text.split('\n').filter((line) => line.startsWith('+   user ')).length;
    const update = Math.floor(size / 2) - text.split('\n').filter((line) => line.startsWith('~   user ')).length;
    const kinds = [create > 0 ? `${count(create)} to create` : '', update > 0 ? `${count(update)} to update` : ''].filter(Boolean).join(', ');
    const hidden = create + update;
    return `… ${count(hidden)} more ${hidden === 1 ? 'operation' : 'operations'} not shown (${kinds}); the full plan is in the saved plan artifact`;
  };

  test('5,000 changes fit under 65,536 characters and say exactly what was cut, by kind', () => {
    const plan = largePlan('big', 5000);
    const markdown = renderMarkdown([plan]);
    expect(markdown.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    const shown = shownOperations(markdown);
    expect(shown).toBeGreaterThan(100);
    expect(markdown).toContain(`<details><summary>big: 5,000 changes (${count(shown)} shown)</summary>`);
    expect(markdown).toContain(noteFor(5000, markdown));
    // The totals stay whole even when operations are cut.
    expect(markdown).toContain('Plan: 2,500 to create, 2,500 to update, 0 to deactivate, 0 to delete, 0 manual.');
  });

  test('a cut comment keeps every removal, however late in the plan, and shows what it keeps in plan order', () => {
    const big = largePlan('big', 4000);
    const template = lightstepPlan().plan.operations.find((operation) => operation.kind === 'deactivateUser')!;
    const leavers = [1, 2, 3, 4, 5].map((n) => ({ ...template, key: `user:left${n}@example.com`, userName: `left${n}@example.com`, id: `left-${n}` }));
    const operations = [...big.plan.operations, ...leavers];
    const plan = { ...big, plan: { ...big.plan, operations, summary: summarize(operations) } };
    const markdown = renderMarkdown([plan]);
    expect(markdown.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    for (const n of [1, 2, 3, 4, 5]) expect(markdown).toContain(`-   user left${n}@example.com`);
    expect(markdown).toMatch(/not shown \([\d,]+ to create, [\d,]+ to update\);/);
    // In plan order: the updates kept come before the deactivations, as apply sends them.
    expect(markdown.indexOf('~   user ')).toBeLessThan(markdown.indexOf('-   user left1@example.com'));
  });

  test('a small target is shown whole next to a huge one', () => {
    const markdown = renderMarkdown([largePlan('big', 5000), lightstepPlan()]);
    expect(markdown.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(section(markdown, 'lightstep')).not.toContain('not shown');
    expect(shownOperations(section(markdown, 'lightstep'))).toBe(5);
  });

  test('two huge targets share the room evenly', () => {
    const markdown = renderMarkdown([largePlan('one', 5000), largePlan('two', 5000)]);
    const one = shownOperations(section(markdown, 'one'));
    const two = shownOperations(section(markdown, 'two'));
    expect(one).toBeGreaterThan(50);
    expect(Math.abs(one - two)).toBeLessThanOrEqual(2);
  });

  test('whatever the sizes and the limit, the document fits and every cut is accounted for', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 3000, max: 70_000 }), (sizes, maxLength) => {
        const plans = sizes.map((size, index) => largePlan(`t${index}`, size));
        const markdown = renderMarkdown(plans, { maxLength });
        expect(markdown.length).toBeLessThanOrEqual(maxLength);
        sizes.forEach((size, index) => {
          if (size === 0) return;
          const body = section(markdown, `t${index}`);
          const shown = shownOperations(body);
          if (shown < size) expect(body).toContain(noteFor(size, body));
          else expect(body).not.toContain('not shown');
        });
      }),
      { numRuns: 40, seed: 20261129 },
    );
  });

  test.each([
    [900, 'one line per target', /^\*\*lightstep\*\*: Plan: 1 to create.* Operations not shown: the comment would be too long; the full plan is in the saved plan artifact\.$/m],
    [500, 'whole lines and a note', /\n\n… the plan is too long for a comment; the full plan is in the saved plan artifact\n$/],
  ])('a limit (%i) smaller than the sections gives %s, guards first', (maxLength, _what, shape) => {
    const markdown = renderMarkdown([lightstepPlan(), genericPlan()], { maxLength });
    expect(markdown.length).toBeLessThanOrEqual(maxLength);
    expect(markdown).toMatch(shape);
    expect(markdown).toContain('> **okta-staging**: apply will refuse this plan.');
  });

  test('renders 5,000 operations in well under 100 ms', () => {
    const plans = [largePlan('big', 5000)];
    renderMarkdown(plans);
    // CPU time, best of five: wall time on a shared machine measures the neighbours.
    const timings = [0, 1, 2, 3, 4].map(() => {
      const start = process.cpuUsage();
      renderMarkdown(plans);
      const used = process.cpuUsage(start);
      return (used.user + used.system) / 1000;
    });
    expect(Math.min(...timings)).toBeLessThan(100);
  });
});
