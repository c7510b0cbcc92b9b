import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { messageIdFor } from '../../src/peers/email/smtp-sender.js';
import { SmsGatewayFake } from '../fakes/sms-gateway-fake.js';
import {
  killAllServices,
  spawnService,
  useServiceProcesses,
  waitFor,
  type ServiceProcess,
} from '../helpers/spawn-service.js';
import { createTestDatabase, onPostgres } from '../helpers/test-database.js';
import {
  draftFor,
  DraftingAi,
  gatewayByKey,
  startGatedSmtp,
  type GatedSmtp,
} from './email-reply-kill-peers.js';

/**
 * kill -9 of the built service in every state of the email workflow, with its peers on their real
 * protocols: the OpenAI fake (HTTP), the seed's SMS gateway fake (HTTP, so every text the owner
 * gets is counted where it arrives) and an SMTP server (smtp-server) that can hold its answer to
 * DATA. After every restart the workflows go on from where they were: no email is lost, no reply
 * leaves twice, no text is sent twice.
 *
 * One draft is shown to the owner at a time (docs/email-reply.md), so the states that hold the
 * owner's slot (sms_sending, awaiting_user, user_edit_requested) cannot be parked side by side;
 * everything else can. Hence three kills, each with as many emails parked as the slot allows:
 *
 * 1. first service: five emails are taken to skipped, failed, reply_sent, user_ignored and timeout;
 *    then, at once, one is user_approved with the SMTP server holding DATA unanswered, the next
 *    one's text is in sms_sending with the gateway hanging, one is ai_generating with the AI
 *    hanging, one is ai_generated (queued) — kill -9.
 * 2. second service: the reply goes out once (the held one was never accepted), the text reaches
 *    the owner once; the drafts wait. Kill -9 while awaiting_user.
 * 3. third service: the owner's "2 …" is obeyed after the restart; kill -9 while the redraft is in
 *    flight (user_edit_requested, the AI hanging).
 * 4. fourth service: the redraft is texted, approved and sent; the queued drafts are presented in
 *    turn and settled. Then every count is checked at the peers and through the API.
 *
 * The terminal workflows of phase 1 go through three restarts and must change and send nothing.
 * `pending` cannot be parked: a workflow is created and moved on in the email's own transaction.
 *
 * The SMTP hold of kill 1 is *before acceptance*: the server has the whole message but has not
 * taken it (as a server still running its content filters does), so the client's death abandons
 * it; the test checks that the kill, not the service's own time limit, ended that session. A kill
 * *after* the server accepted DATA but before the service committed "sent" is not covered: the
 * outbox then resends the reply after the restart (same Message-ID, so receivers may fold the two
 * copies into one), because SMTP has no idempotency key (src/peers/email/smtp-sender.ts). Likewise
 * a text the gateway accepted just before a kill is asked again with the same Idempotency-Key,
 * which the gateway fake honours; kill 1 hangs the gateway before it takes the text.
 *
 * Waits are on states and on the peers' records, never on time. The job lease is short so that
 * the killed jobs are taken up again soon after a restart, but not shorter: a job's time limit is
 * 80 % of it, and an attempt cut by the limit after a peer accepted would resend for a reason
 * other than the kill.
 */
useServiceProcesses('file');

const OWNER = '+14155550177';
const TOKEN = 'admin-token-for-the-email-kill-test-00';
const ADDRESS = 'owner@example.com';
const SMTP_AUTH = { user: ADDRESS, pass: 'app-password-of-the-email-kill-test' };
/** The owner's edit, typed with capitals and punctuation: it must reach the AI as typed. */
const INSTRUCTION = 'Make it SHORTER: say no, offer Friday!';

type Email = { token: string; name: string; subject: string; headers?: Record<string, string> };
const EMAILS = {
  skip: {
    token: 'skip',
    name: 'Auto Responder',
    subject: 'Out of office',
    headers: { 'Auto-Submitted': 'auto-replied' },
  },
  failed: { token: 'failed', name: 'Fay Failed', subject: 'Invoice question' },
  sent: { token: 'sent', name: 'Sam Sent', subject: 'Lunch on Monday?' },
  ignored: { token: 'ignored', name: 'Ivy Ignored', subject: 'Newsletter idea' },
  timeout: { token: 'timeout', name: 'Tom Timeout', subject: 'Quick question' },
  app: { token: 'app', name: 'Ana Approved', subject: 'Meeting tomorrow' },
  sms: { token: 'sms', name: 'Sol Texted', subject: 'Dinner on Thursday?' },
  queued: { token: 'queued', name: 'Quinn Queued', subject: 'Board papers' },
  gen: { token: 'gen', name: 'Gil Drafting', subject: 'Contract renewal' },
} satisfies Record<string, Email>;
type Name = keyof typeof EMAILS;

const bare = (name: Name) => `kill-${EMAILS[name].token}@example.net`;
const messageId = (name: Name) => `<${bare(name)}>`;
const address = (name: Name) => `${EMAILS[name].token}@example.net`;
const key = (name: Name, purpose: string) => `email-reply:${messageId(name)}:${purpose}`;
const replyMessageId = (name: Name, version: number) => messageIdFor(key(name, `reply:v${version}`), ADDRESS);

const dataDir = onPostgres ? undefined : mkdtempSync(join(tmpdir(), 'countersign-email-kill-'));
let postgres: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
const ai = new DraftingAi(INSTRUCTION);
const gateway = new SmsGatewayFake();
let smtp: GatedSmtp | undefined;
let failed = false;

beforeEach((ctx) => {
  ctx.onTestFailed(() => {
    failed = true;
  });
});

afterAll(async () => {
  await killAllServices();
  await Promise.all([ai.stop(), gateway.stop(), smtp?.close()]);
  await postgres?.dispose(failed);
  if (!dataDir) return;
  if (failed) console.error(`[email-reply-kill] kept ${dataDir} for inspection (a test failed)`);
  else rmSync(dataDir, { recursive: true, force: true });
});

type Json = Record<string, unknown>;
type Workflow = Json & {
  status: string;
  draft: string | null;
  draft_version: number;
  instructions: string[];
  deadline: string | null;
  updated_at: string;
  audit_trail: { from: string | null; to: string; actor: string }[];
};

async function call(service: ServiceProcess, method: string, path: string, body?: unknown) {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text.startsWith('{') ? JSON.parse(text) : text) as Json };
}

async function workflow(service: ServiceProcess, name: Name): Promise<Workflow> {
  const { status, body } = await call(service, 'GET', `/workflow/${encodeURIComponent(bare(name))}`);
  if (status !== 200) throw new Error(`GET /workflow/${bare(name)}: ${status} ${JSON.stringify(body)}`);
  return body as Workflow;
}

const until = <T>(what: string, condition: () => Promise<T | undefined | false> | T | undefined | false) =>
  waitFor(what, condition, { timeoutMs: 60_000, intervalMs: 25 });

/** Waits until the workflow is in `status` (and `also` holds), and returns it. */
async function reach(
  service: ServiceProcess,
  name: Name,
  status: string,
  also: (w: Workflow) => boolean = () => true,
): Promise<Workflow> {
  let last: Workflow | undefined;
  try {
    return await until(`${name} to reach ${status}`, async () => {
      last = await workflow(service, name);
      return last.status === status && also(last) ? last : undefined;
    });
  } catch (error) {
    const trail = last?.audit_trail.map((a) => `${a.from ?? '∅'}→${a.to} (${a.actor})`).join(', ');
    throw new Error(
      `${(error as Error).message}; last seen: ${last?.status} v${last?.draft_version} [${trail}]\n` +
        service.describe(),
    );
  }
}

async function postEmail(service: ServiceProcess, name: Name) {
  const email: Email = EMAILS[name];
  const { status } = await call(service, 'POST', '/emails', {
    message_id: messageId(name),
    from: `${email.name} <${address(name)}>`,
    to: [ADDRESS],
    subject: email.subject,
    text: `Hello, about "${email.subject}" [kill-${email.token}]. Could you let me know?`,
    headers: email.headers ?? {},
    received_at: new Date().toISOString(),
  });
  expect(status).toBe(202);
}

let said = 0;
async function ownerSays(service: ServiceProcess, message: string) {
  said += 1;
  const { status, body } = await call(service, 'POST', '/orchestrator/sms-response', {
    messageId: `kill-in-${said}`,
    message,
    phoneNumber: OWNER,
    receivedAt: new Date().toISOString(),
  });
  expect(status).toBe(200);
  expect(body.status).toBe('processed');
}

/** The owner answers a draft once the workflow shows it waits for them. */
async function answer(service: ServiceProcess, name: Name, message: string, version = 1) {
  await reach(service, name, 'awaiting_user', (w) => w.draft_version === version);
  await ownerSays(service, message);
}

/** Sends this process committed as sent, by channel (the outbox counts them after the commit). */
async function committedSends(service: ServiceProcess): Promise<{ sms: number; email: number }> {
  const { body } = await call(service, 'GET', '/metrics');
  const count = (channel: string) => {
    const line = new RegExp(
      `^countersign_outbox_sends_total\\{channel="${channel}",outcome="sent"\\} (\\d+)$`,
      'm',
    );
    return Number(line.exec(String(body))?.[1] ?? 0);
  };
  return { sms: count('sms'), email: count('email') };
}

/**
 * A started service and what the peers had accepted before it: `settled()` waits until every text
 * and email the peers accepted since is committed as sent by this process, so that a kill after it
 * cannot fall between a peer's acceptance and the service's "sent" (which would resend).
 */
type Running = { service: ServiceProcess; settled: () => Promise<void> };

describe(`email auto-reply across kill -9 in every state (${onPostgres ? 'PostgreSQL' : 'PGlite data folder'})`, () => {
  it(
    'goes on after each restart: no email lost, no reply and no text twice',
    { timeout: 240_000 },
    async () => {
      const began = performance.now();
      const lap = (what: string) =>
        console.info(`[email-reply-kill] ${what} at ${((performance.now() - began) / 1000).toFixed(1)} s`);
      await Promise.all([ai.start(), gateway.start()]);
      const mail = await startGatedSmtp(SMTP_AUTH);
      smtp = mail;
      if (onPostgres) postgres = await createTestDatabase();
      const env = {
        ...(postgres ? { DATABASE_URL: postgres.url } : { DATA_DIR: dataDir }),
        PORT: '0',
        HOST: '127.0.0.1',
        API_ADMIN_TOKEN: TOKEN,
        YOUR_PHONE_NUMBER: OWNER,
        EMAIL_ADDRESS: ADDRESS,
        EMAIL_PASSWORD: SMTP_AUTH.pass,
        EMAIL_SOURCE: 'ingest',
        GMAIL_SMTP_SERVER: mail.host,
        GMAIL_SMTP_PORT: String(mail.port),
        SMTP_SECURE: 'false',
        SMS_PROVIDER: 'sms-gateway',
        SMS_GATEWAY_URL: gateway.url,
        OPENAI_BASE_URL: ai.baseUrl,
        JOB_LEASE_MS: '4000',
        JOB_POLL_INTERVAL_MS: '50',
        RETRY_BASE_DELAY_MS: '100',
      };
      const start = async (name: string): Promise<Running> => {
        // Taken before the start: a restarted service resends what it must as soon as it runs.
        const accepted = { sms: gateway.texts.length + gateway.repeats, email: mail.messages.length };
        const service = spawnService({ name, env });
        await service.waitForReady(60_000);
        lap(`${name} ready`);
        let last: unknown;
        return {
          service,
          settled: () =>
            until(`${name}: every send the peers accepted committed as sent`, async () => {
              const sent = await committedSends(service);
              last = {
                sent,
                accepted,
                texts: gateway.texts.length,
                repeats: gateway.repeats,
                email: mail.messages.length,
                smtp: mail.events,
              };
              return (
                sent.sms === gateway.texts.length + gateway.repeats - accepted.sms &&
                sent.email === mail.messages.length - accepted.email
              );
            }).then(
              () => undefined,
              (error: Error) => {
                throw new Error(`${error.message}: ${JSON.stringify(last)}`);
              },
            ),
        };
      };
      /** Job attempts that ended before the kill (a time limit), from the service's log. */
      const attemptsEnded = (service: ServiceProcess) =>
        service.logLines().filter((l) => l.msg === 'job will retry' || l.msg === 'job failed for good');

      // ── 1. Terminal states, then four emails parked at once; kill -9 ─────────────────────────
      const first = await start('email service 1 (killed mid-send)');
      const s1 = first.service;

      await postEmail(s1, 'skip');
      expect((await reach(s1, 'skip', 'skipped')).skip_reason).toBe('auto_submitted');

      ai.failNext({ kind: 'status', status: 500 }, 4); // the first try and MAX_RETRY_ATTEMPTS (3) retries
      await postEmail(s1, 'failed');
      await reach(s1, 'failed', 'failed');

      // Ready drafts are shown in the order they became ready while the slot was free: "sent"
      // takes the owner's slot, and the other two queue behind it, to be shown oldest first.
      await postEmail(s1, 'sent');
      await reach(s1, 'sent', 'awaiting_user');
      await postEmail(s1, 'ignored');
      await postEmail(s1, 'timeout');
      await reach(s1, 'ignored', 'ai_generated');
      await reach(s1, 'timeout', 'ai_generated');
      await answer(s1, 'sent', '1');
      await reach(s1, 'sent', 'reply_sent');
      await answer(s1, 'ignored', '3');
      await reach(s1, 'ignored', 'user_ignored');
      await reach(s1, 'timeout', 'awaiting_user');
      expect(
        (await call(s1, 'POST', `/workflow/timeout/${encodeURIComponent(bare('timeout'))}`)).status,
      ).toBe(200);
      await reach(s1, 'timeout', 'timeout');

      await postEmail(s1, 'app');
      await reach(s1, 'app', 'awaiting_user');
      await postEmail(s1, 'sms');
      await postEmail(s1, 'queued');
      await reach(s1, 'sms', 'ai_generated');
      await reach(s1, 'queued', 'ai_generated');
      await until('the texts of phase 1 so far', () => gateway.texts.length === 8);
      await first.settled();
      const terminal = ['skip', 'failed', 'sent', 'ignored', 'timeout'] as const;
      const before = Object.fromEntries(
        await Promise.all(terminal.map(async (name) => [name, await workflow(s1, name)] as const)),
      );
      lap('terminal states reached');

      // The AI, the gateway and the SMTP server now keep their answers.
      ai.failAlways({ kind: 'hang' });
      gateway.failAlways({ kind: 'hang' });
      mail.holdNextData('before_accept');
      await postEmail(s1, 'gen'); // its draft: the AI hangs
      await ownerSays(s1, '1'); // approves "app": the SMTP server holds DATA; "sms" is presented: the gateway hangs
      await until(
        'the AI, the gateway and the SMTP server each to hold a call',
        () =>
          ai.requestsFor('kill-gen').length === 1 &&
          gatewayByKey(gateway).requests.get(key('sms', 'sms:v1')) === 1 &&
          mail.holds.length === 1 &&
          mail.holds[0]!.outcome === 'held',
      );
      const parked = await Promise.all(
        (['app', 'sms', 'gen', 'queued'] as const).map(async (name) => (await workflow(s1, name)).status),
      );
      expect(parked).toEqual(['user_approved', 'sms_sending', 'ai_generating', 'ai_generated']);
      expect(mail.holds[0]!.outcome).toBe('held');
      const killedAt = Date.now();
      await s1.kill();
      lap(`service 1 killed, ${killedAt - ai.requestsFor('kill-gen')[0]!.at} ms after the AI call began`);
      // The kill ended the SMTP session, while DATA was held: the server never accepted the message.
      await until('the SMTP server to see its client gone', () => mail.holds[0]!.outcome !== 'held');
      expect(mail.holds[0]).toMatchObject({ outcome: 'client_gone', messageId: replyMessageId('app', 1) });
      expect(mail.holds[0]!.endedAt).toBeGreaterThanOrEqual(killedAt);
      // No AI, SMS or SMTP attempt had ended (by a time limit) before the kill: all were in flight.
      expect(attemptsEnded(s1)).toEqual([]);
      expect(mail.messages.map((m) => m.parsed.messageId)).toEqual([replyMessageId('sent', 1)]);
      ai.heal();
      gateway.heal();

      // ── 2. Restart: the reply goes out once, the text reaches the owner once; kill in awaiting_user ──
      const second = await start('email service 2 (killed while awaiting the owner)');
      const s2 = second.service;
      await reach(s2, 'app', 'reply_sent');
      const waiting = await reach(s2, 'sms', 'awaiting_user', (w) => w.draft_version === 1);
      await reach(s2, 'gen', 'ai_generated');
      await until('the confirmation of the reply to Ana', () =>
        gatewayByKey(gateway).texts.has(key('app', 'notify:sent:v1')),
      );
      await second.settled();
      const appReplies = mail.messages.filter((m) => m.parsed.messageId === replyMessageId('app', 1));
      expect(appReplies).toHaveLength(1);
      expect(gatewayByKey(gateway).texts.get(key('sms', 'sms:v1'))).toHaveLength(1);
      expect(gatewayByKey(gateway).requests.get(key('sms', 'sms:v1'))).toBe(2); // the hung one, and the one sent
      const pending = await call(s2, 'GET', '/workflow/pending');
      expect((pending.body.workflows as { message_id: string }[]).map((w) => w.message_id)).toEqual([
        messageId('sms'),
      ]);
      expect((await workflow(s2, 'queued')).status).toBe('ai_generated');
      await s2.kill();
      lap('service 2 killed');

      // ── 3. Restart: the owner's command is obeyed; kill while the redraft is in flight ────────────
      const third = await start('email service 3 (killed while redrafting)');
      const s3 = third.service;
      const still = await workflow(s3, 'sms');
      expect(still).toMatchObject({ status: 'awaiting_user', draft_version: 1, deadline: waiting.deadline });
      ai.failAlways({ kind: 'hang' });
      await ownerSays(s3, `2 ${INSTRUCTION}`);
      const editing = await reach(s3, 'sms', 'user_edit_requested');
      expect(editing.instructions).toEqual([INSTRUCTION]);
      await until('the redraft to reach the AI', () => ai.requestsFor('kill-sms').length === 2);
      expect(JSON.stringify(ai.requestsFor('kill-sms')[1]!.json)).toContain(INSTRUCTION);
      await third.settled();
      expect((await workflow(s3, 'sms')).status).toBe('user_edit_requested');
      await s3.kill();
      lap('service 3 killed');
      expect(attemptsEnded(s3)).toEqual([]);
      ai.heal();

      // ── 4. Restart: the redraft is texted and sent; the queued drafts are settled in turn ────────
      const fourth = await start('email service 4 (final)');
      const s4 = fourth.service;
      await answer(s4, 'sms', '1', 2);
      await reach(s4, 'sms', 'reply_sent');
      await answer(s4, 'queued', '3');
      await reach(s4, 'queued', 'user_ignored');
      await answer(s4, 'gen', '1');
      await reach(s4, 'gen', 'reply_sent');
      const expectedTexts: [Name, string][] = [
        ['failed', 'notify:failed:1'],
        ['sent', 'sms:v1'],
        ['sent', 'notify:sent:v1'],
        ['ignored', 'sms:v1'],
        ['ignored', 'notify:ignored:v1'],
        ['timeout', 'sms:v1'],
        ['timeout', 'notify:timeout:v1'],
        ['app', 'sms:v1'],
        ['app', 'notify:sent:v1'],
        ['sms', 'sms:v1'],
        ['sms', 'sms:v2'],
        ['sms', 'notify:sent:v2'],
        ['queued', 'sms:v1'],
        ['queued', 'notify:ignored:v1'],
        ['gen', 'sms:v1'],
        ['gen', 'notify:sent:v1'],
      ];
      await until('every text to reach the gateway', () => gateway.texts.length >= expectedTexts.length);
      await until('every reply to reach the SMTP server', () => mail.messages.length >= 4);
      await fourth.settled();
      lap('every workflow settled');

      // No email lost: each has its workflow, in the state its story ends in.
      const status = await call(s4, 'GET', '/workflow/status');
      expect(status.body).toEqual({
        total: 9,
        by_status: { skipped: 1, failed: 1, reply_sent: 4, user_ignored: 2, timeout: 1 },
      });
      const end = Object.fromEntries(
        await Promise.all(
          (Object.keys(EMAILS) as Name[]).map(async (name) => [name, await workflow(s4, name)] as const),
        ),
      ) as Record<Name, Workflow>;
      expect(Object.fromEntries(Object.entries(end).map(([name, w]) => [name, w.status]))).toEqual({
        skip: 'skipped',
        failed: 'failed',
        sent: 'reply_sent',
        ignored: 'user_ignored',
        timeout: 'timeout',
        app: 'reply_sent',
        sms: 'reply_sent',
        queued: 'user_ignored',
        gen: 'reply_sent',
      });
      // The terminal workflows went through three restarts untouched.
      for (const name of terminal) {
        expect(end[name].updated_at, name).toBe(before[name]!.updated_at);
        expect(end[name].audit_trail, name).toEqual(before[name]!.audit_trail);
      }
      // Each draft was taken once and each ending written once, whatever the kills interrupted.
      for (const name of Object.keys(EMAILS) as Name[]) {
        const into = (state: string) => end[name].audit_trail.filter((a) => a.to === state).length;
        expect(into('ai_generated'), name).toBe(end[name].draft_version);
        expect(into(end[name].status), name).toBe(1);
      }
      expect(end.sms).toMatchObject({ draft_version: 2, instructions: [INSTRUCTION] });
      expect(end.sms.draft).toBe(draftFor('kill-sms', true));

      // No reply twice: one message per Message-ID at the SMTP server, each threaded.
      const replies = new Map<string, number>();
      for (const m of mail.messages)
        replies.set(m.parsed.messageId ?? '', (replies.get(m.parsed.messageId ?? '') ?? 0) + 1);
      expect(Object.fromEntries(replies)).toEqual({
        [replyMessageId('sent', 1)]: 1,
        [replyMessageId('app', 1)]: 1,
        [replyMessageId('sms', 2)]: 1,
        [replyMessageId('gen', 1)]: 1,
      });
      for (const [name, version] of [
        ['sent', 1],
        ['app', 1],
        ['sms', 2],
        ['gen', 1],
      ] as const) {
        const reply = mail.messages.find((m) => m.parsed.messageId === replyMessageId(name, version))!;
        expect(reply.envelope.to, name).toEqual([address(name)]);
        expect(reply.user, name).toBe(ADDRESS);
        expect(reply.parsed.subject, name).toBe(`Re: ${EMAILS[name].subject}`);
        expect(reply.parsed.inReplyTo, name).toBe(messageId(name));
        expect([reply.parsed.references].flat(), name).toContain(messageId(name));
        expect(reply.parsed.headers.get('x-countersign-reply'), name).toBeDefined();
        expect(reply.parsed.text?.trim(), name).toBe(draftFor(`kill-${EMAILS[name].token}`, version === 2));
      }

      // No text twice: one per key at the gateway, and the gateway never asked to send a text it had sent.
      const { texts, requests } = gatewayByKey(gateway);
      expect([...texts.keys()].sort()).toEqual(
        expectedTexts.map(([name, purpose]) => key(name, purpose)).sort(),
      );
      for (const [k, sent] of texts) expect(sent, k).toHaveLength(1);
      for (const [name, purpose] of expectedTexts.filter(([, p]) => p.startsWith('sms:'))) {
        const email: Email = EMAILS[name];
        const draft = draftFor(`kill-${email.token}`, purpose === 'sms:v2');
        expect(texts.get(key(name, purpose))![0]!.message, `${name} ${purpose}`).toBe(
          `📧 ${email.name}: ${email.subject}\nDraft: ${draft}\n1=Send 2=Edit 3=Ignore`,
        );
      }
      expect(gateway.repeats).toBe(0);
      expect(gateway.texts.every((t) => t.to === OWNER)).toBe(true);
      expect([...requests.values()].reduce((a, b) => a + b, 0)).toBe(expectedTexts.length + 1); // + the hung one
      const confirmations = gateway.texts
        .filter((t) => t.message.startsWith('✅ Reply sent'))
        .map((t) => t.message);
      expect(confirmations.sort()).toEqual(
        ['Sam Sent', 'Ana Approved', 'Sol Texted', 'Gil Drafting'].map((n) => `✅ Reply sent to ${n}`).sort(),
      );

      // No draft written twice: each AI call is accounted for (hung calls were asked again once).
      const aiCalls = Object.fromEntries(
        (Object.keys(EMAILS) as Name[]).map((n) => [n, ai.requestsFor(`kill-${EMAILS[n].token}`).length]),
      );
      expect(aiCalls).toEqual({
        skip: 0,
        failed: 4,
        sent: 1,
        ignored: 1,
        timeout: 1,
        app: 1,
        sms: 3,
        queued: 1,
        gen: 2,
      });

      await s4.stop();
      lap('done');
    },
  );
});
