import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cliPath,
  killAllServices,
  serviceEnv,
  spawnService,
  useServiceProcesses,
} from '../helpers/spawn-service.js';

/**
 * `countersign token create|list|revoke` and `countersign migrate` on the embedded database, as an
 * operator runs them between starts; the tokens they print then work against the running service.
 */

useServiceProcesses('file');
const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'countersign-cli-'));
const env = serviceEnv({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
const cli = (...args: string[]) => run(process.execPath, [cliPath, ...args], { env });

afterAll(async () => {
  await killAllServices();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('countersign CLI', () => {
  let managerToken = '';

  it('migrate applies the migrations and exits', async () => {
    const { stdout } = await cli('migrate');
    expect(stdout).toContain('Migrations applied.');
  });

  it('token create prints a token once; token list shows names and roles, never secrets', async () => {
    const manager = await cli('token', 'create', '--role', 'manager', '--name', 'alice');
    managerToken = /^(cs_[A-Za-z0-9_-]{43})$/m.exec(manager.stdout)?.[1] ?? '';
    expect(managerToken).not.toBe('');
    await cli('token', 'create', '--role', 'viewer', '--name', 'val');

    const { stdout } = await cli('token', 'list');
    expect(stdout).toMatch(/manager\s+alice/);
    expect(stdout).toMatch(/viewer\s+val/);
    expect(stdout).not.toContain(managerToken);
  });

  it('refuses an unknown role and a missing name with usage exit code 2', async () => {
    await expect(cli('token', 'create', '--role', 'root', '--name', 'x')).rejects.toMatchObject({ code: 2 });
    await expect(cli('token', 'create', '--role', 'viewer')).rejects.toMatchObject({ code: 2 });
  });

  // Four CLI processes and a service start: on a loaded two-core machine this took over 60 s once.
  it(
    'token revoke revokes; the running service accepts the live token and refuses the revoked one',
    { timeout: 180_000 },
    async () => {
      const viewerToken = (await cli('token', 'create', '--role', 'viewer', '--name', 'temp')).stdout.match(
        /^(cs_\S+)$/m,
      )?.[1];
      const tempId = (await cli('token', 'list')).stdout.match(/^(\S+)\s+viewer\s+temp$/m)?.[1];
      expect((await cli('token', 'revoke', tempId!)).stdout).toContain('Revoked.');
      await expect(cli('token', 'revoke', tempId!)).rejects.toMatchObject({ code: 1 });

      const service = spawnService({ env: { DATA_DIR: dataDir, PORT: '0' } });
      await service.waitForReady();
      const get = (token: string) =>
        fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect((await get(managerToken)).status).toBe(200);
      expect((await get(viewerToken!)).status).toBe(401);
      // A manager may not mint tokens.
      const mint = await fetch(`${service.url}/admin/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${managerToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x', role: 'admin' }),
      });
      expect(mint.status).toBe(403);
      // While the service owns the folder, the CLI says so instead of corrupting it.
      await expect(cli('token', 'list')).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('already in use'),
      });
      expect((await service.stop()).code).toBe(0);
    },
  );
});
