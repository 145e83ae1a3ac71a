/**
 * Identity files as YAML text, emitted by the `yaml` package (never by hand), in the style of
 * examples/basic: block style for the lists of users and groups, a blank line between entries,
 * flow style for `name`, each email, and short member lists.
 */
import { Document, isMap, isScalar, isSeq, visit, type Node } from 'yaml';
import { UNSAFE_CLASS } from '../render/format.js';
import type { ImportedGroup, ImportedUser } from './identities.js';

// What the plan shows escaped as invisible or a control: in a file under review, a bidi control
// makes a name read as another, and a zero-width character hides a difference. yaml writes most of
// them raw, even in double quotes.
const INVISIBLE = new RegExp(`[${UNSAFE_CLASS}]`, 'u');
// Once the scalars that hold one are double-quoted, every such character of the text is in one:
// all but the line breaks between lines.
const INVISIBLE_IN_TEXT = new RegExp(`[[${UNSAFE_CLASS}]--\\n]`, 'gv');

/** A YAML double-quoted escape (YAML 1.2 §5.7), which reads back as the very character. */
function yamlEscape(char: string): string {
  const code = char.codePointAt(0)!;
  return code > 0xffff ? `\\U${code.toString(16).padStart(8, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Member lists up to this many names (and this many characters) are written on one line. */
const FLOW_MEMBERS = 4;
const FLOW_WIDTH = 100;

function userObject(user: ImportedUser): Record<string, unknown> {
  // Key order as in the examples: identity first, then names, then emails and state.
  const entry: Record<string, unknown> = { userName: user.userName };
  if (user.externalId !== undefined) entry.externalId = user.externalId;
  if (user.displayName !== undefined) entry.displayName = user.displayName;
  if (user.name !== undefined) entry.name = user.name;
  if (user.emails !== undefined) entry.emails = user.emails;
  if (user.active !== undefined) entry.active = user.active;
  return entry;
}

function groupObject(group: ImportedGroup): Record<string, unknown> {
  const entry: Record<string, unknown> = { displayName: group.displayName };
  if (group.externalId !== undefined) entry.externalId = group.externalId;
  entry.members = group.members;
  return entry;
}

function styleEntries(list: unknown, style: (entry: Node) => void): void {
  if (!isSeq(list)) return;
  list.items.forEach((item, index) => {
    if (!isMap(item)) return;
    if (index > 0) item.spaceBefore = true;
    style(item);
  });
}

export interface RenderOptions {
  /** The `$schema` reference for the yaml-language-server line (editor completion and checks). */
  schema: string;
  /** Comment lines after the schema line, without `#`. */
  header: string[];
}

export function renderIdentityFile(content: { users: ImportedUser[]; groups: ImportedGroup[] }, options: RenderOptions): string {
  const body: Record<string, unknown> = {};
  if (content.users.length > 0 || content.groups.length === 0) body.users = content.users.map(userObject);
  if (content.groups.length > 0) body.groups = content.groups.map(groupObject);
  const doc = new Document(body);
  styleEntries(doc.get('users'), (user) => {
    if (!isMap(user)) return;
    const name = user.get('name', true);
    if (isMap(name)) name.flow = true;
    const emails = user.get('emails', true);
    if (isSeq(emails)) for (const email of emails.items) if (isMap(email)) email.flow = true;
  });
  styleEntries(doc.get('groups'), (group) => {
    if (!isMap(group)) return;
    const members = group.get('members', true);
    if (!isSeq(members)) return;
    const names = members.items.map((item) => String((item as { value?: unknown }).value));
    // An empty list is always `[]`; a short one reads better on one line.
    members.flow = names.length === 0 || (names.length <= FLOW_MEMBERS && names.join(', ').length <= FLOW_WIDTH);
  });
  if (isMap(doc.contents) && body.users !== undefined) {
    const groups = doc.contents.items.find((pair) => isScalar(pair.key) && pair.key.value === 'groups');
    if (groups && isScalar(groups.key)) groups.key.spaceBefore = true;
  }
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && INVISIBLE.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  doc.commentBefore = [` yaml-language-server: $schema=${options.schema}`, ...options.header.map((line) => (line === '' ? '' : ` ${line}`))].join('\n');
  // lineWidth 0: never fold long values, so a name is always on the line of its key.
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true }).replace(INVISIBLE_IN_TEXT, yamlEscape);
}
