import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'countersign-mailboxes-'));
let seq = 0;
function file(content: unknown): string {
  seq += 1;
  const path = join(dir, `mailboxes-${seq}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.variable}: ${p.message}`);
    throw error;
  }
  throw new Error('the configuration was accepted');
}

const sales = {
  name: 'sales',
  email_address: 'sales@example.com',
  email_password: 'secret',
  imap_host: 'imap.example.com',
  smtp_server: 'smtp.example.com',
  smtp_port: 587,
  owner_phone: '(415) 555-0101',
  owner_name: 'Dana',
};
const support = { name: 'support', email_address: 'support@example.com', owner_phone: '+14155550102' };

describe('mailboxes', () => {
  it('makes one default mailbox from the seed variables, answered by YOUR_PHONE_NUMBER', () => {
    const config = loadConfig({
      EMAIL_ADDRESS: 'me@example.com',
      EMAIL_PASSWORD: 'pw',
      GMAIL_SMTP_SERVER: 'smtp.example.com',
      YOUR_PHONE_NUMBER: '415 555 0100',
      OWNER_NAME: 'Sam',
    });
    expect(config.mailboxes).toEqual([
      expect.objectContaining({
        name: 'default',
        source: 'imap',
        address: 'me@example.com',
        smtpServer: 'smtp.example.com',
        ownerPhone: '+14155550100',
        ownerName: 'Sam',
        sandboxOwner: false,
      }),
    ]);
  });

  it('gives the default mailbox the sandbox owner only when texts stay in the dev outbox', () => {
    expect(loadConfig({}).mailboxes[0]).toMatchObject({ ownerPhone: '+12025550100', sandboxOwner: true });
    const real = loadConfig({ SMS_PROVIDER: 'sms-gateway', SMS_GATEWAY_URL: 'http://127.0.0.1:9' });
    expect(real.mailboxes[0]).toMatchObject({ ownerPhone: undefined, sandboxOwner: false });
  });

  it('reads several mailboxes from EMAIL_MAILBOXES_FILE, which replaces the default one', () => {
    const config = loadConfig({
      EMAIL_MAILBOXES_FILE: file([sales, support]),
      YOUR_PHONE_NUMBER: '+14155550100',
    });
    expect(config.mailboxes.map((m) => m.name)).toEqual(['sales', 'support']);
    expect(config.mailboxes[0]).toMatchObject({
      source: 'imap',
      imapHost: 'imap.example.com',
      imapMailbox: 'INBOX',
      smtpPort: 587,
      ownerPhone: '+14155550101',
      ownerName: 'Dana',
    });
    expect(config.mailboxes[1]).toMatchObject({ source: 'ingest', smtpServer: undefined, smtpPort: 465 });
    expect(Object.isFrozen(config.mailboxes[0])).toBe(true);
  });

  it.each([
    ['not JSON', '{ nope', /is not valid JSON/],
    ['an empty list', [], /must list at least one mailbox/],
    ['a bad name', [{ ...support, name: 'Sales Team' }], /\[0\] name: must be 1–40/],
    ['a bad phone', [support, { ...sales, owner_phone: '12' }], /\[1\] owner_phone: must be a valid phone/],
    ['no owner phone', [{ name: 'x', email_address: 'x@example.com' }], /\[0\] owner_phone/],
    [
      'IMAP without a password',
      [{ ...support, imap_host: 'imap.example.com' }],
      /email_password: is required/,
    ],
    ['an unknown field', [{ ...support, owner_phone_number: '+14155550102' }], /\[0\]/],
    ['a repeated name', [support, { ...support }], /"support" is used twice/],
  ])('refuses %s, naming the entry', (_what, content, message) => {
    const found = problems({ EMAIL_MAILBOXES_FILE: file(content) });
    expect(found.join('\n')).toMatch(message);
    expect(found.every((p) => p.startsWith('EMAIL_MAILBOXES_FILE: '))).toBe(true);
  });

  it('names a missing file', () => {
    expect(problems({ EMAIL_MAILBOXES_FILE: join(dir, 'absent.json') }).join('\n')).toMatch(/cannot be read/);
  });
});
