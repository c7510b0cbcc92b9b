import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Notice } from '../../../src/peers/notify/notify-port.js';
import { noticeRoutesModule } from '../../../src/peers/notify/notice-routes.js';
import { createNotifier } from '../../../src/peers/notify/notifier.js';
import { readProblem, useTestApp } from '../../helpers/test-app.js';
import { databaseKind } from '../../helpers/test-database.js';

type NoticeBody = { id: number; subject: string; read_at: string | null; metadata: Record<string, unknown> };

describe(`notice routes (${databaseKind})`, () => {
  const t = useTestApp({
    modules: ({ database, clock }) => [noticeRoutesModule({ db: database.db, clock })],
  });
  const notifier = createNotifier({ channels: [] });
  const notify = async (subject: string) => {
    const notice: Notice = {
      kind: 'escalation',
      subject,
      body: 'b',
      priority: 'normal',
      metadata: { escalation_id: 'esc_1' },
    };
    return (await notifier.notify(t.current.database.db, notice, randomUUID(), t.current.clock.now()))
      .noticeId;
  };

  it('lists notices newest first, unread only on request, and marks one read', async () => {
    const older = await notify('older');
    const newer = await notify('newer');
    const list = async (query: string) => {
      const res = await t.current.request(`/notices${query}`, { as: 'viewer' });
      expect(res.status).toBe(200);
      return (await res.json()) as { notices: NoticeBody[]; next_before: number | null };
    };
    const all = await list('');
    expect(all.notices.map((n) => n.id)).toEqual([newer, older]);
    expect(all.notices[0]).toMatchObject({
      subject: 'newer',
      read_at: null,
      metadata: { escalation_id: 'esc_1' },
    });

    const read = await t.current.request(`/notices/${older}/read`, { method: 'POST', as: 'manager' });
    expect(read.status).toBe(200);
    expect(((await read.json()) as NoticeBody).read_at).toBe('2025-01-15T10:30:00.000Z');
    expect((await list('?unread=true')).notices.map((n) => n.id)).toEqual([newer]);

    const page = await list('?limit=1');
    expect(page.notices.map((n) => n.id)).toEqual([newer]);
    expect(page.next_before).toBe(newer);
    expect((await list(`?limit=1&before=${newer}`)).notices.map((n) => n.id)).toEqual([older]);
  });

  it('a viewer may not mark notices read; an unknown notice is a 404; a bad id a 400', async () => {
    const id = await notify('x');
    expect((await t.current.request(`/notices/${id}/read`, { method: 'POST', as: 'viewer' })).status).toBe(
      403,
    );
    expect((await t.current.request('/notices', { as: 'service' })).status).toBe(403);
    const missing = await t.current.request('/notices/987654321/read', { method: 'POST', as: 'manager' });
    expect(missing.status).toBe(404);
    await readProblem(missing);
    const bad = await t.current.request('/notices/abc/read', { method: 'POST', as: 'manager' });
    expect(bad.status).toBe(400);
    await readProblem(bad);
  });
});
