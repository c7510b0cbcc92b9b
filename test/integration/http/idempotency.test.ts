import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { idempotencyKeys } from '../../../src/core/db/schema.js';
import { ManualClock } from '../../../src/core/runtime.js';
import { createInboundFixtureModule, type InboundFixture } from '../../fixtures/inbound-fixture-module.js';
import { readProblem, useTestApp, type Caller } from '../../helpers/test-app.js';
import { databaseKind } from '../../helpers/test-database.js';

describe(`Idempotency-Key on POST (${databaseKind})`, () => {
  let fixture: InboundFixture | undefined;
  const clock = new ManualClock();
  const t = useTestApp({
    clock,
    env: { IDEMPOTENCY_TTL_HOURS: '24' },
    modules: ({ database, clock }) => {
      fixture = createInboundFixtureModule({ db: database.db, clock });
      return [fixture.module];
    },
  });
  const slow = () => {
    if (!fixture) throw new Error('fixture not ready');
    return fixture.slow;
  };
  const post = (key: string, n: unknown, as: Caller = 'service') =>
    t.current.request('/test/slow', { as, json: { n }, headers: { 'idempotency-key': key } });

  it('replays the stored response for the same key and body; the handler runs once', async () => {
    const key = randomUUID();
    const before = slow().runs;
    const first = await post(key, 1);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstBody = await first.json();
    expect(firstBody).toEqual({ n: 1, run: before + 1 });

    for (let i = 0; i < 3; i++) {
      const again = await post(key, 1);
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await again.json()).toEqual(firstBody);
    }
    expect(slow().runs).toBe(before + 1);
  });

  it('answers the same key with a different body with 422, and does not run the handler', async () => {
    const key = randomUUID();
    expect((await post(key, 1)).status).toBe(201);
    const runs = slow().runs;
    const other = await post(key, 2);
    expect(other.status).toBe(422);
    expect((await readProblem(other)).detail).toMatch(/different request body/);
    expect(slow().runs).toBe(runs);
  });

  it('answers 409 while the first request with the key is still running, then replays it', async () => {
    const key = randomUUID();
    const hold = slow().hold();
    const first = post(key, 7);
    await hold.started;
    const runs = slow().runs;

    const concurrent = await post(key, 7);
    expect(concurrent.status).toBe(409);
    expect(concurrent.headers.get('retry-after')).toBe('1');
    expect((await readProblem(concurrent)).detail).toMatch(/still being processed/);
    expect(slow().runs).toBe(runs);

    hold.release();
    const done = await first;
    expect(done.status).toBe(201);
    const body = await done.json();
    const replay = await post(key, 7);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual(body);
    expect(slow().runs).toBe(runs);
  });

  it('lets exactly one of many concurrent requests with one key run', async () => {
    const key = randomUUID();
    const hold = slow().hold();
    const before = slow().runs;
    const answered: Response[] = [];
    const all = Array.from({ length: 10 }, () =>
      post(key, 3).then((res) => {
        answered.push(res);
        return res;
      }),
    );
    await hold.started;
    // The nine that lost the claim answer at once; the winner waits on the hold.
    await vi.waitUntil(() => answered.length === 9, { timeout: 30_000 });
    expect(answered.map((r) => r.status)).toEqual(Array(9).fill(409));
    expect(slow().runs).toBe(before + 1);
    hold.release();
    const statuses = (await Promise.all(all)).map((r) => r.status).sort();
    expect(statuses).toEqual([201, ...Array(9).fill(409)]);
    expect(slow().runs).toBe(before + 1);
  });

  it('scopes keys per token: two callers with the same key both run', async () => {
    const key = randomUUID();
    const before = slow().runs;
    const asService = await post(key, 5, 'service');
    const asAdmin = await post(key, 5, 'admin');
    const asEnvAdmin = await post(key, 5, 'env-admin');
    for (const res of [asService, asAdmin, asEnvAdmin]) {
      expect(res.status).toBe(201);
      expect(res.headers.get('idempotent-replayed')).toBeNull();
    }
    expect(slow().runs).toBe(before + 3);
    // And each caller's own repeat is a replay of its own response.
    const repeat = await post(key, 5, 'admin');
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(await repeat.json()).toEqual(await asAdmin.json());
    expect(slow().runs).toBe(before + 3);
  });

  it('does not store a 5xx: the same key may be retried and runs again', async () => {
    const key = randomUUID();
    const hold = slow().hold();
    const first = post(key, 9);
    await hold.started;
    hold.fail(new Error('the database went away mid-request'));
    const failed = await first;
    expect(failed.status).toBe(500);
    await readProblem(failed);
    const rows = await t.current.database.db
      .select()
      .from(idempotencyKeys)
      .where(eq(idempotencyKeys.key, key));
    expect(rows).toHaveLength(0);

    const runs = slow().runs;
    const retry = await post(key, 9);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await retry.json()).toEqual({ n: 9, run: runs + 1 });
    expect(slow().runs).toBe(runs + 1);
  });

  it('forgets a key after IDEMPOTENCY_TTL_HOURS', async () => {
    const key = randomUUID();
    expect((await post(key, 1)).status).toBe(201);
    clock.advance(23 * 3_600_000);
    expect((await post(key, 2)).status).toBe(422);
    clock.advance(3_600_000);
    const runs = slow().runs;
    const fresh = await post(key, 2);
    expect(fresh.status).toBe(201);
    expect(fresh.headers.get('idempotent-replayed')).toBeNull();
    expect(slow().runs).toBe(runs + 1);
  });

  it('runs every request without a key', async () => {
    const before = slow().runs;
    for (let i = 0; i < 3; i++)
      expect((await t.current.request('/test/slow', { as: 'service', json: { n: 1 } })).status).toBe(201);
    expect(slow().runs).toBe(before + 3);
  });

  it('never stores token creation, whose response holds a secret', async () => {
    const key = randomUUID();
    const create = () =>
      t.current.request('/admin/tokens', {
        as: 'admin',
        json: { name: 'idempotent', role: 'viewer' },
        headers: { 'idempotency-key': key },
      });
    const a = (await (await create()).json()) as { token: string };
    const b = (await (await create()).json()) as { token: string };
    expect(a.token).not.toBe(b.token);
    const rows = await t.current.database.db
      .select()
      .from(idempotencyKeys)
      .where(eq(idempotencyKeys.key, key));
    expect(rows).toHaveLength(0);
  });
});
