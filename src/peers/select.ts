import type { PeerConfig } from '../config/config.js';

/**
 * One rule for every port: an explicit choice (AI_PROVIDER, SMS_PROVIDER, EMAIL_SOURCE,
 * NOTIFY_CHANNELS) wins; otherwise the adapter whose URL or credentials are configured; otherwise
 * the embedded default. An explicit choice whose settings are missing is a configuration error
 * named at start, never a silent fallback to the default.
 *
 * Pure: the composition root logs the result and /health/dependencies shows it.
 */

export type AiChoice = 'rules' | 'openai' | 'anthropic' | 'openai-compatible';
export type SmsChoice = 'twilio' | 'sms-agent' | 'sms-gateway' | 'outbox';
export type EmailSourceChoice = 'imap' | 'ingest';
export type EmailSenderChoice = 'smtp' | 'outbox';
export type LedgerChoice = 'builtin' | 'collections-monitor';
export type NotifyChoice = 'dashboard' | 'notification-service' | 'email' | 'webhook';

export type PeerChoice = {
  ai: AiChoice;
  sms: SmsChoice;
  emailSource: EmailSourceChoice;
  emailSender: EmailSenderChoice;
  ledger: LedgerChoice;
  /** Always starts with dashboard: the inbox keeps every notice whatever else carries it. */
  notify: NotifyChoice[];
  /** Why each was chosen, for the start-up log. */
  reasons: Record<'ai' | 'sms' | 'emailSource' | 'emailSender' | 'ledger' | 'notify', string>;
};

export class PeerChoiceError extends Error {
  constructor(readonly problems: readonly { variable: string; message: string }[]) {
    super(
      `Invalid peer configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`,
    );
    this.name = 'PeerChoiceError';
  }
}

type Problem = { variable: string; message: string };

export function choosePeers(peers: PeerConfig, publicBaseUrl: string | undefined): PeerChoice {
  const problems: Problem[] = [];
  const need = (ok: unknown, variable: string, message: string) => {
    if (!ok) problems.push({ variable, message });
  };

  const ai = chooseAi(peers.ai);
  if (ai.value === 'openai')
    need(peers.ai.openaiApiKey, 'OPENAI_API_KEY', 'is required when AI_PROVIDER=openai');
  if (ai.value === 'anthropic') {
    need(peers.ai.anthropicApiKey, 'ANTHROPIC_API_KEY', 'is required when AI_PROVIDER=anthropic');
  }
  if (ai.value === 'openai-compatible') {
    need(peers.ai.openaiBaseUrl, 'OPENAI_BASE_URL', 'is required when AI_PROVIDER=openai-compatible');
  }

  const sms = chooseSms(peers.sms);
  if (sms.value === 'twilio') {
    need(peers.sms.twilioAccountSid, 'TWILIO_ACCOUNT_SID', 'is required for Twilio');
    need(peers.sms.twilioAuthToken, 'TWILIO_AUTH_TOKEN', 'is required for Twilio');
    need(
      peers.sms.twilioPhoneNumber ?? peers.sms.twilioMessagingServiceSid,
      'TWILIO_PHONE_NUMBER',
      'is required for Twilio (or TWILIO_MESSAGING_SERVICE_SID)',
    );
    need(publicBaseUrl, 'PUBLIC_BASE_URL', 'is required for Twilio: webhook signatures are computed over it');
  }
  if (sms.value === 'sms-agent')
    need(peers.sms.agentUrl, 'SMS_AGENT_URL', 'is required when SMS_PROVIDER=sms-agent');
  if (sms.value === 'sms-gateway') {
    need(peers.sms.gatewayUrl, 'SMS_GATEWAY_URL', 'is required when SMS_PROVIDER=sms-gateway');
  }

  const emailSource = chooseEmailSource(peers.email);
  if (emailSource.value === 'imap') {
    need(peers.email.address, 'EMAIL_ADDRESS', 'is required to read an IMAP mailbox');
    need(peers.email.password, 'EMAIL_PASSWORD', 'is required to read an IMAP mailbox');
  }
  const emailSender: { value: EmailSenderChoice; reason: string } = peers.email.smtpServer
    ? { value: 'smtp', reason: 'GMAIL_SMTP_SERVER is set' }
    : { value: 'outbox', reason: 'no SMTP server configured: replies are kept in the outbox' };

  if (emailSender.value === 'smtp') {
    need(peers.email.address, 'EMAIL_ADDRESS', 'is required to send replies by SMTP (it is their From)');
  }

  const ledger: { value: LedgerChoice; reason: string } = peers.ledger.collectionsMonitorUrl
    ? { value: 'collections-monitor', reason: 'COLLECTIONS_MONITOR_URL is set' }
    : { value: 'builtin', reason: 'default: built-in ledger tables' };

  const notify = chooseNotify(peers.notify, emailSender.value);
  for (const channel of notify.value) {
    if (channel === 'notification-service') {
      need(
        peers.notify.notificationServiceUrl,
        'NOTIFICATION_SERVICE_URL',
        'is required for notification-service',
      );
    }
    if (channel === 'webhook') need(peers.notify.webhookUrl, 'NOTIFY_WEBHOOK_URL', 'is required for webhook');
    if (channel === 'email') {
      need(peers.notify.emailTo, 'NOTIFY_EMAIL_TO', 'is required for email notices');
      need(emailSender.value === 'smtp', 'GMAIL_SMTP_SERVER', 'is required for email notices');
    }
  }

  if (problems.length > 0) throw new PeerChoiceError(problems);
  return {
    ai: ai.value,
    sms: sms.value,
    emailSource: emailSource.value,
    emailSender: emailSender.value,
    ledger: ledger.value,
    notify: notify.value,
    reasons: {
      ai: ai.reason,
      sms: sms.reason,
      emailSource: emailSource.reason,
      emailSender: emailSender.reason,
      ledger: ledger.reason,
      notify: notify.reason,
    },
  };
}

function chooseAi(ai: PeerConfig['ai']): { value: AiChoice; reason: string } {
  if (ai.provider) return { value: ai.provider, reason: 'AI_PROVIDER' };
  if (ai.openaiApiKey) {
    return ai.openaiBaseUrl
      ? { value: 'openai-compatible', reason: 'OPENAI_API_KEY and OPENAI_BASE_URL are set' }
      : { value: 'openai', reason: 'OPENAI_API_KEY is set' };
  }
  if (ai.anthropicApiKey) return { value: 'anthropic', reason: 'ANTHROPIC_API_KEY is set' };
  if (ai.openaiBaseUrl) return { value: 'openai-compatible', reason: 'OPENAI_BASE_URL is set' };
  return { value: 'rules', reason: 'default: built-in rules engine' };
}

function chooseSms(sms: PeerConfig['sms']): { value: SmsChoice; reason: string } {
  if (sms.provider) return { value: sms.provider, reason: 'SMS_PROVIDER' };
  if (sms.twilioAccountSid) return { value: 'twilio', reason: 'TWILIO_ACCOUNT_SID is set' };
  if (sms.agentUrl) return { value: 'sms-agent', reason: 'SMS_AGENT_URL is set' };
  if (sms.gatewayUrl) return { value: 'sms-gateway', reason: 'SMS_GATEWAY_URL is set' };
  return { value: 'outbox', reason: 'default: dev outbox (texts are stored, not sent)' };
}

function chooseEmailSource(email: PeerConfig['email']): { value: EmailSourceChoice; reason: string } {
  if (email.source) return { value: email.source, reason: 'EMAIL_SOURCE' };
  if (email.imapHost) return { value: 'imap', reason: 'IMAP_HOST is set' };
  if (email.password) return { value: 'imap', reason: 'EMAIL_PASSWORD is set (Gmail IMAP)' };
  return { value: 'ingest', reason: 'default: POST /emails' };
}

function chooseNotify(
  notify: PeerConfig['notify'],
  emailSender: EmailSenderChoice,
): { value: NotifyChoice[]; reason: string } {
  const chosen = new Set<NotifyChoice>(['dashboard']);
  if (notify.channels) {
    for (const c of notify.channels) chosen.add(c as NotifyChoice);
    return { value: [...chosen], reason: 'NOTIFY_CHANNELS' };
  }
  const why: string[] = [];
  if (notify.notificationServiceUrl) {
    chosen.add('notification-service');
    why.push('NOTIFICATION_SERVICE_URL');
  }
  if (notify.webhookUrl) {
    chosen.add('webhook');
    why.push('NOTIFY_WEBHOOK_URL');
  }
  if (notify.emailTo && emailSender === 'smtp') {
    chosen.add('email');
    why.push('NOTIFY_EMAIL_TO');
  }
  return {
    value: [...chosen],
    reason: why.length > 0 ? `${why.join(', ')} set` : 'default: dashboard inbox only',
  };
}

/** Gmail defaults from the seed: imap.gmail.com:993 TLS unless IMAP_HOST/IMAP_PORT say otherwise. */
export function imapEndpoint(email: Pick<PeerConfig['email'], 'imapHost' | 'imapPort' | 'imapSecure'>): {
  host: string;
  port: number;
  secure: boolean;
} {
  const host = email.imapHost ?? 'imap.gmail.com';
  const port = email.imapPort ?? 993;
  return { host, port, secure: email.imapSecure ?? port === 993 };
}

/** SMTP: implicit TLS on 465, STARTTLS when offered elsewhere; SMTP_SECURE overrides. */
export function smtpEndpoint(
  email: Pick<PeerConfig['email'], 'smtpServer' | 'smtpPort' | 'smtpSecure'>,
): { host: string; port: number; secure: boolean } | undefined {
  if (!email.smtpServer) return undefined;
  return { host: email.smtpServer, port: email.smtpPort, secure: email.smtpSecure ?? email.smtpPort === 465 };
}
