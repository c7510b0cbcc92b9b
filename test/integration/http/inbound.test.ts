import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLog, inboundEvents, workflows } from '../../../src/core/db/schema.js';
import {
  createInboundFixtureModule,
  FIXTURE_WORKFLOW_KIND,
  type InboundFixture,
} from '../../fixtures/inbound-fixture-module.js';
import { useTestApp } from '../../helpers/test-app.js';
import { databaseKind } from '../../helpers/test-database.js';

describe(`inbound events are claimed once over HTTP (${databaseKind})`, () => {
  let fixture: InboundFixture | undefined;
  const t = useTestApp({
    modules: ({ database, clock }) => {
      fixture = createInboundFixtureModule({ db: database.db, clock });
      return [fixture.module];
    },
  });
  const db = () => t.current.database.db;

  async function rowsFor(source: string, key: string) {
    const events = await db()
      .select()
      .from(inboundEvents)
      .where(and(eq(inboundEvents.source, source), eq(inboundEvents.naturalKey, key)));
    const flows = await db()
      .select()
      .from(workflows)
      .where(and(eq(workflows.kind, FIXTURE_WORKFLOW_KIND), eq(workflows.subjectKey, `${source}:${key}`)));
    return { events, flows };
  }

  it('the same event POSTed 50 times at once makes one inbound row and one workflow', async () => {
    const source = `twilio-${randomUUID()}`;
    const key = 'SM0123456789abcdef0123456789abcdef';
    const runsBefore = fixture?.inboundRuns ?? 0;
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        t.current.request('/test/inbound', {
          as: 'service',
          json: { source, key, text: 'I can pay $200 Friday' },
        }),
      ),
    );
    const bodies = await Promise.all(
      responses.map(async (res) => ({
        status: res.status,
        body: (await res.json()) as Record<string, unknown>,
      })),
    );
    // Every request reached the handler: the single row is the claim's doing, not an earlier refusal.
    expect(fixture?.inboundRuns).toBe(runsBefore + 50);

    const winners = bodies.filter((b) => b.status === 201);
    const losers = bodies.filter((b) => b.status === 200);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(49);
    for (const loser of losers) expect(loser.body).toEqual({ claimed: false });
    const winner = winners[0]?.body as { claimed: true; id: string };
    expect(winner.claimed).toBe(true);

    const { events, flows } = await rowsFor(source, key);
    expect(events).toHaveLength(1);
    expect(flows).toHaveLength(1);
    expect(flows[0]?.id).toBe(winner.id);
    expect(events[0]).toMatchObject({ workflowId: winner.id, payload: { text: 'I can pay $200 Friday' } });
    expect(await db().select().from(auditLog).where(eq(auditLog.workflowId, winner.id))).toHaveLength(1);
  });

  it('events with different keys, or the same key from another source, are each claimed', async () => {
    const source = `gateway-${randomUUID()}`;
    const other = `sms-agent-${randomUUID()}`;
    const sends = [
      { source, key: 'a' },
      { source, key: 'b' },
      { source: other, key: 'a' },
      { source, key: 'a' },
    ];
    const statuses: number[] = [];
    for (const send of sends) {
      const res = await t.current.request('/test/inbound', { as: 'service', json: { ...send, text: 'hi' } });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([201, 201, 201, 200]);
    for (const [s, k] of [
      [source, 'a'],
      [source, 'b'],
      [other, 'a'],
    ] as const) {
      const { events, flows } = await rowsFor(s, k);
      expect(events).toHaveLength(1);
      expect(flows).toHaveLength(1);
    }
  });

  it('requires the service role', async () => {
    const source = `forbidden-${randomUUID()}`;
    for (const role of ['viewer', 'manager'] as const) {
      const res = await t.current.request('/test/inbound', {
        as: role,
        json: { source, key: 'k', text: 't' },
      });
      expect(res.status, role).toBe(403);
    }
    const { events, flows } = await rowsFor(source, 'k');
    expect(events).toHaveLength(0);
    expect(flows).toHaveLength(0);
    const admin = await t.current.request('/test/inbound', {
      as: 'admin',
      json: { source, key: 'k', text: 't' },
    });
    expect(admin.status).toBe(201);
  });
});
