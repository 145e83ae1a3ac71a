/**
 * After the writes, apply reads the target back and plans again (SPEC §5). Servers accept requests
 * they do not honour — Lightstep may drop a user whose email domain is not allowed without an
 * error — so only the read-back says whether the target converged.
 */
import type { Capabilities, DesiredState, DesiredUser, Email, LiveState, Policy } from '../model.js';
import { computePlan, partOfRename } from '../plan/index.js';
import type { AttributeChange, ManualAction, MemberRef, Operation } from '../plan/types.js';
import { plural, safeText } from '../render/format.js';
import type { ScimReader } from '../scim/types.js';
import type { OperationOutcome } from './types.js';

export interface Verification {
  /** True when nothing remains but manual items and the follow-ups the applied plan announced. */
  converged: boolean;
  /** Operations a new plan still contains: what the target did not take. Manual items and follow-ups are not here. */
  residue: Operation[];
  /**
   * What the applied plan left for the next one (its manual items with a `followUp`) and a new
   * plan can make now: the create or rename of those users, and adding them to groups. Like the
   * manual items they came from, they do not fail apply. An operation of the new plan that holds
   * both is split between `followUps` and `residue`: for reporting, its `requests` are the whole
   * operation's.
   */
  followUps: Operation[];
  /** Manual items still open; they do not fail apply (SPEC §4). */
  manual: ManualAction[];
  /** What was read back. */
  live: { users: number; groups: number };
}

/**
 * What of a new plan's operation the applied plan announced, and the rest. Announced: the create
 * of a user its follow-up items name; the rename of one, with the email that follows the rename
 * when the user declares no emails; adding such users to a group before they exist (an add by id
 * was sent, so one still missing was not kept).
 */
function splitFollowUp(operation: Operation, announced: ReadonlyMap<string, DesiredUser>, groups: ReadonlySet<string>): { followUp?: Operation; rest?: Operation } {
  switch (operation.kind) {
    case 'createUser':
      return announced.has(operation.userName.toLowerCase()) ? { followUp: operation } : { rest: operation };
    case 'updateUser':
    case 'reactivateUser':
    case 'deactivateUser': {
      const key = operation.userName.toLowerCase();
      if (operation.renamedFrom === undefined || !announced.has(key)) return { rest: operation };
      // The user's other changes went with the applied plan: one still here was not kept.
      const declaration = announced.get(key)!;
      const waited = (change: AttributeChange) => partOfRename(change, declaration);
      const others = operation.changes.filter((change) => !waited(change));
      return {
        followUp: { ...operation, kind: 'updateUser', changes: operation.changes.filter(waited) },
        ...(others.length > 0 ? { rest: { ...operation, changes: others } } : {}),
      };
    }
    case 'createGroup':
      return groups.has(operation.displayName) ? { followUp: operation } : { rest: operation };
    case 'updateGroupMembers': {
      // A group whose name was held by a group the applied plan deleted: nothing of it was sent.
      if (groups.has(operation.displayName)) return { followUp: operation };
      const waited = (member: MemberRef) => member.id === undefined && announced.has(member.userName.toLowerCase());
      const adds = operation.add.filter(waited);
      if (adds.length === 0) return { rest: operation };
      const others = operation.add.filter((member) => !waited(member));
      const more = others.length > 0 || operation.remove.length > 0 || operation.changes.length > 0;
      return { followUp: { ...operation, changes: [], add: adds, remove: [] }, ...(more ? { rest: { ...operation, add: others } } : {}) };
    }
    default:
      return { rest: operation };
  }
}

/**
 * Reads users (and groups when the desired state or the policy concerns them) and plans again.
 * `applied` is the plan's operations: its follow-up items say which differences were expected.
 */
export async function verifyConverged(
  desired: DesiredState,
  policy: Policy,
  capabilities: Capabilities,
  reader: ScimReader,
  applied: readonly Operation[] = [],
): Promise<Verification> {
  const readGroups = desired.groups.length > 0 || policy.unmanagedGroups === 'delete';
  const [users, groups] = await Promise.all([reader.listUsers(), readGroups ? reader.listGroups() : Promise.resolve([])]);
  const live: LiveState = { users, groups };
  const plan = computePlan(desired, live, policy, capabilities);
  const names = new Set<string>();
  const groupNames = new Set<string>();
  for (const operation of applied) {
    if (operation.kind !== 'manual' || !operation.followUp) continue;
    if ('userName' in operation.followUp) names.add(operation.followUp.userName.toLowerCase());
    else groupNames.add(operation.followUp.displayName);
  }
  // Announced userName (lower-cased) → its declaration; a name no longer declared announces nothing.
  const announced = new Map<string, DesiredUser>();
  if (names.size > 0) {
    for (const user of desired.users) {
      const key = user.userName.toLowerCase();
      if (names.has(key)) announced.set(key, user);
    }
  }
  const residue: Operation[] = [];
  const followUps: Operation[] = [];
  const manual: ManualAction[] = [];
  for (const operation of plan.operations) {
    if (operation.kind === 'manual') {
      manual.push(operation);
      continue;
    }
    const { followUp, rest } = announced.size > 0 || groupNames.size > 0 ? splitFollowUp(operation, announced, groupNames) : { rest: operation };
    if (followUp) followUps.push(followUp);
    if (rest) residue.push(rest);
  }
  return { converged: residue.length === 0, residue, followUps, manual, live: { users: users.length, groups: groups.length } };
}

function formatEmail(email: Email): string {
  const traits = [email.type, email.primary ? 'primary' : undefined].filter((trait) => trait !== undefined);
  return traits.length > 0 ? `${email.value} (${traits.join(', ')})` : email.value;
}

/** A value as a reviewer reads it: strings quoted, emails as `a@b (work, primary)`, absent as `(absent)`. */
export function formatValue(path: string, value: unknown): string {
  if (path === 'emails') {
    if (value === undefined || value === null) return '[]';
    if (Array.isArray(value)) return `[${(value as Email[]).map(formatEmail).join(', ')}]`;
  }
  if (value === undefined || value === null) return '(absent)';
  return JSON.stringify(value);
}

function subjectOf(operation: Operation): string {
  switch (operation.kind) {
    case 'createUser':
    case 'updateUser':
    case 'reactivateUser':
    case 'deactivateUser':
    case 'deleteUser':
      return operation.userName;
    case 'createGroup':
    case 'updateGroupMembers':
    case 'deleteGroup':
      return `group ${operation.displayName}`;
    case 'manual':
      return operation.subject;
  }
}

/** A follow-up as the next plan will make it, e.g. `jane@example.com: create` or `group eng: add jane@example.com`. */
function describeFollowUp(operation: Operation): string {
  switch (operation.kind) {
    case 'updateUser':
      return `${subjectOf(operation)}: rename from ${operation.renamedFrom}`;
    case 'updateGroupMembers':
      return `${subjectOf(operation)}: add ${operation.add.map((member) => member.userName).join(', ')}`;
    case 'createUser':
      return `${subjectOf(operation)}: create`;
    default:
      return subjectOf(operation);
  }
}

/**
 * Why a difference remains: the server dropped what it accepted, or the operation never went
 * through (then the apply summary above already says why).
 */
function cause(outcome: OperationOutcome | undefined): { accepted: boolean; note: string } {
  // A create that found the account already there (made meanwhile by someone else, or by an earlier
  // attempt) took it as it is: what differs was never sent, so it is not the server's doing.
  if (outcome?.status === 'adopted' && outcome.kind !== 'createGroup') {
    return { accepted: false, note: ' (an existing account was adopted in place of the create: plan and apply again to bring it to the files)' };
  }
  if (!outcome || outcome.status === 'done' || outcome.status === 'adopted' || outcome.status === 'partial') return { accepted: outcome !== undefined, note: '' };
  const what: Record<string, string> = {
    'not-started': 'was not started',
    failed: 'failed',
    unknown: 'has an unknown outcome',
    skipped: 'was skipped',
    stale: 'was stale',
  };
  return { accepted: false, note: ` (its operation ${what[outcome.status] ?? `ended ${outcome.status}`})` };
}

/**
 * One line per remaining difference, e.g. `jane@example.com: the server did not keep emails (asked [...], has [])`.
 * Names and values come from the files and the server: each line is escaped as the plan escapes
 * them, so a crafted name cannot add a line (or a CI workflow command) of its own.
 */
export function describeResidue(operation: Operation, outcome?: OperationOutcome): string[] {
  return residueLines(operation, outcome).map(safeText);
}

function residueLines(operation: Operation, outcome?: OperationOutcome): string[] {
  const subject = subjectOf(operation);
  const { accepted, note } = cause(outcome);
  switch (operation.kind) {
    case 'createUser':
      return [accepted ? `${subject}: the server accepted the create but does not have the user` : `${subject}: not on the server${note}`];
    case 'createGroup':
      return [accepted ? `${subject}: the server accepted the create but does not have the group` : `${subject}: not on the server${note}`];
    case 'deleteUser':
    case 'deleteGroup':
      return [`${subject}: still exists${accepted ? ' after its delete was accepted' : note}`];
    case 'updateUser':
    case 'reactivateUser':
    case 'deactivateUser':
      return operation.changes.map((change) => {
        const values = `asked ${formatValue(change.path, change.new)}, has ${formatValue(change.path, change.old)}`;
        return accepted ? `${subject}: the server did not keep ${change.path} (${values})` : `${subject}: ${change.path} still differs (${values})${note}`;
      });
    case 'updateGroupMembers': {
      const lines = operation.changes.map((change) => `${subject}: ${change.path} still differs (asked ${formatValue(change.path, change.new)}, has ${formatValue(change.path, change.old)})${note}`);
      // Members apply left out because their create did not succeed: the summary above says why.
      const leftOut = new Set((outcome?.notAdded ?? []).map((userName) => userName.toLowerCase()));
      const notAdded = operation.add.filter((member) => leftOut.has(member.userName.toLowerCase()));
      const missing = operation.add.filter((member) => !leftOut.has(member.userName.toLowerCase()));
      if (notAdded.length > 0) lines.push(`${subject}: members not added, as their create did not succeed: ${notAdded.map((member) => member.userName).join(', ')}`);
      if (missing.length > 0) lines.push(`${subject}: members still missing: ${missing.map((member) => member.userName).join(', ')}${note}`);
      if (operation.remove.length > 0) lines.push(`${subject}: members still present: ${operation.remove.map((member) => member.userName).join(', ')}${note}`);
      return lines;
    }
    case 'manual':
      return [`${subject}: manual action needed (${operation.reason})`];
  }
}

/**
 * `converged`, or every remaining difference. `outcomes` (the apply report's) lets each line say
 * whether the server dropped an accepted change or the operation never went through.
 */
export function renderVerification(target: string, verification: Verification, options: { outcomes?: readonly OperationOutcome[] } = {}): string {
  const byKey = new Map((options.outcomes ?? []).map((outcome) => [outcome.key, outcome]));
  const lines: string[] = [];
  const manual = verification.manual.length;
  const listedAbove = manual > 0 && verification.manual.every((operation) => byKey.get(operation.key)?.status === 'manual');
  const followUps = verification.followUps.length;
  if (verification.converged) {
    // A manual item with a follow-up (a link of a chain of renames) is for a later plan, not a person.
    const later = verification.manual.filter((item) => item.followUp !== undefined).length;
    const byHand = manual - later;
    const whose = later === 0 ? ' a person must make' : byHand === 0 ? ' for later plans' : ` (${byHand} for a person, ${later} for later plans)`;
    const apart = manual === 0 ? '' : `, apart from ${plural(manual, 'manual item')}${whose}${listedAbove ? ' (listed above)' : ''}`;
    lines.push(`${target}: converged${followUps > 0 ? ' as far as this plan goes' : ''}${apart}.`);
  } else {
    const details = verification.residue.flatMap((operation) => describeResidue(operation, byKey.get(operation.key)));
    lines.push(`${target}: not converged, ${plural(details.length, 'difference remains', 'differences remain')} after apply:`);
    lines.push(...details.map((line) => `  ${line}`));
  }
  if (followUps > 0) {
    lines.push(`${target}: ${plural(followUps, 'change waits', 'changes wait')} for the next plan (not a failure); plan and apply again:`);
    lines.push(...verification.followUps.map((operation) => `  ${safeText(describeFollowUp(operation))}`));
  }
  if (manual > 0 && !listedAbove) {
    lines.push(`${target}: ${plural(manual, 'manual item')} still open (not a failure):`);
    lines.push(...verification.manual.map((operation) => `  ${safeText(`${operation.subject}: ${operation.reason}`)}`));
  }
  return `${lines.join('\n')}\n`;
}
