import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { dashboardModule } from '../../../src/dashboard/dashboard-module.js';
import { startService, type Service } from '../../../src/main.js';
import { testLogger } from '../../helpers/silent-logger.js';
import { createTestDatabase, onPostgres } from '../../helpers/test-database.js';
import { DashboardClient } from './dashboard-client.js';

/**
 * The first start with no dashboard user prints an `admin` password once; signing in with it leads
 * to the password change and nowhere else until it is done; a second start prints nothing.
 */
describe('the first dashboard admin', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('is printed once at first start and must change its password before anything else', async () => {
    let database: Record<string, string>;
    if (onPostgres) {
      const db = await createTestDatabase();
      cleanups.push(() => db.dispose(false));
      database = { DATABASE_URL: db.url! };
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'countersign-first-admin-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      database = { DATA_DIR: dir };
    }
    const config = loadConfig({ ...database, PORT: '0', HOST: '127.0.0.1' });
    const start = async (lines: string[]): Promise<Service> => {
      const service = await startService(config, {
        logger: testLogger,
        modules: [dashboardModule()],
        announce: (line) => lines.push(line),
      });
      return service;
    };

    const first: string[] = [];
    const service = await start(first);
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await service.stop();
    });
    const printed = first.join('\n');
    expect(printed).toContain('Username: admin');
    const password = /Password: (\S+)/.exec(printed)?.[1];
    expect(password).toBeDefined();

    const client = new DashboardClient(service.url!);
    const signIn = await client.signIn('admin', password!, '/dashboard/metrics');
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/dashboard/password');
    const elsewhere = await client.get('/dashboard/settings');
    expect(elsewhere.status).toBe(303);
    expect(elsewhere.headers.get('location')).toBe('/dashboard/password');

    const csrf = await client.csrf('/dashboard/password');
    const same = await client.post('/dashboard/password', {
      _csrf: csrf,
      current: password!,
      password: password!,
      confirm: password!,
    });
    expect(same.status).toBe(400);
    const wrongCurrent = await client.post('/dashboard/password', {
      _csrf: csrf,
      current: 'not-it',
      password: 'fresh-secret-passphrase',
      confirm: 'fresh-secret-passphrase',
    });
    expect(wrongCurrent.status).toBe(400);
    const changed = await client.post('/dashboard/password', {
      _csrf: csrf,
      current: password!,
      password: 'fresh-secret-passphrase',
      confirm: 'fresh-secret-passphrase',
    });
    expect(changed.status).toBe(303);
    expect((await client.get('/dashboard/settings')).status).toBe(200);

    // The printed password no longer works; the new one does.
    const again = new DashboardClient(service.url!);
    expect((await again.signIn('admin', password!)).status).toBe(401);
    const ok = await again.signIn('admin', 'fresh-secret-passphrase');
    expect(ok.headers.get('location')).toBe('/dashboard');

    await service.stop();
    stopped = true;
    const second: string[] = [];
    const restarted = await start(second);
    await restarted.stop();
    expect(second.join('\n')).not.toContain('dashboard admin');
  });
});
