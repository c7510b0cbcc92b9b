import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Db } from '../core/db/database.js';
import { createToken, listTokens, revokeToken, ROLES } from '../core/auth/token-store.js';
import type { Clock } from '../core/runtime.js';
import type { AppEnv } from './app-env.js';
import { requireRole } from './auth.js';
import { HttpProblem } from './problem.js';
import { bearerSecurity, problemResponses } from './router.js';

const TokenInput = z
  .object({
    name: z.string().trim().min(1).max(100),
    role: z.enum(ROLES),
  })
  .strict()
  .openapi('TokenInput');

const TokenCreated = z
  .object({ id: z.string().uuid(), name: z.string(), role: z.enum(ROLES), token: z.string() })
  .openapi('TokenCreated');

const TokenInfo = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    role: z.string(),
    created_at: z.string().datetime(),
    revoked_at: z.string().datetime().nullable(),
  })
  .openapi('TokenInfo');

const tags = ['tokens'];

/** Token management for admins. Token creation is never stored by Idempotency-Key (the body holds the secret). */
export function registerTokenRoutes(app: OpenAPIHono<AppEnv>, deps: { db: Db; clock: Clock }): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/admin/tokens',
      tags,
      summary: 'Create an API token (shown once)',
      security: bearerSecurity,
      middleware: [requireRole()] as const,
      request: { body: { required: true, content: { 'application/json': { schema: TokenInput } } } },
      responses: {
        201: {
          description: 'Created; the token is shown only here',
          content: { 'application/json': { schema: TokenCreated } },
        },
        ...problemResponses(400, 401, 403, 415),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const created = await createToken(deps.db, { ...input, now: deps.clock.now() });
      return c.json({ id: created.id, name: input.name, role: input.role, token: created.token }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/admin/tokens',
      tags,
      summary: 'List API tokens (never the secrets)',
      security: bearerSecurity,
      middleware: [requireRole()] as const,
      responses: {
        200: {
          description: 'Tokens',
          content: { 'application/json': { schema: z.object({ tokens: z.array(TokenInfo) }) } },
        },
        ...problemResponses(401, 403),
      },
    }),
    async (c) => {
      const tokens = await listTokens(deps.db);
      return c.json(
        {
          tokens: tokens.map((t) => ({
            ...t,
            created_at: t.created_at.toISOString(),
            revoked_at: t.revoked_at?.toISOString() ?? null,
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/admin/tokens/{id}',
      tags,
      summary: 'Revoke an API token',
      security: bearerSecurity,
      middleware: [requireRole()] as const,
      request: { params: z.object({ id: z.string().uuid() }) },
      responses: { 204: { description: 'Revoked' }, ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await revokeToken(deps.db, id, deps.clock.now()))) {
        throw new HttpProblem(404, `No active token has id ${id}.`);
      }
      return c.body(null, 204);
    },
  );
}
