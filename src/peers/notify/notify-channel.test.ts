import { describe, expect, it } from 'vitest';
import { NonRetriableError } from '../../core/retry-errors.js';
import { notifyOutboundChannel } from './notify-channel.js';
import type { Notice, NotifyChannel } from './notify-port.js';

describe('notifyOutboundChannel', () => {
  const received: { notice: Notice; key: string }[] = [];
  const channel: NotifyChannel = {
    name: 'webhook',
    send: async (notice, key) => {
      received.push({ notice, key });
      return { providerId: 'p1' };
    },
  };
  const message = (payload: Record<string, unknown>) => ({
    recipient: 'managers',
    payload,
    idempotencyKey: 'n1:webhook',
    maybeSent: false,
    attempt: 1,
  });

  it('is named notify:<channel> and hands the stored notice and key to the channel', async () => {
    const outbound = notifyOutboundChannel(channel);
    expect(outbound.name).toBe('notify:webhook');
    const notice: Notice = {
      kind: 'escalation',
      subject: 's',
      body: 'b',
      priority: 'high',
      metadata: { a: 1 },
    };
    expect(await outbound.send(message({ ...notice }), AbortSignal.timeout(1000))).toEqual({
      providerId: 'p1',
    });
    expect(received).toEqual([{ notice, key: 'n1:webhook' }]);
  });

  it('refuses a payload that is not a notice, for good', async () => {
    const outbound = notifyOutboundChannel(channel);
    await expect(outbound.send(message({ body: 'hi' }), AbortSignal.timeout(1000))).rejects.toBeInstanceOf(
      NonRetriableError,
    );
  });
});
