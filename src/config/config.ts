import { z } from 'zod';
import { choosePeers, PeerChoiceError } from '../peers/select.js';
import { tryNormalizePhone } from '../peers/sms/phone.js';
import { loadMailboxes, type MailboxConfig } from './mailboxes.js';

/**
 * Configuration is read from the environment once, validated as a whole, and frozen.
 * A malformed value never falls back to a default: the start stops and names every bad variable.
 */

const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const decimal = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/, 'must be a number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));

const optionalText = z
  .string()
  .transform((v) => v.trim())
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const url = optionalText.refine(
  (v) => v === undefined || (/^https?:\/\//.test(v) && URL.canParse(v)),
  'must be an http:// or https:// URL',
);

const boolean = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const processRole = z.enum(['all', 'api', 'worker']);

const databaseUrl = optionalText.refine(
  (v) => v === undefined || /^postgres(ql)?:\/\//.test(v),
  'must be a postgres:// or postgresql:// URL',
);

const envSchema = z.object({
  PORT: integer(0, 65535).default(8000),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  PUBLIC_BASE_URL: optionalText.refine(
    (v) => v === undefined || URL.canParse(v),
    'must be an absolute URL such as https://countersign.example.com',
  ),
  SERVICE_NAME: z.string().trim().min(1).default('countersign'),
  COUNTERSIGN_ROLE: processRole.default('all'),
  LOG_LEVEL: logLevel.default('info'),

  DATABASE_URL: databaseUrl,
  DATABASE_POOL_SIZE: integer(1, 200).default(10),
  DATA_DIR: z.string().trim().min(1).default('./data'),

  API_ADMIN_TOKEN: optionalText.refine(
    (v) => v === undefined || v.length >= 24,
    'must be at least 24 characters long',
  ),

  BODY_LIMIT_BYTES: integer(1024, 64 * 1024 * 1024).default(256 * 1024),
  IDEMPOTENCY_TTL_HOURS: integer(1, 24 * 30).default(24),

  MAX_RETRY_ATTEMPTS: integer(0, 50).default(3),
  RETRY_BASE_DELAY_MS: integer(1, 3_600_000).default(1000),
  RETRY_MAX_DELAY_MS: integer(1, 86_400_000).default(300_000),
  JOB_POLL_INTERVAL_MS: integer(5, 60_000).default(250),
  JOB_LEASE_MS: integer(1000, 3_600_000).default(60_000),
  JOB_CONCURRENCY: integer(1, 1000).default(16),
  SHUTDOWN_GRACE_MS: integer(0, 600_000).default(10_000),

  MEMORY_WARN_RATIO: decimal(0.1, 1).default(0.9),

  // Peers (see docs/peers.md). Unset provider choices are inferred from what is configured.
  CIRCUIT_BREAKER_THRESHOLD: integer(1, 1000).default(5),
  CIRCUIT_BREAKER_RESET_SECONDS: integer(1, 3600).default(60),

  AI_PROVIDER: z.enum(['rules', 'openai', 'anthropic', 'openai-compatible']).optional(),
  OPENAI_API_KEY: optionalText,
  OPENAI_MODEL: z.string().trim().min(1).default('gpt-5-mini'),
  OPENAI_BASE_URL: url,
  ANTHROPIC_API_KEY: optionalText,
  ANTHROPIC_MODEL: z.string().trim().min(1).default('claude-sonnet-4-5'),
  ANTHROPIC_BASE_URL: url,
  AI_TIMEOUT_MS: integer(100, 600_000).default(30_000),
  AI_MAX_CONCURRENCY: integer(1, 1024).default(128),

  SMS_PROVIDER: z.enum(['twilio', 'sms-agent', 'sms-gateway', 'outbox']).optional(),
  TWILIO_ACCOUNT_SID: optionalText,
  TWILIO_AUTH_TOKEN: optionalText,
  TWILIO_PHONE_NUMBER: optionalText,
  TWILIO_MESSAGING_SERVICE_SID: optionalText,
  TWILIO_BASE_URL: url.default('https://api.twilio.com'),
  SMS_AGENT_URL: url,
  SMS_GATEWAY_URL: url,
  SMS_FROM_NUMBER: optionalText,
  SMS_TIMEOUT_MS: integer(100, 120_000).default(10_000),
  SMS_MAX_CONCURRENCY: integer(1, 256).default(8),
  SMS_MAX_SEGMENTS: integer(1, 10).default(3),
  DEFAULT_PHONE_REGION: z
    .string()
    .trim()
    .regex(/^[A-Z]{2}$/, 'must be a two-letter country code such as US')
    .default('US'),

  EMAIL_SOURCE: z.enum(['imap', 'ingest']).optional(),
  EMAIL_ADDRESS: optionalText,
  EMAIL_PASSWORD: optionalText,
  IMAP_HOST: optionalText,
  IMAP_PORT: integer(1, 65535).optional(),
  IMAP_SECURE: boolean.optional(),
  IMAP_MAILBOX: z.string().trim().min(1).default('INBOX'),
  POLL_INTERVAL: integer(1, 86_400).default(120),
  GMAIL_SMTP_SERVER: optionalText,
  GMAIL_SMTP_PORT: integer(1, 65535).default(465),
  SMTP_SECURE: boolean.optional(),
  SMTP_TIMEOUT_MS: integer(100, 300_000).default(30_000),
  EMAIL_TLS_REJECT_UNAUTHORIZED: boolean.default(true),
  EMAIL_MAILBOXES_FILE: optionalText,

  COLLECTIONS_MONITOR_URL: url,
  LEDGER_TIMEOUT_MS: integer(100, 120_000).default(5_000),

  NOTIFY_CHANNELS: optionalText.refine(
    (v) =>
      v === undefined ||
      v.split(',').every((c) => ['dashboard', 'notification-service', 'email', 'webhook'].includes(c.trim())),
    'must be a comma-separated list of dashboard, notification-service, email, webhook',
  ),
  NOTIFICATION_SERVICE_URL: url,
  NOTIFY_WEBHOOK_URL: url,
  NOTIFY_WEBHOOK_SECRET: optionalText,
  NOTIFY_EMAIL_TO: optionalText,
  NOTIFY_TIMEOUT_MS: integer(100, 120_000).default(5_000),

  // Email auto-reply (docs/email-reply.md); seed names.
  YOUR_PHONE_NUMBER: optionalText.refine(
    (v) => v === undefined || tryNormalizePhone(v) !== undefined,
    'must be a valid phone number, e.g. +14155550100',
  ),
  OWNER_NAME: optionalText,
  USER_RESPONSE_TIMEOUT: integer(60, 30 * 86_400).default(86_400),
  MAX_EDIT_ITERATIONS: integer(1, 100).default(10),
  EMAIL_ALLOW_LIST: optionalText,
  EMAIL_DENY_LIST: optionalText,

  // Collections (docs/collections.md); the seed's business-rule names first.
  AUTO_APPROVAL_CONFIDENCE: decimal(0, 1).default(0.85),
  MANUAL_APPROVAL_MIN_CONFIDENCE: decimal(0, 1).default(0.6),
  MAX_PAYMENT_WEEKS: integer(1, 520).default(12),
  MIN_WEEKLY_PAYMENT: decimal(0, 1_000_000).default(25),
  PLAN_MAX_START_DAYS: integer(0, 365).default(30),
  PLAN_GRACE_DAYS: integer(0, 60).default(3),
  ESCALATION_TIMEOUT_HOURS: decimal(0.01, 24 * 365).default(36),
  OPT_OUT_LINE: z.string().trim().min(1).max(80).default('Reply STOP to opt out'),
  SEND_WINDOW_START_HOUR: integer(0, 23).default(8),
  SEND_WINDOW_END_HOUR: integer(1, 24).default(21),
  TURN_COALESCE_MS: integer(0, 600_000).default(3_000),
  PROVIDER_ANSWERS_KEYWORDS: boolean.optional(),

  // Dashboard sign-in (docs/dashboard.md).
  DASHBOARD_SESSION_IDLE_MINUTES: integer(1, 7 * 24 * 60).default(120),
  DASHBOARD_SESSION_HOURS: integer(1, 24 * 90).default(12),
});

export type Config = Readonly<{
  port: number;
  host: string;
  publicBaseUrl: string | undefined;
  serviceName: string;
  version: string;
  role: z.infer<typeof processRole>;
  logLevel: z.infer<typeof logLevel>;
  database: Readonly<{ url: string | undefined; poolSize: number; dataDir: string }>;
  auth: Readonly<{ adminToken: string | undefined }>;
  http: Readonly<{ bodyLimitBytes: number; idempotencyTtlHours: number }>;
  jobs: Readonly<{
    maxRetryAttempts: number;
    retryBaseDelayMs: number;
    retryMaxDelayMs: number;
    pollIntervalMs: number;
    leaseMs: number;
    concurrency: number;
    shutdownGraceMs: number;
  }>;
  health: Readonly<{ memoryWarnRatio: number }>;
  peers: PeerConfig;
  emailReply: Readonly<{
    /** E.164; the email workflow runs only when it is set. */
    ownerPhone: string | undefined;
    ownerName: string | undefined;
    userResponseTimeoutMs: number;
    maxEditIterations: number;
    allow: readonly string[];
    deny: readonly string[];
  }>;
  /** The mailboxes the email auto-reply answers: the env's one (`default`) or EMAIL_MAILBOXES_FILE's. */
  mailboxes: readonly MailboxConfig[];
  collections: Readonly<{
    autoApprovalConfidence: number;
    manualApprovalMinConfidence: number;
    maxPaymentWeeks: number;
    minWeeklyPayment: number;
    planMaxStartDays: number;
    planGraceDays: number;
    escalationTimeoutMs: number;
    optOutLine: string;
    sendWindow: Readonly<{ startHour: number; endHour: number }>;
    turnCoalesceMs: number;
    /** Whether the SMS provider answers STOP/START/HELP itself; undefined: Twilio does, the others do not. */
    providerAnswersKeywords: boolean | undefined;
  }>;
  dashboard: Readonly<{ sessionIdleMs: number; sessionMaxMs: number }>;
}>;

/** Peer settings as read from the environment; adapter choice happens in peers/select.ts. */
export type PeerConfig = Readonly<{
  breaker: Readonly<{ threshold: number; resetMs: number }>;
  ai: Readonly<{
    provider: 'rules' | 'openai' | 'anthropic' | 'openai-compatible' | undefined;
    openaiApiKey: string | undefined;
    openaiModel: string;
    openaiBaseUrl: string | undefined;
    anthropicApiKey: string | undefined;
    anthropicModel: string;
    anthropicBaseUrl: string | undefined;
    timeoutMs: number;
    maxConcurrency: number;
  }>;
  sms: Readonly<{
    provider: 'twilio' | 'sms-agent' | 'sms-gateway' | 'outbox' | undefined;
    twilioAccountSid: string | undefined;
    twilioAuthToken: string | undefined;
    twilioPhoneNumber: string | undefined;
    twilioMessagingServiceSid: string | undefined;
    twilioBaseUrl: string;
    agentUrl: string | undefined;
    gatewayUrl: string | undefined;
    fromNumber: string | undefined;
    timeoutMs: number;
    maxConcurrency: number;
    maxSegments: number;
    defaultRegion: string;
  }>;
  email: Readonly<{
    source: 'imap' | 'ingest' | undefined;
    address: string | undefined;
    password: string | undefined;
    imapHost: string | undefined;
    imapPort: number | undefined;
    imapSecure: boolean | undefined;
    imapMailbox: string;
    pollIntervalSeconds: number;
    smtpServer: string | undefined;
    smtpPort: number;
    smtpSecure: boolean | undefined;
    smtpTimeoutMs: number;
    tlsRejectUnauthorized: boolean;
  }>;
  ledger: Readonly<{ collectionsMonitorUrl: string | undefined; timeoutMs: number }>;
  notify: Readonly<{
    channels: readonly string[] | undefined;
    notificationServiceUrl: string | undefined;
    webhookUrl: string | undefined;
    webhookSecret: string | undefined;
    emailTo: string | undefined;
    timeoutMs: number;
  }>;
}>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly { variable: string; message: string }[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Empty strings count as unset, as in most .env tooling. */
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v.trim() !== '') out[k] = v;
  return out;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, version = '0.0.0'): Config {
  const raw = withoutEmpty(env);
  const parsed = envSchema.safeParse(raw);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(environment)'),
        message: issue.message,
      }));
  // Checked on its own so that it is named together with any other bad variable.
  const retryBase = envSchema.shape.RETRY_BASE_DELAY_MS.safeParse(raw.RETRY_BASE_DELAY_MS);
  const retryMax = envSchema.shape.RETRY_MAX_DELAY_MS.safeParse(raw.RETRY_MAX_DELAY_MS);
  if (retryBase.success && retryMax.success && retryBase.data > retryMax.data) {
    problems.push({ variable: 'RETRY_BASE_DELAY_MS', message: 'must not exceed RETRY_MAX_DELAY_MS' });
  }
  const ordered = (
    low: keyof typeof envSchema.shape,
    high: keyof typeof envSchema.shape,
    strict: boolean,
  ) => {
    const a = envSchema.shape[low].safeParse(raw[low]);
    const b = envSchema.shape[high].safeParse(raw[high]);
    if (!a.success || !b.success) return;
    const [x, y] = [a.data as number, b.data as number];
    if (strict ? x >= y : x > y) {
      problems.push({ variable: low, message: `must be ${strict ? 'less than' : 'at most'} ${high}` });
    }
  };
  ordered('MANUAL_APPROVAL_MIN_CONFIDENCE', 'AUTO_APPROVAL_CONFIDENCE', false);
  ordered('SEND_WINDOW_START_HOUR', 'SEND_WINDOW_END_HOUR', true);
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const config: Omit<Config, 'mailboxes'> = {
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    serviceName: e.SERVICE_NAME,
    version,
    role: e.COUNTERSIGN_ROLE,
    logLevel: e.LOG_LEVEL,
    database: Object.freeze({ url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE, dataDir: e.DATA_DIR }),
    auth: Object.freeze({ adminToken: e.API_ADMIN_TOKEN }),
    http: Object.freeze({ bodyLimitBytes: e.BODY_LIMIT_BYTES, idempotencyTtlHours: e.IDEMPOTENCY_TTL_HOURS }),
    jobs: Object.freeze({
      maxRetryAttempts: e.MAX_RETRY_ATTEMPTS,
      retryBaseDelayMs: e.RETRY_BASE_DELAY_MS,
      retryMaxDelayMs: e.RETRY_MAX_DELAY_MS,
      pollIntervalMs: e.JOB_POLL_INTERVAL_MS,
      leaseMs: e.JOB_LEASE_MS,
      concurrency: e.JOB_CONCURRENCY,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    }),
    health: Object.freeze({ memoryWarnRatio: e.MEMORY_WARN_RATIO }),
    emailReply: deepFreeze({
      ownerPhone: e.YOUR_PHONE_NUMBER && tryNormalizePhone(e.YOUR_PHONE_NUMBER, e.DEFAULT_PHONE_REGION),
      ownerName: e.OWNER_NAME,
      userResponseTimeoutMs: e.USER_RESPONSE_TIMEOUT * 1000,
      maxEditIterations: e.MAX_EDIT_ITERATIONS,
      allow: list(e.EMAIL_ALLOW_LIST),
      deny: list(e.EMAIL_DENY_LIST),
    }),
    collections: deepFreeze({
      autoApprovalConfidence: e.AUTO_APPROVAL_CONFIDENCE,
      manualApprovalMinConfidence: e.MANUAL_APPROVAL_MIN_CONFIDENCE,
      maxPaymentWeeks: e.MAX_PAYMENT_WEEKS,
      minWeeklyPayment: e.MIN_WEEKLY_PAYMENT,
      planMaxStartDays: e.PLAN_MAX_START_DAYS,
      planGraceDays: e.PLAN_GRACE_DAYS,
      escalationTimeoutMs: Math.round(e.ESCALATION_TIMEOUT_HOURS * 3_600_000),
      optOutLine: e.OPT_OUT_LINE,
      sendWindow: { startHour: e.SEND_WINDOW_START_HOUR, endHour: e.SEND_WINDOW_END_HOUR },
      turnCoalesceMs: e.TURN_COALESCE_MS,
      providerAnswersKeywords: e.PROVIDER_ANSWERS_KEYWORDS,
    }),
    dashboard: Object.freeze({
      sessionIdleMs: e.DASHBOARD_SESSION_IDLE_MINUTES * 60_000,
      sessionMaxMs: e.DASHBOARD_SESSION_HOURS * 3_600_000,
    }),
    peers: deepFreeze({
      breaker: { threshold: e.CIRCUIT_BREAKER_THRESHOLD, resetMs: e.CIRCUIT_BREAKER_RESET_SECONDS * 1000 },
      ai: {
        provider: e.AI_PROVIDER,
        openaiApiKey: e.OPENAI_API_KEY,
        openaiModel: e.OPENAI_MODEL,
        openaiBaseUrl: e.OPENAI_BASE_URL,
        anthropicApiKey: e.ANTHROPIC_API_KEY,
        anthropicModel: e.ANTHROPIC_MODEL,
        anthropicBaseUrl: e.ANTHROPIC_BASE_URL,
        timeoutMs: e.AI_TIMEOUT_MS,
        maxConcurrency: e.AI_MAX_CONCURRENCY,
      },
      sms: {
        provider: e.SMS_PROVIDER,
        twilioAccountSid: e.TWILIO_ACCOUNT_SID,
        twilioAuthToken: e.TWILIO_AUTH_TOKEN,
        twilioPhoneNumber: e.TWILIO_PHONE_NUMBER,
        twilioMessagingServiceSid: e.TWILIO_MESSAGING_SERVICE_SID,
        twilioBaseUrl: e.TWILIO_BASE_URL,
        agentUrl: e.SMS_AGENT_URL,
        gatewayUrl: e.SMS_GATEWAY_URL,
        fromNumber: e.SMS_FROM_NUMBER,
        timeoutMs: e.SMS_TIMEOUT_MS,
        maxConcurrency: e.SMS_MAX_CONCURRENCY,
        maxSegments: e.SMS_MAX_SEGMENTS,
        defaultRegion: e.DEFAULT_PHONE_REGION,
      },
      email: {
        source: e.EMAIL_SOURCE,
        address: e.EMAIL_ADDRESS,
        password: e.EMAIL_PASSWORD,
        imapHost: e.IMAP_HOST,
        imapPort: e.IMAP_PORT,
        imapSecure: e.IMAP_SECURE,
        imapMailbox: e.IMAP_MAILBOX,
        pollIntervalSeconds: e.POLL_INTERVAL,
        smtpServer: e.GMAIL_SMTP_SERVER,
        smtpPort: e.GMAIL_SMTP_PORT,
        smtpSecure: e.SMTP_SECURE,
        smtpTimeoutMs: e.SMTP_TIMEOUT_MS,
        tlsRejectUnauthorized: e.EMAIL_TLS_REJECT_UNAUTHORIZED,
      },
      ledger: { collectionsMonitorUrl: e.COLLECTIONS_MONITOR_URL, timeoutMs: e.LEDGER_TIMEOUT_MS },
      notify: {
        channels: e.NOTIFY_CHANNELS?.split(',')
          .map((c) => c.trim())
          .filter((c) => c !== ''),
        notificationServiceUrl: e.NOTIFICATION_SERVICE_URL,
        webhookUrl: e.NOTIFY_WEBHOOK_URL,
        webhookSecret: e.NOTIFY_WEBHOOK_SECRET,
        emailTo: e.NOTIFY_EMAIL_TO,
        timeoutMs: e.NOTIFY_TIMEOUT_MS,
      },
    }),
  };
  let choice;
  try {
    // Adapter choice is validated here so that a missing credential is named with every other problem.
    choice = choosePeers(config.peers, config.publicBaseUrl);
  } catch (error) {
    if (error instanceof PeerChoiceError) throw new ConfigError(error.problems);
    throw error;
  }
  const email = config.peers.email;
  const mailboxes = loadMailboxes({
    file: e.EMAIL_MAILBOXES_FILE,
    defaults: {
      source: choice.emailSource,
      address: email.address,
      password: email.password,
      imapHost: email.imapHost,
      imapPort: email.imapPort,
      imapSecure: email.imapSecure,
      imapMailbox: email.imapMailbox,
      smtpServer: email.smtpServer,
      smtpPort: email.smtpPort,
      smtpSecure: email.smtpSecure,
      ownerPhone: config.emailReply.ownerPhone,
      ownerName: config.emailReply.ownerName,
    },
    region: e.DEFAULT_PHONE_REGION,
    sandbox: choice.sms === 'outbox',
  });
  if (mailboxes.problems.length > 0) throw new ConfigError(mailboxes.problems);
  return Object.freeze({ ...config, mailboxes: deepFreeze(mailboxes.mailboxes) });
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value))
    if (inner && typeof inner === 'object') deepFreeze(inner as object);
  return Object.freeze(value);
}

/** The variables this service reads, for docs and for tests that check the docs stay complete. */
export const configVariables = Object.keys(envSchema.shape);
