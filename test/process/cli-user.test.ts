import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/core/db/database.js';
import { verifyPassword } from '../../src/dashboard/auth/password.js';
import { findUserByUsername } from '../../src/dashboard/auth/user-store.js';
import { cliPath, serviceEnv } from '../helpers/spawn-service.js';

/** `countersign user create|set-password` on the embedded database, as an operator runs them. */

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'countersign-cli-user-'));
const env = serviceEnv({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
const cli = (...args: string[]) => run(process.execPath, [cliPath, ...args], { env });
const failing = async (...args: string[]) => {
  try {
    await cli(...args);
  } catch (error) {
    return error as { code: number; stderr: string };
  }
  throw new Error(`expected ${args.join(' ')} to fail`);
};

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function storedUser(username: string) {
  const database = await openDatabase({ dataDir });
  try {
    return await findUserByUsername(database.db, username);
  } finally {
    await database.close();
  }
}

describe('countersign user', () => {
  let first = '';

  it('user create prints a generated password once, which must be changed at first sign-in', async () => {
    const { stdout } = await cli('user', 'create', '--role', 'manager', '--username', 'Bob');
    expect(stdout).toContain('Created manager "bob"');
    first = stdout.trim().split('\n').at(-1)!;
    expect(first).toMatch(/^[A-Za-z0-9]{20}$/);
    const user = await storedUser('bob');
    expect(user).toMatchObject({ role: 'manager', mustChangePassword: true });
    expect(await verifyPassword(user!.passwordHash, first)).toBe(true);
    expect(user!.passwordHash).not.toContain(first);
  });

  it('refuses a second user of the same name, a bad role and a bad username with exit 2', async () => {
    expect((await failing('user', 'create', '--role', 'manager', '--username', 'bob')).stderr).toContain(
      'already a user named bob',
    );
    expect((await failing('user', 'create', '--role', 'service', '--username', 'carol')).code).toBe(2);
    expect((await failing('user', 'create', '--role', 'viewer', '--username', 'no spaces')).code).toBe(2);
  });

  it('user set-password prints a new password; the old one stops working', async () => {
    const { stdout } = await cli('user', 'set-password', 'bob');
    const second = stdout.trim().split('\n').at(-1)!;
    expect(second).not.toBe(first);
    const user = await storedUser('bob');
    expect(await verifyPassword(user!.passwordHash, second)).toBe(true);
    expect(await verifyPassword(user!.passwordHash, first)).toBe(false);
    expect((await failing('user', 'set-password', 'nobody')).code).toBe(1);
  });
});
