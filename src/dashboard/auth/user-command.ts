import { parseArgs } from 'node:util';
import type { Database } from '../../core/db/database.js';
import { DASHBOARD_ROLES } from '../dashboard-env.js';
import { generatePassword } from './password.js';
import {
  createDashboardUser,
  findUserByUsername,
  isDashboardRole,
  setDashboardPassword,
  UserStoreError,
} from './user-store.js';

/**
 * `countersign user create --role <r> --username <u>` and `countersign user set-password <u>`:
 * both print a generated password once, which must be changed at the next sign-in.
 */
export async function userCommand(
  args: string[],
  io: {
    fail(message: string, code?: number): never;
    usage: string;
    withDatabase<T>(fn: (database: Database) => Promise<T>): Promise<T>;
  },
): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: { role: { type: 'string' }, username: { type: 'string' } },
    });
    if (!values.role || !isDashboardRole(values.role))
      io.fail(`--role must be one of: ${DASHBOARD_ROLES.join(', ')}`, 2);
    if (!values.username?.trim()) io.fail('--username is required', 2);
    const role = values.role;
    const username = values.username;
    try {
      const created = await io.withDatabase((d) =>
        createDashboardUser(d.db, { username, role, now: new Date() }),
      );
      process.stdout.write(
        `Created ${role} "${created.user.username}". The password is shown once and must be changed at the first sign-in:\n${created.password}\n`,
      );
    } catch (error) {
      if (error instanceof UserStoreError) io.fail(error.message, 2);
      throw error;
    }
    return;
  }
  if (sub === 'set-password' && rest[0]) {
    const username = rest[0];
    const password = generatePassword();
    const done = await io.withDatabase(async (d) => {
      const user = await findUserByUsername(d.db, username);
      if (!user) return false;
      await setDashboardPassword(d.db, {
        userId: user.id,
        password,
        mustChangePassword: true,
        now: new Date(),
      });
      return true;
    });
    if (!done) io.fail(`No active dashboard user is named ${username}`);
    process.stdout.write(
      `New password for "${username}" (shown once; their sessions were ended; it must be changed at the next sign-in):\n${password}\n`,
    );
    return;
  }
  io.fail(io.usage, 2);
}
