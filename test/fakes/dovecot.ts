import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';

/**
 * A real IMAP server for the IMAP contract tests: Debian's Dovecot (package dovecot-imapd), started
 * by the test from a config written into a temp folder. It listens on 127.0.0.1 on a free port,
 * allows plaintext LOGIN without TLS (tests only), keeps one user in a passwd-file, stores mail as
 * maildir in the temp folder, writes its log there (no syslog), and runs in the foreground (-F) as
 * a child of the test process, which stops it.
 *
 * Run as root (CI containers), Dovecot still drops privileges: its login and internal processes run
 * as the package's dovenull/dovecot users, mail as nobody (65534), which owns the maildir. Run as
 * another user, everything runs as that user.
 *
 * Only the 2.3 config syntax is written (Debian 12 ships 2.3.19); Dovecot 2.4 changed the syntax,
 * and the tests skip, saying so, rather than start it with a config it would misread.
 *
 * appendMessage() puts mail into a mailbox as a delivery would (IMAP APPEND over its own
 * connection); the server is otherwise unmodified Dovecot, so IDLE, UIDNEXT and UIDVALIDITY
 * behave as in production.
 */

export const DOVECOT_BINARY = '/usr/sbin/dovecot';
export const DOVECOT_PACKAGE = 'dovecot-imapd';
const DOVEADM_BINARY = '/usr/bin/doveadm';

export type DovecotSupport = { available: true; version: string } | { available: false; reason: string };

export function dovecotSupport(): DovecotSupport {
  if (!existsSync(DOVECOT_BINARY)) {
    return { available: false, reason: `${DOVECOT_BINARY} is missing (install Debian's ${DOVECOT_PACKAGE})` };
  }
  let version: string;
  try {
    version = execFileSync(DOVECOT_BINARY, ['--version'], { encoding: 'utf8' }).trim();
  } catch (error) {
    return { available: false, reason: `${DOVECOT_BINARY} --version failed: ${String(error)}` };
  }
  if (!/^2\.3\./.test(version)) {
    return {
      available: false,
      reason: `Dovecot ${version} is installed; the test config is written for 2.3`,
    };
  }
  return { available: true, version };
}

/** Says loudly, once per test file, that the IMAP tier does not run here and why. */
export function warnDovecotSkipped(reason: string): void {
  const line = '!'.repeat(78);
  console.warn(
    [
      line,
      `!! IMAP contract tests SKIPPED: ${reason}.`,
      `!! Install it with: apt-get update && apt-get install -y ${DOVECOT_PACKAGE}`,
      line,
    ].join('\n'),
  );
}

export type Dovecot = {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** APPENDs a raw message; returns its UID. */
  appendMessage(raw: string | Buffer, options?: { mailbox?: string; internalDate?: Date }): Promise<number>;
  createMailbox(name: string): Promise<void>;
  deleteMailbox(name: string): Promise<void>;
  /** UIDVALIDITY and UIDNEXT as the server reports them. */
  status(mailbox: string): Promise<{ uidValidity: bigint; uidNext: number }>;
  /** Disconnects every session of the user (doveadm kick), as a server restart would. */
  kick(): Promise<void>;
  /** The server's log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
};

const NOBODY = 65534;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function myGroup(): string {
  return execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
}

function config(dir: string, port: number, asRoot: boolean): string {
  const me = userInfo().username;
  return `# Written by test/fakes/dovecot.ts for one test run.
protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
info_log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# A wrong password is answered at once (tests try one on purpose).
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:${dir}/mail/%u
${asRoot ? '' : `default_login_user = ${me}\ndefault_internal_user = ${me}\ndefault_internal_group = ${myGroup()}\n`}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u ${dir}/passwd
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
# No chroot anywhere: a non-root Dovecot may not chroot, and these tests need no jail.
service anvil {
  chroot =
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
service submission-login {
  inet_listener submission {
    port = 0
  }
}
`;
}

export async function startDovecot(options: { user?: string; password?: string } = {}): Promise<Dovecot> {
  const user = options.user ?? 'owner';
  const password = options.password ?? 'test-password';
  const dir = mkdtempSync(join(tmpdir(), 'countersign-dovecot-'));
  // Dovecot's unprivileged processes must be able to reach the folders below.
  chmodSync(dir, 0o755);
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? NOBODY : (process.getuid?.() ?? NOBODY);
  const gid = asRoot ? NOBODY : (process.getgid?.() ?? NOBODY);
  for (const sub of ['run', 'state', 'mail']) mkdirSync(join(dir, sub));
  if (asRoot) chownSync(join(dir, 'mail'), uid, gid);
  writeFileSync(join(dir, 'passwd'), `${user}:{PLAIN}${password}:${uid}:${gid}::${dir}/mail/${user}::\n`);

  let child: ChildProcess | undefined;
  let port = 0;
  let output = '';
  const readLog = () => {
    const file = join(dir, 'dovecot.log');
    return `${output}${existsSync(file) ? readFileSync(file, 'utf8') : ''}`;
  };
  // A free port may be taken between our probe and Dovecot's bind: try a few.
  for (let attempt = 0; attempt < 3 && !child; attempt++) {
    port = await freePort();
    const conf = join(dir, 'dovecot.conf');
    writeFileSync(conf, config(dir, port, asRoot));
    const started = spawn(DOVECOT_BINARY, ['-F', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let exited = false;
    started.once('exit', () => (exited = true));
    const deadline = Date.now() + 15_000;
    while (!exited && Date.now() < deadline && !(await canConnect(port))) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!exited && (await canConnect(port))) child = started;
    else started.kill('SIGKILL');
  }
  if (!child) {
    const log = readLog();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Dovecot did not start:\n${log}`);
  }
  const running = child;
  // Should the test process end without stop(), Dovecot must not outlive it.
  const killOnExit = () => running.kill('SIGKILL');
  process.once('exit', killOnExit);

  let admin: ImapFlow | undefined;
  const client = async () => {
    if (admin?.usable) return admin;
    admin = new ImapFlow({
      host: '127.0.0.1',
      port,
      secure: false,
      doSTARTTLS: false,
      auth: { user, pass: password },
      logger: false,
      disableAutoIdle: true,
    });
    admin.on('error', () => undefined);
    await admin.connect();
    return admin;
  };

  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    async appendMessage(raw, append = {}) {
      const imap = await client();
      const result = await imap.append(append.mailbox ?? 'INBOX', raw, [], append.internalDate);
      if (!result || result.uid === undefined) throw new Error('APPEND gave no UID (is UIDPLUS missing?)');
      return result.uid;
    },
    async createMailbox(name) {
      await (await client()).mailboxCreate(name);
    },
    async deleteMailbox(name) {
      await (await client()).mailboxDelete(name);
    },
    async status(mailbox) {
      const status = await (await client()).status(mailbox, { uidValidity: true, uidNext: true });
      if (!status || status.uidValidity === undefined || status.uidNext === undefined) {
        throw new Error(`no STATUS for ${mailbox}`);
      }
      return { uidValidity: status.uidValidity, uidNext: status.uidNext };
    },
    async kick() {
      execFileSync(DOVEADM_BINARY, ['-c', join(dir, 'dovecot.conf'), 'kick', user], { stdio: 'pipe' });
      // The kick ends our own admin session too. ImapFlow may not have read the BYE yet and still
      // call it usable (on a loaded machine it did, and the next APPEND failed): start afresh.
      admin?.close();
      admin = undefined;
    },
    log: readLog,
    async stop() {
      await admin?.logout().catch(() => admin?.close());
      process.removeListener('exit', killOnExit);
      if (running.exitCode === null) {
        const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
        running.kill('SIGTERM');
        const timer = setTimeout(() => running.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
