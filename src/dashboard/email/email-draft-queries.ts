import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../core/db/database.js';
import { workflows } from '../../core/db/schema.js';
import type { Workflow } from '../../core/workflow/workflow-store.js';
import { EMAIL_REPLY_KIND, readState, type EmailReplyRunner } from '../../email-reply/email-reply-runner.js';
import type { EmailWorkflowState, EmailWorkflowStatus } from '../../email-reply/workflow-state.js';

/**
 * What the email drafts page shows: the draft waiting for the owner, the ones queued behind it,
 * and the recently settled. The owner's slot is the runner's business (openWorkflows); the rest
 * are read by state from the (kind, state) index.
 */

export type EmailDraftView = { workflow: Workflow; state: EmailWorkflowState; mailbox: string | undefined };

/** Before a draft exists, and the reply on its way: shown in the queue, read-only. */
const IN_PROGRESS: EmailWorkflowStatus[] = ['pending', 'ai_generating', 'user_approved'];
const SETTLED: EmailWorkflowStatus[] = ['reply_sent', 'user_ignored', 'timeout', 'skipped', 'failed'];
export const RECENT_LIMIT = 20;

export async function emailDraftsOverview(
  db: Executor,
  runner: Pick<EmailReplyRunner, 'openWorkflows'>,
): Promise<{ waiting: EmailDraftView[]; queued: EmailDraftView[]; recent: EmailDraftView[] }> {
  const [open, inProgress, recent] = await Promise.all([
    runner.openWorkflows(db),
    db
      .select()
      .from(workflows)
      .where(and(eq(workflows.kind, EMAIL_REPLY_KIND), inArray(workflows.state, IN_PROGRESS)))
      .orderBy(asc(workflows.createdAt))
      .limit(200),
    db
      .select()
      .from(workflows)
      .where(and(eq(workflows.kind, EMAIL_REPLY_KIND), inArray(workflows.state, SETTLED)))
      .orderBy(desc(workflows.updatedAt))
      .limit(RECENT_LIMIT),
  ]);
  const open_ = open.map(view);
  return {
    waiting: open_.filter((v) => v.state.status === 'awaiting_user'),
    queued: [...open_.filter((v) => v.state.status !== 'awaiting_user'), ...inProgress.map(view)].sort(
      (a, b) => a.workflow.createdAt.getTime() - b.workflow.createdAt.getTime(),
    ),
    recent: recent.map(view),
  };
}

function view(workflow: Workflow): EmailDraftView {
  const state = readState(workflow);
  // Several mailboxes are arriving; older states have none (the default mailbox).
  const raw = (state as { mailbox?: unknown }).mailbox ?? (workflow.data as { mailbox?: unknown }).mailbox;
  return { workflow, state, mailbox: typeof raw === 'string' ? raw : undefined };
}
