#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { createToken, listTokens, revokeToken, ROLES, type Role } from './core/auth/token-store.js';
import { DataDirInUseError } from './core/db/data-dir-lock.js';
import { openDatabase } from './core/db/database.js';
import { collectionsModule } from './collections/collections-module.js';
import { emailReplyModule } from './email-reply/email-reply-module.js';
import { userCommand } from './dashboard/auth/user-command.js';
import { dashboardModule } from './dashboard/dashboard-module.js';
import { runUntilSignalled, startService } from './main.js';
import { version } from './version.js';

const USAGE = `Usage: countersign <command>

  serve [--role all|api|worker]          start the service (default role: all)
  migrate                                apply database migrations and exit
  token create --role <role> --name <n>  create an API token and print it once
                                         (roles: ${ROLES.join(', ')})
  token list                             list tokens (never the secrets)
  token revoke <id>                      revoke a token
  user create --role <role> --username <u>
                                         create a dashboard user; prints a generated
                                         password once (roles: admin, manager, viewer)
  user set-password <username>           give a dashboard user a new generated password
                                         (printed once; changed at next sign-in)

Configuration comes from the environment; see docs/configuration.md.`;

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function withDatabase<T>(
  config: Config,
  fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>,
) {
  const database = await openDatabase({
    url: config.database.url,
    dataDir: config.database.dataDir,
    poolSize: 2,
  });
  try {
    await database.migrate();
    return await fn(database);
  } finally {
    await database.close();
  }
}

async function serveCommand(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const { values } = parseArgs({ args, options: { role: { type: 'string' } } });
  const config = loadConfig(values.role ? { ...env, COUNTERSIGN_ROLE: values.role } : env, version);
  await runUntilSignalled(() =>
    startService(config, { modules: [collectionsModule(), emailReplyModule(), dashboardModule()] }),
  );
}

async function tokenCommand(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const [sub, ...rest] = args;
  const config = loadConfig(env, version);
  if (sub === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: { role: { type: 'string' }, name: { type: 'string' } },
    });
    if (!values.role || !(ROLES as readonly string[]).includes(values.role)) {
      fail(`--role must be one of: ${ROLES.join(', ')}`, 2);
    }
    if (!values.name?.trim()) fail('--name is required', 2);
    const created = await withDatabase(config, (d) =>
      createToken(d.db, { name: values.name!.trim(), role: values.role as Role, now: new Date() }),
    );
    process.stdout.write(
      `Created ${values.role} token "${values.name}" (id ${created.id}). It is shown once:\n${created.token}\n`,
    );
    return;
  }
  if (sub === 'list') {
    const tokens = await withDatabase(config, (d) => listTokens(d.db));
    for (const t of tokens) {
      process.stdout.write(
        `${t.id}  ${t.role.padEnd(8)}  ${t.name}${t.revoked_at ? `  (revoked ${t.revoked_at.toISOString()})` : ''}\n`,
      );
    }
    return;
  }
  if (sub === 'revoke' && rest[0]) {
    const ok = await withDatabase(config, (d) => revokeToken(d.db, rest[0]!, new Date()));
    if (!ok) fail(`No active token has id ${rest[0]}`);
    process.stdout.write('Revoked.\n');
    return;
  }
  fail(USAGE, 2);
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(args, env);
      case 'migrate':
        await withDatabase(loadConfig(env, version), async () => undefined);
        process.stdout.write('Migrations applied.\n');
        return;
      case 'token':
        return await tokenCommand(args, env);
      case 'user':
        return await userCommand(args, {
          fail,
          usage: USAGE,
          withDatabase: (fn) => withDatabase(loadConfig(env, version), fn),
        });
      case '--version':
        process.stdout.write(`${version}\n`);
        return;
      default:
        fail(USAGE, command === undefined || command === '--help' ? 0 : 2);
    }
  } catch (error) {
    if (error instanceof ConfigError) fail(`Countersign cannot start.\n${error.message}`, 1);
    if (error instanceof DataDirInUseError) fail(`Countersign cannot start: ${error.message}`, 1);
    throw error;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
