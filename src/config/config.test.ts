import { describe, expect, it } from 'vitest';
import { ConfigError, configVariables, loadConfig } from './config.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({}, '1.2.3');
    expect(config).toEqual({
      port: 8000,
      host: '0.0.0.0',
      publicBaseUrl: undefined,
      serviceName: 'countersign',
      version: '1.2.3',
      role: 'all',
      logLevel: 'info',
      database: { url: undefined, poolSize: 10, dataDir: './data' },
      auth: { adminToken: undefined },
      http: { bodyLimitBytes: 256 * 1024, idempotencyTtlHours: 24 },
      jobs: {
        maxRetryAttempts: 3,
        retryBaseDelayMs: 1000,
        retryMaxDelayMs: 300_000,
        pollIntervalMs: 250,
        leaseMs: 60_000,
        concurrency: 16,
        shutdownGraceMs: 10_000,
      },
      health: { memoryWarnRatio: 0.9 },
      emailReply: {
        ownerPhone: undefined,
        ownerName: undefined,
        userResponseTimeoutMs: 86_400_000,
        maxEditIterations: 10,
        allow: [],
        deny: [],
      },
      collections: {
        autoApprovalConfidence: 0.85,
        manualApprovalMinConfidence: 0.6,
        maxPaymentWeeks: 12,
        minWeeklyPayment: 25,
        planMaxStartDays: 30,
        planGraceDays: 3,
        escalationTimeoutMs: 36 * 3_600_000,
        optOutLine: 'Reply STOP to opt out',
        sendWindow: { startHour: 8, endHour: 21 },
        turnCoalesceMs: 3000,
        providerAnswersKeywords: undefined,
      },
      dashboard: { sessionIdleMs: 120 * 60_000, sessionMaxMs: 12 * 3_600_000 },
      mailboxes: [
        {
          name: 'default',
          source: 'ingest',
          address: undefined,
          password: undefined,
          imapHost: undefined,
          imapPort: undefined,
          imapSecure: undefined,
          imapMailbox: 'INBOX',
          smtpServer: undefined,
          smtpPort: 465,
          smtpSecure: undefined,
          ownerPhone: '+12025550100',
          ownerName: undefined,
          sandboxOwner: true,
        },
      ],
      peers: {
        breaker: { threshold: 5, resetMs: 60_000 },
        ai: {
          provider: undefined,
          openaiApiKey: undefined,
          openaiModel: 'gpt-5-mini',
          openaiBaseUrl: undefined,
          anthropicApiKey: undefined,
          anthropicModel: 'claude-sonnet-4-5',
          anthropicBaseUrl: undefined,
          timeoutMs: 30_000,
          maxConcurrency: 128,
        },
        sms: {
          provider: undefined,
          twilioAccountSid: undefined,
          twilioAuthToken: undefined,
          twilioPhoneNumber: undefined,
          twilioMessagingServiceSid: undefined,
          twilioBaseUrl: 'https://api.twilio.com',
          agentUrl: undefined,
          gatewayUrl: undefined,
          fromNumber: undefined,
          timeoutMs: 10_000,
          maxConcurrency: 8,
          maxSegments: 3,
          defaultRegion: 'US',
        },
        email: {
          source: undefined,
          address: undefined,
          password: undefined,
          imapHost: undefined,
          imapPort: undefined,
          imapSecure: undefined,
          imapMailbox: 'INBOX',
          pollIntervalSeconds: 120,
          smtpServer: undefined,
          smtpPort: 465,
          smtpSecure: undefined,
          smtpTimeoutMs: 30_000,
          tlsRejectUnauthorized: true,
        },
        ledger: { collectionsMonitorUrl: undefined, timeoutMs: 5_000 },
        notify: {
          channels: undefined,
          notificationServiceUrl: undefined,
          webhookUrl: undefined,
          webhookSecret: undefined,
          emailTo: undefined,
          timeoutMs: 5_000,
        },
      },
    });
    expect(Object.isFrozen(config.peers.sms)).toBe(true);
  });

  it('treats empty and blank values as unset', () => {
    const config = loadConfig({
      PORT: '',
      MAX_RETRY_ATTEMPTS: '   ',
      DATABASE_URL: '',
      API_ADMIN_TOKEN: ' ',
    });
    expect(config.port).toBe(8000);
    expect(config.jobs.maxRetryAttempts).toBe(3);
    expect(config.database.url).toBeUndefined();
    expect(config.auth.adminToken).toBeUndefined();
  });

  it('reads and trims the values it is given', () => {
    const config = loadConfig({
      PORT: ' 9090 ',
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: 'https://countersign.example.com',
      SERVICE_NAME: 'cs-prod',
      COUNTERSIGN_ROLE: 'worker',
      LOG_LEVEL: 'debug',
      DATABASE_URL: ' postgresql://app@db.internal:5432/countersign ',
      DATABASE_POOL_SIZE: '25',
      API_ADMIN_TOKEN: 'a-long-enough-admin-token-value',
      BODY_LIMIT_BYTES: '1024',
      MAX_RETRY_ATTEMPTS: '0',
      RETRY_BASE_DELAY_MS: '500',
      RETRY_MAX_DELAY_MS: '500',
      MEMORY_WARN_RATIO: '0.75',
    });
    expect(config).toMatchObject({
      port: 9090,
      host: '127.0.0.1',
      publicBaseUrl: 'https://countersign.example.com',
      serviceName: 'cs-prod',
      role: 'worker',
      logLevel: 'debug',
      database: { url: 'postgresql://app@db.internal:5432/countersign', poolSize: 25 },
      auth: { adminToken: 'a-long-enough-admin-token-value' },
      http: { bodyLimitBytes: 1024 },
      jobs: { maxRetryAttempts: 0, retryBaseDelayMs: 500, retryMaxDelayMs: 500 },
      health: { memoryWarnRatio: 0.75 },
    });
  });

  it('names every bad variable in one error: a bad PORT and a bad MAX_RETRY_ATTEMPTS together', () => {
    const error = configError({ PORT: 'eighty', MAX_RETRY_ATTEMPTS: '-1', LOG_LEVEL: 'info' });
    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain('PORT');
    expect(error.message).toContain('MAX_RETRY_ATTEMPTS');
    expect([...new Set(error.problems.map((p) => p.variable))].sort()).toEqual([
      'MAX_RETRY_ATTEMPTS',
      'PORT',
    ]);
  });

  it('names a retry base delay above the maximum together with the other bad variables', () => {
    const error = configError({ PORT: '99999', RETRY_BASE_DELAY_MS: '5000', RETRY_MAX_DELAY_MS: '1000' });
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['PORT', 'RETRY_BASE_DELAY_MS']);
    expect(configError({ RETRY_BASE_DELAY_MS: '5000', RETRY_MAX_DELAY_MS: '1000' }).message).toContain(
      'must not exceed RETRY_MAX_DELAY_MS',
    );
  });

  it('refuses a manual threshold above the auto threshold, and a send window that ends before it starts', () => {
    const error = configError({
      AUTO_APPROVAL_CONFIDENCE: '0.7',
      MANUAL_APPROVAL_MIN_CONFIDENCE: '0.8',
      SEND_WINDOW_START_HOUR: '21',
      SEND_WINDOW_END_HOUR: '8',
    });
    expect(error.problems.map((p) => p.variable).sort()).toEqual([
      'MANUAL_APPROVAL_MIN_CONFIDENCE',
      'SEND_WINDOW_START_HOUR',
    ]);
    const equalHours = configError({ SEND_WINDOW_START_HOUR: '9', SEND_WINDOW_END_HOUR: '9' });
    expect(equalHours.problems.map((p) => p.variable)).toEqual(['SEND_WINDOW_START_HOUR']);
    const config = loadConfig({ AUTO_APPROVAL_CONFIDENCE: '0.9', MANUAL_APPROVAL_MIN_CONFIDENCE: '0.9' });
    expect(config.collections.manualApprovalMinConfidence).toBe(0.9);
  });

  it.each([
    ['PORT', '80abc'],
    ['PORT', '8080.5'],
    ['PORT', '1e3'],
    ['PORT', '0x50'],
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['PORT', 'NaN'],
    ['PORT', 'Infinity'],
    ['MAX_RETRY_ATTEMPTS', 'three'],
    ['MAX_RETRY_ATTEMPTS', '3.0'],
    ['MAX_RETRY_ATTEMPTS', '51'],
    ['BODY_LIMIT_BYTES', '1023'],
    ['BODY_LIMIT_BYTES', '256kb'],
    ['DATABASE_POOL_SIZE', '0'],
    ['JOB_LEASE_MS', '60s'],
    ['IDEMPOTENCY_TTL_HOURS', '1,5'],
    ['MEMORY_WARN_RATIO', '90%'],
    ['MEMORY_WARN_RATIO', '1.5'],
    ['MEMORY_WARN_RATIO', '.9'],
  ])('never falls back to a default for a malformed number: %s=%s', (variable, value) => {
    const error = configError({ [variable]: value });
    expect(error.problems.map((p) => p.variable)).toEqual([variable]);
    expect(error.message).toContain(variable);
  });

  it.each([
    ['mysql://user@db/countersign'],
    ['postgres:/missing-slash'],
    ['db.internal:5432/countersign'],
    ['file:./data'],
  ])('refuses a DATABASE_URL that is not postgres:// or postgresql:// (%s)', (url) => {
    const error = configError({ DATABASE_URL: url });
    expect(error.problems).toEqual([
      { variable: 'DATABASE_URL', message: expect.stringContaining('postgres://') },
    ]);
  });

  it('never echoes the bad value, which may be a secret', () => {
    const error = configError({
      DATABASE_URL: 'mysql://app:s3cret-password@db/countersign',
      API_ADMIN_TOKEN: 'short-s3cret',
    });
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['API_ADMIN_TOKEN', 'DATABASE_URL']);
    expect(error.message).not.toContain('s3cret');
  });

  it.each([
    ['COUNTERSIGN_ROLE', 'everything'],
    ['LOG_LEVEL', 'verbose'],
    ['PUBLIC_BASE_URL', 'countersign.example.com'],
  ])('refuses an unknown choice or malformed text: %s=%s', (variable, value) => {
    expect(configError({ [variable]: value }).problems.map((p) => p.variable)).toEqual([variable]);
  });

  it('returns a frozen config, nested parts included', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    for (const part of [config.database, config.auth, config.http, config.jobs, config.health]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.jobs as { maxRetryAttempts: number }).maxRetryAttempts = 99;
    }).toThrow(TypeError);
    expect(config.port).toBe(8000);
  });

  it('lists the variables it reads', () => {
    expect(configVariables).toEqual(
      expect.arrayContaining([
        'PORT',
        'DATABASE_URL',
        'API_ADMIN_TOKEN',
        'BODY_LIMIT_BYTES',
        'MAX_RETRY_ATTEMPTS',
      ]),
    );
  });
});

describe('docs/configuration.md', () => {
  it('documents every variable the service reads', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const missing = configVariables.filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
