import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import type { Logger } from 'pino';
import type { Clock } from '../../src/core/runtime.js';
import { startService, type ModuleFactory, type Service } from '../../src/main.js';
import { testLogger } from './silent-logger.js';
import { createTestDatabase, onPostgres } from './test-database.js';

/**
 * The whole service in this process on a fresh database (a new PostgreSQL database when
 * DATABASE_URL is set, else a PGlite folder), configured only by `env`, with an admin token for
 * calls over real HTTP. For tests that drive a workflow end to end.
 */
export type ServiceUnderTest = {
  service: Service;
  /** An HTTP call as admin; the JSON answer and its status. */
  call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
};

const TOKEN = 'admin-token-for-a-service-under-test-0';

export async function startServiceUnderTest(options: {
  env: Record<string, string>;
  modules?: readonly ModuleFactory[];
  clock?: Clock;
  /** Where the service logs (silent by default). */
  logger?: Logger;
}): Promise<ServiceUnderTest> {
  const cleanups: (() => Promise<void>)[] = [];
  let database: Record<string, string>;
  if (onPostgres) {
    const db = await createTestDatabase();
    cleanups.push(() => db.dispose(false));
    database = { DATABASE_URL: db.url! };
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-service-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    database = { DATA_DIR: dir };
  }
  const config = loadConfig({
    ...database,
    PORT: '0',
    HOST: '127.0.0.1',
    JOB_POLL_INTERVAL_MS: '20',
    API_ADMIN_TOKEN: TOKEN,
    ...options.env,
  });
  const service = await startService(config, {
    logger: options.logger ?? testLogger,
    modules: options.modules ?? [],
    announce: () => {},
    ...(options.clock ? { clock: options.clock } : {}),
  });
  cleanups.push(() => service.stop());
  return {
    service,
    async call(method, path, body) {
      const response = await fetch(`${service.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    async stop() {
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}

/** Polls `read` until `ok` holds; fails naming `what` and the last value after timeoutMs. */
export async function eventually<T>(
  read: () => T | Promise<T>,
  ok: (value: T) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}
