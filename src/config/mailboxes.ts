import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_MAILBOX } from '../peers/email/email-port.js';
import { tryNormalizePhone } from '../peers/sms/phone.js';

/**
 * The mailboxes the email auto-reply answers (docs/email-reply.md, "Several mailboxes"). Without
 * EMAIL_MAILBOXES_FILE, the seed's variables make one mailbox named `default`; with it, the file's
 * list replaces that one. Each mailbox has its own IMAP reader, SMTP sender and owner phone.
 */

export type MailboxConfig = Readonly<{
  name: string;
  /** Where new mail comes from: an IMAP folder, or only POST /emails?mailbox=<name>. */
  source: 'imap' | 'ingest';
  address: string | undefined;
  password: string | undefined;
  imapHost: string | undefined;
  imapPort: number | undefined;
  imapSecure: boolean | undefined;
  imapMailbox: string;
  smtpServer: string | undefined;
  smtpPort: number;
  smtpSecure: boolean | undefined;
  /** E.164. Without one the mailbox's mail is stored but not answered. */
  ownerPhone: string | undefined;
  ownerName: string | undefined;
  /** True when ownerPhone is the sandbox's made-up number (nothing configured, texts stay in the dev outbox). */
  sandboxOwner: boolean;
}>;

/** The owner phone the dashboard's sandbox plays when nothing is configured (a 555-01xx number). */
export const SANDBOX_OWNER_PHONE = '+12025550100';

const NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

const entrySchema = (region: string) =>
  z
    .object({
      name: z.string().regex(NAME, 'must be 1–40 of a-z, 0-9, "-" and "_", starting with a letter or digit'),
      email_address: z.email('must be an email address'),
      email_password: z.string().min(1).optional(),
      source: z.enum(['imap', 'ingest']).optional(),
      imap_host: z.string().trim().min(1).optional(),
      imap_port: z.number().int().min(1).max(65535).optional(),
      imap_secure: z.boolean().optional(),
      imap_mailbox: z.string().trim().min(1).default('INBOX'),
      smtp_server: z.string().trim().min(1).optional(),
      smtp_port: z.number().int().min(1).max(65535).default(465),
      smtp_secure: z.boolean().optional(),
      owner_phone: z
        .string()
        .refine((v) => tryNormalizePhone(v, region) !== undefined, 'must be a valid phone number'),
      owner_name: z.string().trim().min(1).optional(),
    })
    .strict()
    .superRefine((m, ctx) => {
      const reads = m.source ?? (m.imap_host || m.email_password ? 'imap' : 'ingest');
      if (reads === 'imap' && !m.email_password) {
        ctx.addIssue({ code: 'custom', path: ['email_password'], message: 'is required to read IMAP' });
      }
    });

export type DefaultMailboxInput = Omit<MailboxConfig, 'name' | 'sandboxOwner'>;

/**
 * The configured mailboxes, or the problems with EMAIL_MAILBOXES_FILE (named like any variable).
 * `sandbox`: the SMS provider is the dev outbox, so a default mailbox with no owner phone gets the
 * sandbox's number and the whole flow can be tried with nothing configured.
 */
export function loadMailboxes(input: {
  file: string | undefined;
  defaults: DefaultMailboxInput;
  region: string;
  sandbox: boolean;
}): { mailboxes: MailboxConfig[]; problems: { variable: string; message: string }[] } {
  if (!input.file) {
    const sandboxOwner = input.defaults.ownerPhone === undefined && input.sandbox;
    return {
      mailboxes: [
        {
          ...input.defaults,
          name: DEFAULT_MAILBOX,
          ownerPhone: sandboxOwner ? SANDBOX_OWNER_PHONE : input.defaults.ownerPhone,
          sandboxOwner,
        },
      ],
      problems: [],
    };
  }
  const problem = (message: string) => ({
    mailboxes: [],
    problems: [{ variable: 'EMAIL_MAILBOXES_FILE', message }],
  });
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(input.file, 'utf8'));
  } catch (error) {
    const reason = error instanceof SyntaxError ? 'is not valid JSON' : 'cannot be read';
    return problem(`${input.file} ${reason}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = z.array(entrySchema(input.region)).min(1, 'must list at least one mailbox').safeParse(json);
  if (!parsed.success) {
    return {
      mailboxes: [],
      problems: parsed.error.issues.map((issue) => ({
        variable: 'EMAIL_MAILBOXES_FILE',
        message: `${where(issue.path)}${issue.message}`,
      })),
    };
  }
  const names = parsed.data.map((m) => m.name);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated) return problem(`the mailbox name "${repeated}" is used twice`);
  return {
    mailboxes: parsed.data.map((m) => ({
      name: m.name,
      source: m.source ?? (m.imap_host || m.email_password ? 'imap' : 'ingest'),
      address: m.email_address,
      password: m.email_password,
      imapHost: m.imap_host,
      imapPort: m.imap_port,
      imapSecure: m.imap_secure,
      imapMailbox: m.imap_mailbox,
      smtpServer: m.smtp_server,
      smtpPort: m.smtp_port,
      smtpSecure: m.smtp_secure,
      ownerPhone: tryNormalizePhone(m.owner_phone, input.region),
      ownerName: m.owner_name,
      sandboxOwner: false,
    })),
    problems: [],
  };
}

/** `[1] owner_phone: ` for the second entry's owner_phone; nothing for the list itself. */
function where(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '';
  const [index, ...field] = path;
  return `[${String(index)}]${field.length > 0 ? ` ${field.map(String).join('.')}` : ''}: `;
}
