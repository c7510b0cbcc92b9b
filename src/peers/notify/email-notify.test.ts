import { describe, expect, it } from 'vitest';
import { MARKER_HEADER, type EmailSender, type OutgoingEmail } from '../email/email-port.js';
import { createEmailNotifyChannel, noticeEmail, noticeMessageId } from './email-notify.js';
import type { Notice } from './notify-port.js';

const notice: Notice = {
  kind: 'failure',
  subject: 'A workflow failed',
  body: 'Sending the reply failed for good.',
  priority: 'urgent',
  metadata: { workflow_id: 'wf-9', attempts: 5 },
};

describe('email notices', () => {
  it('derive a stable, valid Message-ID from the idempotency key', () => {
    const id = noticeMessageId('failure:wf-9:v1:email', 'example.com');
    expect(id).toMatch(/^<notice\.[0-9a-f]{32}@example\.com>$/);
    expect(noticeMessageId('failure:wf-9:v1:email', 'example.com')).toBe(id);
    expect(noticeMessageId('failure:wf-9:v2:email', 'example.com')).not.toBe(id);
  });

  it('go to NOTIFY_EMAIL_TO, marked so our own mailbox reader never answers them', () => {
    const email = noticeEmail(notice, 'k', { to: 'ops@example.com', messageIdDomain: 'example.com' });
    expect(email).toEqual({
      to: { address: 'ops@example.com' },
      subject: '[urgent] A workflow failed',
      text: 'Sending the reply failed for good.\n\nworkflow_id: wf-9\nattempts: 5',
      messageId: noticeMessageId('k', 'example.com'),
      headers: { [MARKER_HEADER]: 'notice', 'X-Countersign-Notice-Kind': 'failure' },
    });
  });

  it('go to the notice’s recipient when it is an address, else to the default', () => {
    expect(
      noticeEmail({ ...notice, recipient: 'mia@example.com' }, 'k', { to: 'ops@example.com' }).to.address,
    ).toBe('mia@example.com');
    expect(
      noticeEmail({ ...notice, recipient: 'manager_456' }, 'k', { to: 'ops@example.com' }).to.address,
    ).toBe('ops@example.com');
  });

  it('are handed to the EmailSender with the signal, returning its provider id', async () => {
    const sent: OutgoingEmail[] = [];
    const sender: EmailSender = {
      name: 'memory',
      send: async (email) => {
        sent.push(email);
        return { providerId: `smtp:${email.messageId}` };
      },
    };
    const channel = createEmailNotifyChannel({ sender, to: 'ops@example.com' });
    expect(channel.name).toBe('email');
    const result = await channel.send(notice, 'k', AbortSignal.timeout(1000));
    expect(sent).toHaveLength(1);
    expect(result.providerId).toBe(`smtp:${sent[0]?.messageId}`);
  });
});
