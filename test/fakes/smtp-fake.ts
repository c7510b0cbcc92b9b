import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

/**
 * A real SMTP server (smtp-server) on an ephemeral port of 127.0.0.1 that keeps every accepted
 * message, parsed with mailparser, and can be told to misbehave once per fault:
 * - reject the next MAIL FROM, RCPT TO or DATA with a code (451 try later, 550 no such mailbox);
 * - drop the connection in the middle of the next DATA;
 * - answer the next DATA only after a delay (a slow server: the message is kept once answered).
 *
 * TLS: 'none', 'starttls' (offers STARTTLS) or 'implicit' (TLS from the first byte, as port 465).
 * The certificate is a self-signed one for "localhost" made at test time with the openssl command
 * (nothing secret is committed); clients must set rejectUnauthorized: false.
 *
 * Where it differs from a real server: no queue, no relaying, no DKIM/SPF; every recipient is
 * accepted unless a fault says otherwise; AUTH is PLAIN/LOGIN against one user.
 */

export type SmtpTlsMode = 'none' | 'starttls' | 'implicit';

export type SmtpFakeOptions = {
  tls?: SmtpTlsMode;
  /** When set, AUTH is required and only this user and password pass (535 otherwise). */
  auth?: { user: string; pass: string };
};

export type ReceivedMessage = {
  envelope: { from: string; to: string[] };
  raw: Buffer;
  parsed: ParsedMail;
  /** The session was encrypted (implicit TLS or after STARTTLS). */
  secure: boolean;
  user: string | undefined;
};

export type SmtpFault =
  | { stage: 'mail' | 'rcpt' | 'data'; code: number; message?: string }
  | { stage: 'data'; drop: true }
  | { stage: 'data'; delayMs: number };

export type SmtpFake = {
  readonly host: string;
  readonly port: number;
  readonly messages: readonly ReceivedMessage[];
  /** Connections opened so far (a breaker that is open opens none). */
  readonly connections: number;
  /** Queues a fault for the next command of its stage. */
  fail(fault: SmtpFault): void;
  /** Resolves when at least n messages were accepted. */
  waitForMessages(n: number, timeoutMs?: number): Promise<readonly ReceivedMessage[]>;
  close(): Promise<void>;
};

/** A self-signed certificate for localhost / 127.0.0.1, valid for a day. */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'smtp-fake-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type SmtpError = Error & { responseCode?: number };

function smtpError(code: number, message: string): SmtpError {
  const error: SmtpError = new Error(message);
  error.responseCode = code;
  return error;
}

export async function startSmtpFake(options: SmtpFakeOptions = {}): Promise<SmtpFake> {
  const tls = options.tls ?? 'none';
  const messages: ReceivedMessage[] = [];
  const faults: SmtpFault[] = [];
  const sockets = new Map<number, Socket>();
  const waiters: { n: number; resolve: () => void }[] = [];
  let connections = 0;

  const takeFault = (stage: SmtpFault['stage']): SmtpFault | undefined => {
    const index = faults.findIndex((f) => f.stage === stage);
    return index < 0 ? undefined : faults.splice(index, 1)[0];
  };
  const rejectWith = (stage: 'mail' | 'rcpt', callback: (err?: Error | null) => void) => {
    const fault = takeFault(stage);
    if (fault && 'code' in fault)
      return callback(smtpError(fault.code, fault.message ?? `fake ${stage} fault`));
    callback();
  };

  const certificate = tls === 'none' ? undefined : selfSignedCertificate();
  const server = new SMTPServer({
    secure: tls === 'implicit',
    ...(certificate ?? {}),
    disabledCommands: [...(tls === 'none' ? ['STARTTLS'] : []), ...(options.auth ? [] : ['AUTH'])],
    authOptional: !options.auth,
    authMethods: ['PLAIN', 'LOGIN'],
    // The fake accepts AUTH without TLS: tests of the auth path need not also set up TLS.
    allowInsecureAuth: true,
    logger: false,
    banner: 'countersign smtp fake',
    closeTimeout: 200,
    // No reverse DNS of 127.0.0.1 per connection: it only slows the tests down.
    disableReverseLookup: true,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
        return callback(null, { user: auth.username });
      }
      return callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
    },
    onMailFrom(_address, _session, callback) {
      rejectWith('mail', callback);
    },
    onRcptTo(_address, _session, callback) {
      rejectWith('rcpt', callback);
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const fault = takeFault('data');
      const chunks: Buffer[] = [];
      let dropped = false;
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (fault && 'drop' in fault && !dropped) {
          dropped = true;
          // Gone mid-transfer, as a crashing server or a cut line would be.
          sockets.get(session.remotePort)?.destroy();
        }
      });
      stream.on('end', () => {
        void (async () => {
          if (dropped) return;
          if (fault && 'code' in fault)
            return callback(smtpError(fault.code, fault.message ?? 'fake data fault'));
          if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
          const raw = Buffer.concat(chunks);
          const envelope = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          };
          messages.push({
            envelope,
            raw,
            parsed: await simpleParser(raw),
            secure: session.secure,
            user: typeof session.user === 'string' ? session.user : undefined,
          });
          for (const waiter of [...waiters]) {
            if (messages.length >= waiter.n) {
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.resolve();
            }
          }
          callback(null, 'OK queued by the fake');
        })();
      });
    },
  });
  server.on('error', () => {
    // A client that hangs up mid-command is part of the tests; nothing to report.
  });
  server.server.on('connection', (socket: Socket) => {
    const port = socket.remotePort;
    if (port === undefined) return;
    sockets.set(port, socket);
    socket.once('close', () => sockets.delete(port));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;

  return {
    host: '127.0.0.1',
    port,
    messages,
    get connections() {
      return connections;
    },
    fail(fault) {
      faults.push(fault);
    },
    async waitForMessages(n, timeoutMs = 5000) {
      if (messages.length < n) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`smtp fake: ${messages.length} of ${n} messages after ${timeoutMs} ms`)),
            timeoutMs,
          );
          waiters.push({
            n,
            resolve: () => {
              clearTimeout(timer);
              resolve();
            },
          });
        });
      }
      return messages;
    },
    async close() {
      // smtp-server tears down sockets still in a TLS handshake itself (destroying the raw socket
      // under a handshake crashes Node) and ends open sessions after closeTimeout.
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
