import { z } from 'zod';

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
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const config: Config = {
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
  };
  return Object.freeze(config);
}

/** The variables this service reads, for docs and for tests that check the docs stay complete. */
export const configVariables = Object.keys(envSchema.shape);
