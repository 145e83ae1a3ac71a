import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Operation, SavedPlan, TargetPlan } from '../../src/plan/types.js';
import { formatProvenance, formatValue, renderJson, renderMarkdown, renderPlan, renderText, shortId, summaryLine } from '../../src/render/index.js';
import { PROVENANCE_COLUMN, removalsLine } from '../../src/render/blocks.js';
import { formatCount } from '../../src/render/format.js';
import { expectSafeOutput, HOSTILE_NAMES } from '../helpers/hostile.js';
import { createUser, emptyPlan, genericPlan, largePlan, lightstepPlan, summarize } from './fixtures.js';

const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

function planWith(operations: Operation[], overrides: Partial<TargetPlan> = {}): TargetPlan {
  const base = emptyPlan();
  return { ...base, plan: { ...base.plan, operations, summary: summarize(operations) }, ...overrides };
}

describe('renderText golden output', () => {
  test.each([
    ['lightstep', () => [lightstepPlan()]],
    ['generic-with-violation', () => [genericPlan()]],
    ['empty', () => [emptyPlan()]],
    ['several-targets', () => [lightstepPlan(), genericPlan(), emptyPlan()]],
  ] as const)('%s', async (name, plans) => {
    await expect(renderText(plans(), { color: false })).toMatchFileSnapshot(`golden/${name}.txt`);
  });

  test('colour', async () => {
    await expect(renderText([lightstepPlan(), genericPlan()], { color: true })).toMatchFileSnapshot('golden/colour.ansi.txt');
  });
});

describe('summaryLine', () => {
  test.each([
    ['an empty plan', emptyPlan(), 'No changes. staging matches the files.'],
    ['the SPEC example', lightstepPlan(), 'Plan: 1 to create, 2 to update, 1 to deactivate, 0 to delete, 1 manual.'],
    ['deletes', genericPlan(), 'Plan: 1 to create, 2 to update, 0 to deactivate, 2 to delete, 0 manual.'],
    ['thousands', largePlan('big', 5000), 'Plan: 2,500 to create, 2,500 to update, 0 to deactivate, 0 to delete, 0 manual.'],
  ])('%s', (_name, plan, expected) => {
    expect(summaryLine(plan)).toBe(expected);
  });
});

describe('removalsLine', () => {
  const withRemovals = (removals: number, liveUsersInScope: number): TargetPlan => {
    const plan = lightstepPlan();
    return { ...plan, plan: { ...plan.plan, removals: { ...plan.plan.removals, removals, liveUsersInScope } } };
  };

  test('states the limit it was checked against', () => {
    expect(removalsLine(withRemovals(1, 1204))).toBe('Removals: 1 of 1,204 live users (limit 25%).');
    expect(removalsLine(withRemovals(3, 10))).toBe('Removals: 3 of 10 live users (limit 25%).');
  });

  test('below 10 live users in scope it says the limit was not checked, not that it was', () => {
    expect(removalsLine(withRemovals(3, 9))).toBe('Removals: 3 of 9 live users (limit 25%, checked from 10 live users in scope).');
  });

  test('is absent when nothing is removed', () => {
    expect(removalsLine(withRemovals(0, 9))).toBeUndefined();
  });
});

describe('formatCount', () => {
  test('writes every number as Intl.NumberFormat en-US does', () => {
    const intl = new Intl.NumberFormat('en-US');
    const samples = [0, 1, 12, 999, 1_000, 1_204, 99_999, 100_000, 1_000_000, 123_456_789, -1, -1_234, Number.MAX_SAFE_INTEGER, 1.5, 1234.5678, -0.25];
    fc.assert(fc.property(fc.integer({ min: -1e12, max: 1e12 }), (value) => formatCount(value) === intl.format(value)));
    for (const value of samples) expect(formatCount(value)).toBe(intl.format(value));
  });
});

describe('formatValue', () => {
  test.each([
    ['an absent value', undefined, '(absent)'],
    ['null (must be absent)', null, '(absent)'],
    ['a string, quoted', 'Doe', '"Doe"'],
    ['an empty string, visibly', '', '""'],
    ['a string with a quote and a newline', 'a "b"\nc', '"a \\"b\\"\\nc"'],
    ['a boolean', false, 'false'],
    ['a number', 42, '42'],
    ['emails, compactly', [{ value: 'j@example.com', type: 'work', primary: true }, { value: 'j@home.example' }], '[j@example.com (work, primary), j@home.example]'],
    ['no emails', [], '[]'],
    ['a complex attribute', { givenName: 'Jane', familyName: null }, '{givenName: "Jane", familyName: (absent)}'],
    ['a list of strings', ['a', 'b'], '["a", "b"]'],
    ['a right-to-left override, escaped', 'ab\u202ecd', '"ab\\u202ecd"'],
  ])('%s', (_name, value, expected) => {
    expect(formatValue(value)).toBe(expected);
  });
});

describe('shortId', () => {
  test.each([
    ['8f2c61d0-3b1e-4c2a-9d7e-0a1b2c3d4e5f', '8f2c…'],
    ['4411', '4411'],
    ['123456', '123456'],
    ['1234567', '1234…'],
  ])('%s → %s', (id, expected) => {
    expect(shortId(id)).toBe(expected);
  });
});

describe('formatProvenance', () => {
  test.each([
    ['a declaration', { kind: 'declaration', location: { file: 'identities/eng.yaml', line: 41, column: 5 } }, 'identities/eng.yaml:41'],
    ['a policy rule', { kind: 'policy', rule: 'unmanagedUsers', value: 'deactivate' }, 'policy unmanagedUsers: deactivate'],
    [
      'a policy rule set in the config',
      { kind: 'policy', rule: 'unmanagedGroups', value: 'delete', location: { file: 'scimform.yaml', line: 14, column: 3 } },
      'policy unmanagedGroups: delete (scimform.yaml:14)',
    ],
  ] as const)('%s', (_name, provenance, expected) => {
    expect(formatProvenance(provenance)).toBe(expected);
  });
});

describe('renderText', () => {
  test('provenance starts in one column, or on its own line under a long title', () => {
    const lines = renderText([lightstepPlan()], { color: false }).split('\n');
    const withProvenance = lines.filter((line) => /identities\/|policy /.test(line));
    expect(withProvenance).toHaveLength(5);
    for (const line of withProvenance) expect(line.search(/identities\/|policy /)).toBe(PROVENANCE_COLUMN);
    const rename = lines.findIndex((line) => line.includes('renamed from a@example.com (externalId E9)'));
    expect(lines[rename]).not.toContain('identities/');
    expect(lines[rename + 1]).toBe(`${' '.repeat(PROVENANCE_COLUMN)}identities/ops.yaml:7`);
  });

  test('a title outside the Basic Multilingual Plane is measured in characters, so its provenance stays in the column', () => {
    const base = createUser('😀.ops@example.com', 'Smiley', 'Ops', 3);
    const line = renderText([planWith([base])], { color: false }).split('\n').find((text) => text.includes('😀'));
    expect(line).toBeDefined();
    expect([...line!.slice(0, line!.indexOf('identities/'))]).toHaveLength(PROVENANCE_COLUMN);
  });

  test('a plan of thousands of operations lists each block once, in order, with nothing between blocks', () => {
    const plan = largePlan('big', 2_345);
    const lines = renderText([plan], { color: false }).split('\n');
    const heads = lines.filter((line) => /^ {2}[+~] user /.test(line));
    expect(heads).toHaveLength(2_345);
    expect(heads.map((line) => /user (\S+)/.exec(line)?.[1])).toEqual(plan.plan.operations.map((operation) => ('userName' in operation ? operation.userName : '')));
    // Every line between the header and the summary belongs to a block: no blank line where a thousand blocks were joined.
    const first = lines.findIndex((line) => line.startsWith('  '));
    const summary = lines.findIndex((line) => line.startsWith('Plan: '));
    expect(lines.slice(first, summary - 1).every((line) => line.startsWith('  '))).toBe(true);
    expect(lines[summary - 1]).toBe('');
  });

  test('a reactivation shows active false → true even when the change list leaves it implicit', () => {
    const base = genericPlan().plan.operations[0];
    if (base?.kind !== 'reactivateUser') throw new Error('fixture changed');
    const text = renderText([planWith([{ ...base, changes: [] }])], { color: false });
    expect(text).toContain('  ~ user back@example.com (id 4411) reactivate');
    expect(text).toContain('      active: false → true\n');
  });

  test('a delete cannot be mistaken for a deactivation', () => {
    const text = renderText([genericPlan()], { color: false });
    expect(text).toMatch(/^ {2}- user gone@example\.com \(id 5512\) DELETE +policy unmanagedUsers: delete \(scimform\.yaml:14\)$/m);
    expect(text).toContain('      deleted permanently: the account cannot be restored');
    expect(text).toMatch(/^ {2}- group Legacy \(id ffee…\) DELETE /m);
  });

  test('group membership changes are listed member by member', () => {
    const text = renderText([genericPlan()], { color: false });
    expect(text).toContain('      + member back@example.com\n      - member gone@example.com\n');
    expect(text).toContain('      + member new.hire@example.com (created by this plan)\n');
  });

  test('guard violations come after the summary, as Error lines', () => {
    const lines = renderText([genericPlan()], { color: false }).split('\n');
    const summary = lines.findIndex((line) => line.startsWith('Plan: '));
    const error = lines.findIndex((line) => line.startsWith('Error: '));
    expect(summary).toBeGreaterThan(0);
    expect(error).toBeGreaterThan(summary);
    expect(lines[error]).toBe(`Error: ${genericPlan().violations[0]?.message}`);
  });

  test('notes follow the summary, one line each', () => {
    const base = emptyPlan();
    const plan = { ...base, plan: { ...base.plan, notes: ['user a@example.com is outside scope: left alone', 'user b@example.com is protected: left alone'] } };
    expect(renderText([plan], { color: false })).toContain(
      'No changes. staging matches the files.\n\nNote: user a@example.com is outside scope: left alone\nNote: user b@example.com is protected: left alone\n',
    );
  });

  test('a target with no changes says so and nothing else', () => {
    expect(renderText([emptyPlan()], { color: false })).toBe(
      'Target staging (http://127.0.0.1:9000/scim/v2, profile generic)\nRead 1 user and 0 groups in 1 page (35 ms).\n\nNo changes. staging matches the files.\n',
    );
  });

  test('colour adds only ANSI styling, never other text', () => {
    const plans = [lightstepPlan(), genericPlan(), emptyPlan()];
    const coloured = renderText(plans, { color: true });
    expect(coloured).toContain('\u001b[32m+\u001b[39m');
    expect(coloured).toContain('\u001b[1m\u001b[31mDELETE\u001b[39m\u001b[22m');
    expect(stripAnsi(coloured)).toBe(renderText(plans, { color: false }));
    expect(renderText(plans, { color: false })).not.toContain('\u001b');
  });

  test('a crafted userName cannot add lines or terminal escapes to the plan', () => {
    const text = renderText([planWith([createUser('evil@example.com\n  + user fake@example.com\u001b[2K', 'E', 'Vil', 3)])], { color: false });
    expect(text).not.toContain('\u001b');
    expect(text.split('\n').filter((line) => line.startsWith('  + '))).toHaveLength(1);
    expect(text).toContain('  + user evil@example.com\\u000a  + user fake@example.com\\u001b[2K');
  });

  test('a userName with an invisible character shows it escaped, so it does not pass for another', () => {
    const text = renderText([planWith([createUser('jane\u200b@example.com', 'Jane', 'Doe', 3)])], { color: false });
    expect(text).toContain('  + user jane\\u200b@example.com');
    expect(text).toContain('userName: "jane\\u200b@example.com"');
    expect(text).not.toContain('\u200b');
  });

  test('does not depend on the terminal width', () => {
    const before = renderText([lightstepPlan()], { color: false });
    const columns = process.stdout.columns;
    try {
      process.stdout.columns = 20;
      expect(renderText([lightstepPlan()], { color: false })).toBe(before);
    } finally {
      process.stdout.columns = columns;
    }
  });

  test('renders 5,000 operations in well under 100 ms', () => {
    const plans = [largePlan('big', 5000)];
    renderText(plans, { color: true });
    // CPU time, best of five: wall time on a shared machine measures the neighbours.
    const timings = [0, 1, 2, 3, 4].map(() => {
      const start = process.cpuUsage();
      renderText(plans, { color: true });
      const used = process.cpuUsage(start);
      return (used.user + used.system) / 1000;
    });
    expect(Math.min(...timings)).toBeLessThan(100);
  });
});

describe('renderPlan', () => {
  const saved: SavedPlan = {
    formatVersion: 1,
    scimformVersion: '0.1.0',
    createdAt: '2026-11-29T00:00:00.000Z',
    digest: '0'.repeat(64),
    config: 'scimform.yaml',
    targets: [lightstepPlan(), emptyPlan()],
  };
  test.each([
    ['text', renderText(saved.targets, { color: false })],
    ['markdown', renderMarkdown(saved.targets)],
    ['json', renderJson(saved)],
  ] as const)('--format %s', (format, expected) => {
    expect(renderPlan(saved, format)).toBe(expected);
  });

  test('JSON escapes, the JSON way, what the text plan escapes: nothing raw reaches a terminal, and every value reads back the same', () => {
    const hostile: SavedPlan = { ...saved, targets: [planWith(HOSTILE_NAMES.map((name, index) => createUser(name, 'E', name, index + 1)))] };
    const json = renderPlan(hostile, 'json');
    expectSafeOutput(json);
    expect(json).toContain('"ja\\u200bne@example.com"');
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(hostile)));
  });
});
