import type { EmailWorkflowStatus } from './workflow-state.js';

/**
 * "Never the wrong email": which of an owner's drafts a bare `1`, `2 …` or `3` applies to, and
 * which draft to text them next.
 *
 * Policy: ONE AT A TIME. Each owner has one slot. The workflow in it is the only one whose draft
 * the owner is shown; every other ready draft waits its turn in ai_generated, oldest email first,
 * and is texted only when the slot is free again (the draft was approved, ignored, timed out or
 * failed). Why this and not tagged drafts ("1 A7", refusing a bare "1" as ambiguous):
 *
 *  - A bare `1` can then only mean the draft last shown, which is what the owner means by it;
 *    the seed's own commands stay exactly as the seed taught them, with nothing extra to type
 *    on a phone keypad, and no command is ever refused as ambiguous.
 *  - The seed's implementation applied a command to whichever draft was newest, so a draft that
 *    arrived while the owner was typing got their `1`. Here a new draft cannot arrive while
 *    another is waiting for an answer, so there is no such race.
 *
 * An edit keeps the slot: after `2 make it shorter` the next text the owner gets is the redraft,
 * not some other email's draft, and a command sent meanwhile is refused as `draft_on_its_way`
 * rather than applied to the old draft. The price is that a busy mailbox is worked through one
 * email at a time; an unanswered draft holds the queue until USER_RESPONSE_TIMEOUT.
 *
 * Pure: the caller loads the owner's unsettled workflows (under a lock on the owner, so two
 * transitions cannot both fill the slot), asks, and acts.
 */

export type OwnerWorkflow = {
  id: string;
  status: EmailWorkflowStatus;
  /** When the workflow's latest draft was shown to the owner (ISO string or Date). */
  presentedAt?: Date | string | undefined;
  createdAt: Date | string;
};

export type Presentation = {
  /** The workflow an owner's command applies to: the one in the slot, if any. */
  current: string | undefined;
  /** The workflow to present now (its draft texted), when the slot is free; else undefined. */
  presentNext: string | undefined;
  /** Ready drafts waiting for the slot, in the order they will be presented (presentNext first). */
  queued: string[];
};

/** Statuses in which a workflow occupies the owner's slot. */
const IN_SLOT: readonly EmailWorkflowStatus[] = ['sms_sending', 'awaiting_user', 'user_edit_requested'];

/**
 * True while the workflow occupies its owner's slot: its draft is being texted, is waiting for an
 * answer, or is being rewritten at the owner's request; or its redraft is ready and about to be
 * texted (ai_generated after an earlier presentation).
 */
export function holdsOwnerSlot(workflow: Pick<OwnerWorkflow, 'status' | 'presentedAt'>): boolean {
  return (
    IN_SLOT.includes(workflow.status) ||
    (workflow.status === 'ai_generated' && workflow.presentedAt !== undefined)
  );
}

/**
 * The workflow a command applies to, or undefined when nothing waits (the caller answers with
 * NOTHING_WAITING_TEXT). Normally at most one workflow holds the slot; should several (a retried
 * redraft while another draft was shown), the draft shown last wins, because that is the one the
 * owner is answering. A draft still being texted counts as the latest: decide() refuses a command
 * for it, since the owner cannot have read it yet.
 */
export function commandTarget(workflows: readonly OwnerWorkflow[]): string | undefined {
  return workflows
    .filter(holdsOwnerSlot)
    .sort((a, b) => shownAt(b) - shownAt(a) || time(b.createdAt) - time(a.createdAt) || compareIds(b, a))[0]
    ?.id;
}

/** The workflow to present now, or undefined when the slot is taken or nothing is ready. */
export function nextToPresent(workflows: readonly OwnerWorkflow[]): string | undefined {
  if (workflows.some((w) => w.status === 'sms_sending' || w.status === 'awaiting_user')) return undefined;
  // A redraft the owner asked for comes before any other email.
  const redraft = oldestFirst(
    workflows.filter((w) => w.status === 'ai_generated' && w.presentedAt !== undefined),
  );
  if (redraft[0]) return redraft[0].id;
  // A redraft still being written keeps the slot for itself.
  if (workflows.some((w) => w.status === 'user_edit_requested')) return undefined;
  return oldestFirst(workflows.filter((w) => w.status === 'ai_generated'))[0]?.id;
}

export function presentation(workflows: readonly OwnerWorkflow[]): Presentation {
  const ready = workflows.filter((w) => w.status === 'ai_generated');
  const redrafts = oldestFirst(ready.filter((w) => w.presentedAt !== undefined));
  const fresh = oldestFirst(ready.filter((w) => w.presentedAt === undefined));
  return {
    current: commandTarget(workflows),
    presentNext: nextToPresent(workflows),
    queued: [...redrafts, ...fresh].map((w) => w.id),
  };
}

function oldestFirst(workflows: readonly OwnerWorkflow[]): OwnerWorkflow[] {
  return [...workflows].sort((a, b) => time(a.createdAt) - time(b.createdAt) || compareIds(a, b));
}

function time(value: Date | string): number {
  return new Date(value).getTime();
}

/**
 * A draft being texted is the newest thing the owner will see, whatever it replaces; a draft
 * never shown (a queued one, not in the slot) counts as shown at the dawn of time.
 */
function shownAt(workflow: OwnerWorkflow): number {
  if (workflow.status === 'sms_sending') return Number.MAX_SAFE_INTEGER;
  return workflow.presentedAt === undefined ? 0 : time(workflow.presentedAt);
}

function compareIds(a: OwnerWorkflow, b: OwnerWorkflow): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
