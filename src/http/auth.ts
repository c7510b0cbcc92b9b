import type { MiddlewareHandler } from 'hono';
import type { Db } from '../core/db/database.js';
import { findPrincipal, sameSecret, type Principal, type Role } from '../core/auth/token-store.js';
import type { AppEnv } from './app-env.js';
import { problemResponse } from './problem.js';

export type PublicPath = string | RegExp;

const matches = (path: string, rule: PublicPath) =>
  typeof rule === 'string'
    ? path === rule || (rule.endsWith('/*') && path.startsWith(rule.slice(0, -1)))
    : rule.test(path);

/**
 * Bearer-token authentication for everything but the public paths (health, docs, signed
 * webhooks). Lookups are cached for a few seconds: revoking a token takes effect within
 * cacheMs on every process.
 */
export function authenticate(options: {
  db: Db;
  adminToken: string | undefined;
  publicPaths: readonly PublicPath[];
  cacheMs?: number;
}): MiddlewareHandler<AppEnv> {
  const cacheMs = options.cacheMs ?? 5000;
  const cache = new Map<string, { principal: Principal | undefined; until: number }>();
  return async (c, next) => {
    if (options.publicPaths.some((rule) => matches(c.req.path, rule))) return next();
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const challenge = { 'WWW-Authenticate': 'Bearer realm="countersign"' };
    if (!match?.[1]) {
      return problemResponse(c, 401, 'Send an API token as "Authorization: Bearer <token>".', {}, challenge);
    }
    const token = match[1];
    let principal: Principal | undefined;
    if (options.adminToken && sameSecret(token, options.adminToken)) {
      principal = { id: 'env-admin', name: 'API_ADMIN_TOKEN', role: 'admin' };
    } else {
      const cached = cache.get(token);
      if (cached && cached.until > Date.now()) principal = cached.principal;
      else {
        principal = await findPrincipal(options.db, token);
        if (cache.size > 10_000) cache.clear();
        cache.set(token, { principal, until: Date.now() + cacheMs });
      }
    }
    if (!principal) {
      return problemResponse(
        c,
        401,
        'The API token is unknown or revoked.',
        {},
        {
          'WWW-Authenticate': 'Bearer realm="countersign", error="invalid_token"',
        },
      );
    }
    c.set('principal', principal);
    return next();
  };
}

/** Admins may do everything; other roles only what the route names. */
export function requireRole(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (!principal) return problemResponse(c, 401, 'Authentication is required.');
    if (principal.role !== 'admin' && !roles.includes(principal.role)) {
      return problemResponse(
        c,
        403,
        `The ${principal.role} role may not do this; it needs ${['admin', ...roles].join(' or ')}.`,
      );
    }
    return next();
  };
}
