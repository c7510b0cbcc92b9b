import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/config.js';
import { choosePeers, imapEndpoint, smtpEndpoint } from './select.js';

const choose = (env: Record<string, string>) => {
  const config = loadConfig(env);
  return choosePeers(config.peers, config.publicBaseUrl);
};

describe('choosePeers', () => {
  it('picks every embedded default when nothing is configured', () => {
    const choice = choose({});
    expect(choice).toMatchObject({
      ai: 'rules',
      sms: 'outbox',
      emailSource: 'ingest',
      emailSender: 'outbox',
      ledger: 'builtin',
      notify: ['dashboard'],
    });
  });

  it.each([
    [{ OPENAI_API_KEY: 'sk-x' }, 'openai'],
    [{ OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }, 'openai-compatible'],
    [{ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }, 'openai-compatible'],
    [{ ANTHROPIC_API_KEY: 'sk-ant' }, 'anthropic'],
    [{ ANTHROPIC_API_KEY: 'sk-ant', AI_PROVIDER: 'rules' }, 'rules'],
  ])('AI from %j → %s', (env, expected) => {
    expect(choose(env).ai).toBe(expected);
  });

  it.each([
    [
      {
        TWILIO_ACCOUNT_SID: 'AC1',
        TWILIO_AUTH_TOKEN: 't',
        TWILIO_PHONE_NUMBER: '+14155550100',
        PUBLIC_BASE_URL: 'https://cs.example.com',
      },
      'twilio',
    ],
    [{ SMS_AGENT_URL: 'http://127.0.0.1:8001' }, 'sms-agent'],
    [{ SMS_GATEWAY_URL: 'http://127.0.0.1:8002' }, 'sms-gateway'],
    [{ SMS_GATEWAY_URL: 'http://127.0.0.1:8002', SMS_PROVIDER: 'outbox' }, 'outbox'],
  ])('SMS from %j → %s', (env, expected) => {
    expect(choose(env).sms).toBe(expected);
  });

  it('reads the mailbox over IMAP once a password or host is set, with Gmail defaults', () => {
    const config = loadConfig({ EMAIL_ADDRESS: 'me@example.com', EMAIL_PASSWORD: 'pw' });
    expect(choosePeers(config.peers, undefined).emailSource).toBe('imap');
    expect(imapEndpoint(config.peers.email)).toEqual({ host: 'imap.gmail.com', port: 993, secure: true });
    const local = loadConfig({
      EMAIL_ADDRESS: 'me@x.test',
      EMAIL_PASSWORD: 'pw',
      IMAP_HOST: 'mail',
      IMAP_PORT: '143',
    });
    expect(imapEndpoint(local.peers.email)).toEqual({ host: 'mail', port: 143, secure: false });
  });

  it('uses implicit TLS on 465, STARTTLS elsewhere, unless SMTP_SECURE says otherwise', () => {
    const on465 = loadConfig({ GMAIL_SMTP_SERVER: 'smtp.gmail.com', EMAIL_ADDRESS: 'me@example.com' });
    expect(smtpEndpoint(on465.peers.email)).toEqual({ host: 'smtp.gmail.com', port: 465, secure: true });
    const on587 = loadConfig({
      GMAIL_SMTP_SERVER: 'smtp.gmail.com',
      GMAIL_SMTP_PORT: '587',
      EMAIL_ADDRESS: 'me@example.com',
    });
    expect(smtpEndpoint(on587.peers.email)?.secure).toBe(false);
    const forced = loadConfig({
      GMAIL_SMTP_SERVER: 'smtp',
      GMAIL_SMTP_PORT: '2465',
      SMTP_SECURE: 'true',
      EMAIL_ADDRESS: 'me@x.test',
    });
    expect(smtpEndpoint(forced.peers.email)?.secure).toBe(true);
    expect(choosePeers(on465.peers, undefined).emailSender).toBe('smtp');
  });

  it('adds notice channels whose URLs are set, keeping the dashboard inbox first', () => {
    const choice = choose({
      NOTIFICATION_SERVICE_URL: 'http://127.0.0.1:8003',
      NOTIFY_WEBHOOK_URL: 'http://127.0.0.1:9000/hook',
    });
    expect(choice.notify).toEqual(['dashboard', 'notification-service', 'webhook']);
    expect(choose({ NOTIFY_CHANNELS: 'webhook', NOTIFY_WEBHOOK_URL: 'http://h/x' }).notify).toEqual([
      'dashboard',
      'webhook',
    ]);
    expect(choose({ COLLECTIONS_MONITOR_URL: 'http://127.0.0.1:8004' }).ledger).toBe('collections-monitor');
  });

  it('names every missing setting of an explicit choice instead of falling back', () => {
    let error: unknown;
    try {
      loadConfig({ AI_PROVIDER: 'anthropic', SMS_PROVIDER: 'twilio', NOTIFY_CHANNELS: 'email', PORT: 'x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).problems.map((p) => p.variable);
    expect(variables).toContain('PORT');
    // PORT is malformed, so the peer rules cannot run yet: fix it and the rest are named together.
    try {
      loadConfig({ AI_PROVIDER: 'anthropic', SMS_PROVIDER: 'twilio', NOTIFY_CHANNELS: 'email' });
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual(
      [
        'ANTHROPIC_API_KEY',
        'GMAIL_SMTP_SERVER',
        'NOTIFY_EMAIL_TO',
        'PUBLIC_BASE_URL',
        'TWILIO_ACCOUNT_SID',
        'TWILIO_AUTH_TOKEN',
        'TWILIO_PHONE_NUMBER',
      ].sort(),
    );
  });

  it('refuses an unknown notice channel and a non-http URL', () => {
    expect(() => loadConfig({ NOTIFY_CHANNELS: 'dashboard,pager' })).toThrow(/NOTIFY_CHANNELS/);
    expect(() => loadConfig({ SMS_AGENT_URL: 'ftp://x' })).toThrow(/SMS_AGENT_URL/);
  });
});
