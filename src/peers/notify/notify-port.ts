/**
 * Notices to managers: an approval is needed, a conversation escalated, a workflow failed.
 * The dashboard inbox always gets them (stored); other channels (the seed's Notification
 * Service, email, a JSON webhook) are sent through the outbox, one idempotency key per notice.
 */

export type NoticeKind = 'approval_needed' | 'escalation' | 'failure';
export type NoticePriority = 'low' | 'normal' | 'high' | 'urgent';

export type Notice = {
  kind: NoticeKind;
  subject: string;
  body: string;
  priority: NoticePriority;
  /** Ids to link back (workflow_id, conversation_id, escalation_id…); no phone numbers or emails. */
  metadata: Record<string, string | number | boolean | null>;
  /** A manager id or address when the notice is for one person; otherwise the channel's default. */
  recipient?: string | undefined;
};

export interface NotifyChannel {
  /** notification-service | email | webhook */
  readonly name: string;
  send(notice: Notice, idempotencyKey: string, signal: AbortSignal): Promise<{ providerId: string }>;
}
