import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { inboundEvents } from '../../../src/core/db/schema.js';
import {
  createEmailInbox,
  emailFromPayload,
  type EmailInbox,
} from '../../../src/peers/email/email-intake.js';
import type { IncomingEmail } from '../../../src/peers/email/email-port.js';
import { createEmailRoutes } from '../../../src/peers/email/email-routes.js';
import { inboundRedeliveryHandler } from '../../../src/core/inbound/inbound-delivery.js';
import { readProblem, useTestApp } from '../../helpers/test-app.js';
import { testWorker } from '../../helpers/test-worker.js';
import { databaseKind } from '../../helpers/test-database.js';

describe(`POST /emails (${databaseKind})`, () => {
  let inbox: EmailInbox | undefined;
  const heard: { email: IncomingEmail; inboundEventId: number }[] = [];
  const t = useTestApp({
    modules: ({ database, clock }) => {
      inbox = createEmailInbox({ db: database.db, clock });
      inbox.onEmail(async (_tx, email, inboundEventId) => {
        heard.push({ email, inboundEventId });
      });
      return [createEmailRoutes({ inbox, clock })];
    },
  });
  const db = () => t.current.database.db;

  async function stored(messageId: string) {
    return db()
      .select()
      .from(inboundEvents)
      .where(and(eq(inboundEvents.source, 'email'), eq(inboundEvents.naturalKey, messageId)));
  }

  const json = (overrides: Record<string, unknown> = {}) => ({
    message_id: `<${randomUUID()}@mail.example.org>`,
    from: 'Sam Sender <sam@example.org>',
    to: 'owner@example.com',
    subject: 'Meeting tomorrow at 2pm?',
    text: 'Does 2pm work for you?',
    headers: {
      'In-Reply-To': '<earlier@example.com>',
      References: '<root@example.com> <earlier@example.com>',
    },
    received_at: '2025-01-15T09:59:00Z',
    ...overrides,
  });

  it('takes the seed JSON: 202 once, 200 duplicate after, one stored event, listeners told once', async () => {
    const body = json();
    const first = await t.current.request('/emails', { as: 'service', json: body });
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ status: 'accepted', message_id: body.message_id, duplicate: false });
    const again = await t.current.request('/emails', { as: 'service', json: body });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: 'accepted', message_id: body.message_id, duplicate: true });

    const rows = await stored(body.message_id);
    expect(rows).toHaveLength(1);
    const email = emailFromPayload(rows[0]!.payload);
    expect(email).toEqual({
      messageId: body.message_id,
      from: { address: 'sam@example.org', name: 'Sam Sender' },
      to: [{ address: 'owner@example.com' }],
      subject: 'Meeting tomorrow at 2pm?',
      text: 'Does 2pm work for you?',
      headers: {
        'in-reply-to': '<earlier@example.com>',
        references: '<root@example.com> <earlier@example.com>',
      },
      inReplyTo: '<earlier@example.com>',
      references: ['<root@example.com>', '<earlier@example.com>'],
      receivedAt: new Date('2025-01-15T09:59:00Z'),
      source: 'ingest',
    });
    const mine = heard.filter((h) => h.email.messageId === body.message_id);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.inboundEventId).toBe(rows[0]?.id);
  });

  it('adds the angle brackets a bare message id lacks, so both spellings are one email', async () => {
    const bare = `${randomUUID()}@mail.example.org`;
    const first = await t.current.request('/emails', { as: 'service', json: json({ message_id: bare }) });
    expect(await first.json()).toMatchObject({ message_id: `<${bare}>`, duplicate: false });
    const bracketed = await t.current.request('/emails', {
      as: 'service',
      json: json({ message_id: `<${bare}>` }),
    });
    expect(bracketed.status).toBe(200);
  });

  it('takes the minimum (message_id and from) and fills in the rest', async () => {
    const body = { message_id: `<${randomUUID()}@x.org>`, from: { address: 'ann@example.org' } };
    const res = await t.current.request('/emails', { as: 'service', json: body });
    expect(res.status).toBe(202);
    const [row] = await stored(body.message_id);
    expect(emailFromPayload(row!.payload)).toMatchObject({
      from: { address: 'ann@example.org' },
      to: [],
      subject: '',
      text: '',
      references: [],
      inReplyTo: undefined,
      // The test app's clock
      receivedAt: t.current.clock.now(),
    });
  });

  it('takes a raw RFC 822 message (message/rfc822), and the same message again is a duplicate', async () => {
    const messageId = `<${randomUUID()}@mail.example.org>`;
    const raw = [
      'From: =?UTF-8?Q?J=C3=B6rg?= <jorg@example.org>',
      'To: owner@example.com',
      'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=',
      `Message-ID: ${messageId}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Sch=C3=B6ne Gr=C3=BC=C3=9Fe',
      '',
    ].join('\r\n');
    const res = await t.current.request('/emails', {
      as: 'service',
      headers: { 'content-type': 'message/rfc822' },
      body: raw,
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted', message_id: messageId, duplicate: false });
    const [row] = await stored(messageId);
    expect(emailFromPayload(row!.payload)).toMatchObject({
      from: { address: 'jorg@example.org', name: 'Jörg' },
      subject: 'Grüße',
      text: 'Schöne Grüße',
      source: 'ingest',
    });
    const again = await t.current.request('/emails', {
      as: 'service',
      headers: { 'content-type': 'message/rfc822; charset=utf-8' },
      body: raw,
    });
    expect(again.status).toBe(200);
    // The same mail as JSON is the same email too: one natural key, whichever way it came.
    const asJson = await t.current.request('/emails', {
      as: 'service',
      json: json({ message_id: messageId }),
    });
    expect(asJson.status).toBe(200);
  });

  it('400 names each bad field', async () => {
    const res = await t.current.request('/emails', {
      as: 'service',
      json: { message_id: 'has spaces in it', from: 'nobody', received_at: 'yesterday', to: [42] },
    });
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    const pointers = (problem.errors as { pointer: string }[]).map((e) => e.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['/message_id', '/from', '/received_at']));
    expect(pointers.some((p) => p.startsWith('/to'))).toBe(true);

    const missing = await readProblem(await t.current.request('/emails', { as: 'service', json: {} }));
    expect((missing.errors as { pointer: string }[]).map((e) => e.pointer)).toEqual(
      expect.arrayContaining(['/message_id', '/from']),
    );
  });

  it('400 for broken JSON, an empty raw body or a raw message without From', async () => {
    const broken = await t.current.request('/emails', {
      as: 'service',
      headers: { 'content-type': 'application/json' },
      body: '{"message_id": ',
    });
    expect(broken.status).toBe(400);
    await readProblem(broken);
    const empty = await t.current.request('/emails', {
      as: 'service',
      headers: { 'content-type': 'message/rfc822' },
      body: '',
    });
    expect(empty.status).toBe(400);
    expect((await readProblem(empty)).detail).toMatch(/empty/);
    const noFrom = await t.current.request('/emails', {
      as: 'service',
      headers: { 'content-type': 'message/rfc822' },
      body: 'Subject: hi\r\nMessage-ID: <no-from@example.org>\r\n\r\nhello\r\n',
    });
    expect(noFrom.status).toBe(400);
    expect((await readProblem(noFrom)).detail).toMatch(/From/);
    expect(await stored('<no-from@example.org>')).toHaveLength(0);
  });

  it('415 names both accepted types', async () => {
    const res = await t.current.request('/emails', {
      as: 'service',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(res.status).toBe(415);
    expect((await readProblem(res)).detail).toMatch(/application\/json.*message\/rfc822/);
  });

  it('needs the service role (or admin): 401 without a token, 403 for viewer and manager', async () => {
    const body = json();
    expect((await t.current.request('/emails', { json: body })).status).toBe(401);
    for (const role of ['viewer', 'manager'] as const) {
      const res = await t.current.request('/emails', { as: role, json: body });
      expect(res.status, role).toBe(403);
      await readProblem(res);
    }
    expect(await stored(body.message_id)).toHaveLength(0);
    expect((await t.current.request('/emails', { as: 'admin', json: body })).status).toBe(202);
  });

  it('is in the OpenAPI document with both body types', async () => {
    const res = await t.current.request('/openapi.json');
    const doc = (await res.json()) as {
      paths: Record<
        string,
        { post?: { requestBody?: { content: Record<string, unknown> }; responses: object } }
      >;
    };
    const post = doc.paths['/emails']?.post;
    expect(Object.keys(post?.requestBody?.content ?? {})).toEqual(['application/json', 'message/rfc822']);
    expect(Object.keys(post?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '202', '400', '401', '403']),
    );
  });

  it('a listener that fails keeps the email (202), and a job hands it over again once', async () => {
    let failOnce = true;
    const handed: string[] = [];
    const remove = inbox!.onEmail(async (_tx, email) => {
      if (failOnce) {
        failOnce = false;
        throw new Error('workflow unavailable');
      }
      handed.push(email.messageId);
    });
    try {
      const body = json();
      const first = await t.current.request('/emails', { as: 'service', json: body });
      expect(first.status).toBe(202);
      expect(await stored(body.message_id)).toHaveLength(1);
      const worker = testWorker(t.current.database.db, t.current.clock, [
        inboundRedeliveryHandler({ email: (tx, payload) => inbox!.redeliver(tx, payload) }),
      ]);
      await worker.drain();
      expect(handed).toEqual([`<${body.message_id.replace(/^<|>$/g, '')}>`]);
      const repeat = await t.current.request('/emails', { as: 'service', json: body });
      expect(repeat.status).toBe(200);
      expect(handed).toHaveLength(1);
    } finally {
      remove();
    }
  });
});
