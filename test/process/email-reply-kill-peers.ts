import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { FakeReply, RecordedRequest } from '../fakes/fake-http-server.js';
import { chatPromptText, OpenAiFake } from '../fakes/openai-fake.js';
import type { GatewayText, SmsGatewayFake } from '../fakes/sms-gateway-fake.js';

/**
 * The peers of the email kill test (email-reply-kill.test.ts), over their real protocols.
 *
 * - `GatedSmtp`: an SMTP server (smtp-server) that can hold the answer to the next DATA until the
 *   server closes or the client goes away. It knows the difference the test is about: a message
 *   held *before* the server accepted it is dropped when the client dies (the client never heard
 *   "250", and the server never took it), whereas one held *after* acceptance is kept even if the
 *   answer never reaches the client. test/fakes/smtp-fake.ts's delayed DATA always keeps the
 *   message, i.e. models only the second case.
 * - `DraftingAi`: the OpenAI fake, answering each email with a draft that names the email (a token
 *   in its body) and says whether it is a redraft, so a text or a reply can be traced to its email.
 * - `gatewayByKey`: reading the SMS gateway fake's record by the service's keys.
 */

export type HoldMode = 'before_accept' | 'after_accept';

export type SmtpHold = {
  mode: HoldMode;
  messageId: string | undefined;
  heldAt: number;
  /** When the hold ended: released at close(), or the client's connection closed. */
  endedAt?: number;
  outcome: 'held' | 'released' | 'client_gone';
};

export type ReceivedReply = {
  envelope: { from: string; to: string[] };
  parsed: ParsedMail;
  user: string | undefined;
};

export type GatedSmtp = {
  readonly host: string;
  readonly port: number;
  /** Every message the server accepted (a held-then-abandoned one is not among them). */
  readonly messages: readonly ReceivedReply[];
  /** Every DATA held so far, oldest first. */
  readonly holds: readonly SmtpHold[];
  /** What happened, with times (ms since the epoch), for failure messages. */
  readonly events: readonly string[];
  /** Holds the answer to the next DATA (one per call). */
  holdNextData(mode: HoldMode): void;
  close(): Promise<void>;
};

type Waiting = { hold: SmtpHold; sessionId: string; end: (outcome: 'released' | 'client_gone') => void };

export async function startGatedSmtp(auth: { user: string; pass: string }): Promise<GatedSmtp> {
  const messages: ReceivedReply[] = [];
  const holds: SmtpHold[] = [];
  const armed: HoldMode[] = [];
  const waiting = new Set<Waiting>();
  const events: string[] = [];
  const note = (session: SMTPServerSession, what: string) =>
    events.push(`${Date.now()} ${session.id} ${what}`);

  const accept = (parsed: ParsedMail, session: SMTPServerSession) => {
    messages.push({
      envelope: {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((r) => r.address),
      },
      parsed,
      user: typeof session.user === 'string' ? session.user : undefined,
    });
  };

  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: true,
    logger: false,
    banner: 'countersign email-kill smtp',
    closeTimeout: 200,
    disableReverseLookup: true,
    onConnect(session, callback) {
      note(session, 'connect');
      callback();
    },
    onAuth(credentials, _session, callback) {
      if (credentials.username === auth.user && credentials.password === auth.pass) {
        return callback(null, { user: credentials.username });
      }
      const error = Object.assign(new Error('5.7.8 Authentication credentials invalid'), {
        responseCode: 535,
      });
      return callback(error);
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      note(session, 'DATA');
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', () => undefined);
      stream.on('end', () => {
        void (async () => {
          const parsed = await simpleParser(Buffer.concat(chunks));
          note(session, `message ${parsed.messageId}`);
          const mode = armed.shift();
          if (!mode) {
            accept(parsed, session);
            return callback(null, 'OK accepted');
          }
          const hold: SmtpHold = { mode, messageId: parsed.messageId, heldAt: Date.now(), outcome: 'held' };
          holds.push(hold);
          // After acceptance the message is the server's, whatever becomes of the answer.
          if (mode === 'after_accept') accept(parsed, session);
          const entry: Waiting = {
            hold,
            sessionId: session.id,
            end: (outcome) => {
              if (!waiting.delete(entry)) return;
              hold.outcome = outcome;
              hold.endedAt = Date.now();
              if (outcome === 'client_gone') return; // nobody to answer; a before_accept message is dropped
              if (mode === 'before_accept') accept(parsed, session);
              callback(null, 'OK accepted after a hold');
            },
          };
          waiting.add(entry);
        })();
      });
    },
    onClose(session) {
      note(session, 'close');
      for (const entry of [...waiting]) if (entry.sessionId === session.id) entry.end('client_gone');
    },
  });
  server.on('error', () => {
    // A client killed mid-command is what the test does; nothing to report.
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    messages,
    holds,
    events,
    holdNextData(mode) {
      armed.push(mode);
    },
    async close() {
      for (const entry of [...waiting]) entry.end('released');
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The OpenAI fake with one draft per email: an email's body carries a token such as `[kill-app]`,
 * and the draft names it, so every text and reply can be traced back to its email. A request whose
 * prompt carries the owner's redraft instruction (`redraftMarker`) gets the redraft.
 */
export class DraftingAi extends OpenAiFake {
  constructor(private readonly redraftMarker: string) {
    super({ apiKey: null });
  }

  /** The chat requests whose prompt names this token (faulted and hung ones included). */
  requestsFor(token: string): RecordedRequest[] {
    return this.completions.filter((r) => promptOf(r).includes(`[${token}]`));
  }

  protected override handle(request: RecordedRequest): FakeReply {
    if (request.method === 'POST' && request.path === '/v1/chat/completions') {
      const prompt = promptOf(request);
      const token = /\[(kill-[a-z]+)\]/.exec(prompt)?.[1];
      if (token) {
        const text = draftFor(token, prompt.includes(this.redraftMarker));
        // Synchronous up to the fake's own dequeue: no other request can take this answer.
        this.enqueueReply({ text, intent: 'other', confidence: 0.9, plan: null });
      }
    }
    return super.handle(request);
  }
}

/** The draft DraftingAi writes for the email carrying `[token]`. */
export function draftFor(token: string, redraft: boolean): string {
  return redraft
    ? `Sorry, I cannot make it; Friday works. (${token} redraft)`
    : `Thanks, noted. (${token} draft)`;
}

function promptOf(request: RecordedRequest): string {
  const body = request.json as { messages?: { role: string; content: unknown }[] } | undefined;
  return body?.messages ? chatPromptText({ messages: body.messages }) : '';
}

/** The gateway's texts and send requests by the Idempotency-Key the service gave them. */
export function gatewayByKey(gateway: SmsGatewayFake): {
  texts: Map<string, GatewayText[]>;
  requests: Map<string, number>;
} {
  const texts = new Map<string, GatewayText[]>();
  for (const text of gateway.texts) {
    const key = text.idempotencyKey ?? '(none)';
    texts.set(key, [...(texts.get(key) ?? []), text]);
  }
  const requests = new Map<string, number>();
  for (const request of gateway.sends()) {
    const raw = request.headers['idempotency-key'];
    const key = (Array.isArray(raw) ? raw[0] : raw) ?? '(none)';
    requests.set(key, (requests.get(key) ?? 0) + 1);
  }
  return { texts, requests };
}
