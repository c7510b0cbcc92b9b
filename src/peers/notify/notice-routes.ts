import { createRoute, z } from '@hono/zod-openapi';
import type { HttpModule } from '../../app.js';
import type { Db } from '../../core/db/database.js';
import type { Clock } from '../../core/runtime.js';
import { requireRole } from '../../http/auth.js';
import { HttpProblem } from '../../http/problem.js';
import { bearerSecurity, problemResponses } from '../../http/router.js';
import { listNotices, markNoticeRead, type StoredNotice } from './notifier.js';

/** The dashboard inbox over HTTP: managers read notices and mark them read. */

export type NoticeRoutesDeps = { db: Db; clock: Clock };

const tags = ['notices'];

const NoticeView = z
  .object({
    id: z.number().int(),
    kind: z.enum(['approval_needed', 'escalation', 'failure']),
    subject: z.string(),
    body: z.string(),
    priority: z.enum(['low', 'normal', 'high', 'urgent']),
    metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    recipient: z.string().nullable(),
    created_at: z.string().datetime(),
    read_at: z.string().datetime().nullable(),
  })
  .openapi('Notice');

const ListQuery = z.object({
  unread: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .openapi({ description: 'The last id of the previous page' }),
});

export function noticeRoutesModule(deps: NoticeRoutesDeps): HttpModule {
  return {
    name: 'notices',
    register(app) {
      app.openapi(
        createRoute({
          method: 'get',
          path: '/notices',
          tags,
          summary: 'Notices to managers, newest first',
          security: bearerSecurity,
          middleware: [requireRole('viewer', 'manager')] as const,
          request: { query: ListQuery },
          responses: {
            200: {
              description: 'Notices; next_before is the cursor of the next page (null on the last)',
              content: {
                'application/json': {
                  schema: z.object({
                    notices: z.array(NoticeView),
                    next_before: z.number().int().nullable(),
                  }),
                },
              },
            },
            ...problemResponses(400, 401, 403),
          },
        }),
        async (c) => {
          const query = c.req.valid('query');
          const notices = await listNotices(deps.db, {
            unreadOnly: query.unread === 'true',
            limit: query.limit,
            before: query.before,
          });
          const last = notices.length === query.limit ? notices.at(-1)?.id : undefined;
          return c.json({ notices: notices.map(noticeView), next_before: last ?? null }, 200);
        },
      );

      app.openapi(
        createRoute({
          method: 'post',
          path: '/notices/{id}/read',
          tags,
          summary: 'Mark a notice read (repeating it keeps the first time)',
          security: bearerSecurity,
          middleware: [requireRole('manager')] as const,
          request: { params: z.object({ id: z.coerce.number().int().positive() }) },
          responses: {
            200: { description: 'The notice', content: { 'application/json': { schema: NoticeView } } },
            ...problemResponses(400, 401, 403, 404),
          },
        }),
        async (c) => {
          const { id } = c.req.valid('param');
          const notice = await markNoticeRead(deps.db, id, deps.clock.now());
          if (!notice) throw new HttpProblem(404, `No notice ${id}.`);
          return c.json(noticeView(notice), 200);
        },
      );
    },
  };
}

function noticeView(n: StoredNotice) {
  return {
    id: n.id,
    kind: n.kind,
    subject: n.subject,
    body: n.body,
    priority: n.priority,
    metadata: n.metadata,
    recipient: n.recipient ?? null,
    created_at: n.createdAt.toISOString(),
    read_at: n.readAt?.toISOString() ?? null,
  };
}
