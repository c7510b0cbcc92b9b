import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jobs, outbox } from '../../../src/core/db/schema.js';
import { enqueueJobs } from '../../../src/core/jobs/job-queue.js';
import {
  enqueueOutbound,
  getOutboxRow,
  OUTBOX_JOB,
  outboxDeliveryHandler,
  type OutboundChannel,
} from '../../../src/core/outbox/outbox.js';
import { NonRetriableError, parseRetryAfter, RetryAfterError } from '../../../src/core/retry-errors.js';
import { ManualClock } from '../../../src/core/runtime.js';
import { createWorkflow, getWorkflow, transition } from '../../../src/core/workflow/workflow-store.js';
import { databaseKind, useTestDatabase } from '../../helpers/test-database.js';
import { testWorker } from '../../helpers/test-worker.js';

/**
 * A tiny provider over real HTTP: it stores what it accepted by idempotency key, and can be told
 * to answer 500, 429 or 400 next. (The real SMS/email fakes come with the peers issue.)
 */
class FakeProvider {
  readonly accepted = new Map<string, { to: string; body: string }>();
  readonly requests: { key: string; maybeSent: string }[] = [];
  next: (number | 'hang')[] = [];
  private server!: Server;
  url = '';

  async start() {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => {
        const key = String(req.headers['idempotency-key']);
        this.requests.push({ key, maybeSent: String(req.headers['x-maybe-sent']) });
        const fault = this.next.shift();
        if (fault === 'hang') return; // never answers: the client times out
        if (fault === 429) return void res.writeHead(429, { 'retry-after': '7' }).end();
        if (fault) return void res.writeHead(fault).end();
        const body = JSON.parse(raw) as { to: string; body: string };
        if (!this.accepted.has(key)) this.accepted.set(key, body);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `msg_${key}` }));
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop() {
    this.server.closeAllConnections();
    return new Promise<void>((r) => this.server.close(() => r()));
  }

  channel(name: string, hooks: Partial<OutboundChannel> = {}): OutboundChannel {
    return {
      name,
      send: async (message, signal) => {
        const response = await fetch(`${this.url}/send`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': message.idempotencyKey,
            'x-maybe-sent': String(message.maybeSent),
          },
          body: JSON.stringify({ to: message.recipient, body: message.payload.body }),
          signal: AbortSignal.any([signal, AbortSignal.timeout(300)]),
        });
        if (response.status === 429) {
          throw new RetryAfterError(
            'rate limited',
            parseRetryAfter(response.headers.get('retry-after'), new Date()) ?? 1000,
          );
        }
        if (response.status >= 400 && response.status < 500)
          throw new NonRetriableError(`provider said ${response.status}`);
        if (!response.ok) throw new Error(`provider said ${response.status}`);
        return { providerId: ((await response.json()) as { id: string }).id };
      },
      ...hooks,
    };
  }
}

describe(`outbox (${databaseKind})`, () => {
  const database = useTestDatabase();
  const db = () => database.current.db;
  const provider = new FakeProvider();
  let clock: ManualClock;
  let channelName: string;

  beforeAll(() => provider.start());
  afterAll(() => provider.stop());
  beforeEach(() => {
    clock = new ManualClock();
    channelName = `sms-${randomUUID().slice(0, 8)}`;
    provider.next = [];
  });

  const worker = (channel: OutboundChannel) =>
    testWorker(db(), clock, [outboxDeliveryHandler({ channels: new Map([[channel.name, channel]]) })]);

  it('writes one row and one delivery job per idempotency key, however often it is enqueued', async () => {
    const key = `draft:${randomUUID()}:v1`;
    const first = await enqueueOutbound(db(), {
      channel: channelName,
      recipient: '+15551230001',
      payload: { body: 'hi' },
      idempotencyKey: key,
      now: clock.now(),
    });
    const again = await enqueueOutbound(db(), {
      channel: channelName,
      recipient: '+15551230001',
      payload: { body: 'hi' },
      idempotencyKey: key,
      now: clock.now(),
    });
    expect(first.created).toBe(true);
    expect(again).toEqual({ id: first.id, created: false });
    expect(await db().select().from(outbox).where(eq(outbox.idempotencyKey, key))).toHaveLength(1);
    expect(
      await db()
        .select()
        .from(jobs)
        .where(eq(jobs.singletonKey, `outbox:${first.id}`)),
    ).toHaveLength(1);
  });

  it('delivers once, records the provider id and runs onSent in the same transaction', async () => {
    const wf = await createWorkflow(db(), {
      id: randomUUID(),
      kind: 'test',
      subjectKey: 'c',
      state: 'sending',
      audit: { reason: 'r', actor: 'a' },
      now: clock.now(),
    });
    const channel = provider.channel(channelName, {
      onSent: async (tx, row, providerId) => {
        await transition(tx, {
          workflowId: row.workflowId!,
          expectedVersion: 1,
          to: 'sent',
          audit: { reason: `sent as ${providerId}`, actor: 'outbox' },
          now: clock.now(),
        });
      },
    });
    const key = `draft:${wf.id}:v1`;
    const { id } = await enqueueOutbound(db(), {
      channel: channelName,
      recipient: '+15551230002',
      payload: { body: 'Your balance is $600.' },
      idempotencyKey: key,
      workflowId: wf.id,
      now: clock.now(),
    });
    await worker(channel).drain();
    expect(await getOutboxRow(db(), id)).toMatchObject({
      state: 'sent',
      providerId: `msg_${key}`,
      attempts: 1,
    });
    expect((await getWorkflow(db(), wf.id))?.state).toBe('sent');
    expect(provider.accepted.get(key)).toEqual({ to: '+15551230002', body: 'Your balance is $600.' });
  });

  it('running the delivery job twice sends once', async () => {
    const key = `draft:${randomUUID()}:v1`;
    const { id } = await enqueueOutbound(db(), {
      channel: channelName,
      recipient: '+15551230003',
      payload: { body: 'x' },
      idempotencyKey: key,
      now: clock.now(),
    });
    await enqueueJobs(db(), [{ kind: OUTBOX_JOB, payload: { outboxId: id } }], clock.now()); // a duplicate job
    const before = provider.requests.length;
    await worker(provider.channel(channelName)).drain();
    expect(provider.requests.length - before).toBe(1);
    expect((await getOutboxRow(db(), id))?.state).toBe('sent');
  });

  it('after a timeout the retry is told the first attempt may have been sent, and uses the same key', async () => {
    provider.next = ['hang'];
    const key = `draft:${randomUUID()}:v1`;
    const { id } = await enqueueOutbound(db(), {
      channel: channelName,
      recipient: '+15551230004',
      payload: { body: 'x' },
      idempotencyKey: key,
      now: clock.now(),
    });
    const w = worker(provider.channel(channelName));
    await w.drain();
    expect(await getOutboxRow(db(), id)).toMatchObject({ state: 'sending', attempts: 1 });
    clock.advance(60_000);
    await w.drain();
    const mine = provider.requests.filter((r) => r.key === key);
    expect(mine.map((r) => r.maybeSent)).toEqual(['false', 'true']);
    expect(await getOutboxRow(db(), id)).toMatchObject({ state: 'sent', attempts: 2 });
    expect(provider.accepted.has(key)).toBe(true);
  });

  it('a 429 goes back to pending and waits for Retry-After; a 400 fails for good and runs onFailed', async () => {
    const failures: string[] = [];
    const channel = provider.channel(channelName, {
      onFailed: async (_tx, row, error) => void failures.push(`${row.idempotencyKey}: ${error}`),
    });
    provider.next = [429, 400];
    const key = `draft:${randomUUID()}:v1`;
    const { id } = await enqueueOutbound(db(), {
      channel: channelName,
      recipient: '+15551230005',
      payload: { body: 'x' },
      idempotencyKey: key,
      now: clock.now(),
    });
    const w = worker(channel);
    await w.drain();
    expect(await getOutboxRow(db(), id)).toMatchObject({ state: 'pending' });
    const [job] = await db()
      .select()
      .from(jobs)
      .where(eq(jobs.singletonKey, `outbox:${id}`));
    expect(job!.runAt.getTime() - clock.now().getTime()).toBe(7000);
    clock.advance(7000);
    await w.drain();
    expect(await getOutboxRow(db(), id)).toMatchObject({ state: 'failed' });
    expect(failures).toEqual([`${key}: NonRetriableError: provider said 400`]);
    expect(provider.accepted.has(key)).toBe(false);
  });

  it('a retry re-arms a row that failed for good, and never one that was sent', async () => {
    const channel = provider.channel(channelName);
    provider.next = [400];
    const key = `draft:${randomUUID()}:v1`;
    const input = {
      channel: channelName,
      recipient: '+15551230006',
      payload: { body: 'x' },
      idempotencyKey: key,
      now: clock.now(),
    };
    const { id } = await enqueueOutbound(db(), input);
    const w = worker(channel);
    await w.drain();
    expect(await getOutboxRow(db(), id)).toMatchObject({ state: 'failed' });
    // Without rearmFailed the key is simply the same row: nothing happens.
    expect(await enqueueOutbound(db(), input)).toEqual({ id, created: false });
    await w.drain();
    expect(await getOutboxRow(db(), id)).toMatchObject({ state: 'failed' });

    expect(await enqueueOutbound(db(), { ...input, rearmFailed: true })).toEqual({
      id,
      created: false,
      rearmed: true,
    });
    await w.drain();
    expect(await getOutboxRow(db(), id)).toMatchObject({ state: 'sent' });
    expect(provider.accepted.has(key)).toBe(true);

    const sends = provider.requests.filter((r) => r.key === key).length;
    expect(await enqueueOutbound(db(), { ...input, rearmFailed: true })).toEqual({ id, created: false });
    await w.drain();
    expect(provider.requests.filter((r) => r.key === key)).toHaveLength(sends);
  });

  it('a row that failed after an attempt of unknown outcome is re-armed as maybe sent', async () => {
    const channel = provider.channel(channelName);
    const key = `draft:${randomUUID()}:v1`;
    const input = {
      channel: channelName,
      recipient: '+15551230007',
      payload: { body: 'x' },
      idempotencyKey: key,
      now: clock.now(),
    };
    provider.next = Array.from({ length: 20 }, () => 'hang' as const);
    const { id } = await enqueueOutbound(db(), input);
    const w = worker(channel);
    for (let round = 0; round < 20 && (await getOutboxRow(db(), id))?.state !== 'failed'; round++) {
      await w.drain();
      clock.advance(600_000);
    }
    expect(await getOutboxRow(db(), id)).toMatchObject({ state: 'failed', outcomeUnknown: true });
    provider.next = [];
    const before = provider.requests.filter((r) => r.key === key).length;
    expect(await enqueueOutbound(db(), { ...input, rearmFailed: true })).toMatchObject({ rearmed: true });
    await w.drain();
    // The provider may have taken one of the timed-out attempts: the retry says so, with the same key.
    const retry = provider.requests.filter((r) => r.key === key).slice(before);
    expect(retry.map((r) => r.maybeSent)).toEqual(['true']);
    expect(await getOutboxRow(db(), id)).toMatchObject({ state: 'sent' });
  });

  it('a row that was refused for good is re-armed as not sent', async () => {
    const channel = provider.channel(channelName);
    provider.next = [400];
    const key = `draft:${randomUUID()}:v1`;
    const input = {
      channel: channelName,
      recipient: '+15551230008',
      payload: { body: 'x' },
      idempotencyKey: key,
      now: clock.now(),
    };
    const { id } = await enqueueOutbound(db(), input);
    const w = worker(channel);
    await w.drain();
    expect(await getOutboxRow(db(), id)).toMatchObject({ state: 'failed', outcomeUnknown: false });
    await enqueueOutbound(db(), { ...input, rearmFailed: true });
    await w.drain();
    expect(provider.requests.filter((r) => r.key === key).map((r) => r.maybeSent)).toEqual([
      'false',
      'false',
    ]);
  });

  it('notBefore holds a send until its time (allowed hours)', async () => {
    const key = `draft:${randomUUID()}:v1`;
    const { id } = await enqueueOutbound(db(), {
      channel: channelName,
      recipient: '+15551230006',
      payload: { body: 'x' },
      idempotencyKey: key,
      now: clock.now(),
      notBefore: new Date(clock.now().getTime() + 3_600_000),
    });
    const w = worker(provider.channel(channelName));
    await w.drain();
    expect((await getOutboxRow(db(), id))?.state).toBe('pending');
    clock.advance(3_600_000);
    await w.drain();
    expect((await getOutboxRow(db(), id))?.state).toBe('sent');
  });
});
