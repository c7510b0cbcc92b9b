import { boolean, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * The dashboard's people and their sessions (docs/dashboard.md). Machines keep using API tokens
 * (api_tokens); these are for people signing in with a password in a browser.
 */

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const dashboardUsers = pgTable(
  'dashboard_users',
  {
    id: uuid('id').primaryKey(),
    /** Stored lower-case; sign-in compares lower-case. */
    username: text('username').notNull(),
    /** admin | manager | viewer */
    role: text('role').notNull(),
    /** argon2id, PHC string (salt and parameters included). */
    passwordHash: text('password_hash').notNull(),
    /** A printed or generated password must be replaced at the next sign-in. */
    mustChangePassword: boolean('must_change_password').notNull().default(false),
    createdAt: at('created_at').notNull(),
    passwordChangedAt: at('password_changed_at').notNull(),
    disabledAt: at('disabled_at'),
  },
  (t) => [uniqueIndex('dashboard_users_username_idx').on(t.username)],
);

export const dashboardSessions = pgTable(
  'dashboard_sessions',
  {
    /** SHA-256 of the cookie's token; the token itself is never stored. */
    tokenHash: text('token_hash').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => dashboardUsers.id, { onDelete: 'cascade' }),
    /** The synchronizer CSRF token of this session (random, not a secret worth hashing: it is in every page). */
    csrfToken: text('csrf_token').notNull(),
    createdAt: at('created_at').notNull(),
    lastSeenAt: at('last_seen_at').notNull(),
    /** The absolute end; the idle end is lastSeenAt + idle timeout. */
    expiresAt: at('expires_at').notNull(),
  },
  (t) => [
    index('dashboard_sessions_user_idx').on(t.userId),
    index('dashboard_sessions_expires_idx').on(t.expiresAt),
  ],
);
