import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLog, inboundEvents } from '../../../src/core/db/schema.js';
import { createInboundFixtureModule } from '../../fixtures/inbound-fixture-module.js';
import { readProblem, useTestApp } from '../../helpers/test-app.js';
import { databaseKind } from '../../helpers/test-database.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

describe(`correlation ids (${databaseKind})`, () => {
  const t = useTestApp({
    modules: ({ database, clock }) => [createInboundFixtureModule({ db: database.db, clock }).module],
  });
  const correlationOf = async (headers: Record<string, string>) =>
    (await t.current.request('/livez', { headers })).headers.get('x-correlation-id');

  it('echoes the caller’s X-Correlation-ID', async () => {
    expect(await correlationOf({ 'x-correlation-id': 'order-sync-2025-01-15:42' })).toBe(
      'order-sync-2025-01-15:42',
    );
  });

  it('uses the trace id of a W3C traceparent when there is no X-Correlation-ID', async () => {
    expect(await correlationOf({ traceparent: TRACEPARENT })).toBe(TRACE_ID);
    expect(await correlationOf({ traceparent: TRACEPARENT.toUpperCase() })).toBe(TRACE_ID);
  });

  it('prefers X-Correlation-ID over traceparent', async () => {
    expect(await correlationOf({ 'x-correlation-id': 'mine', traceparent: TRACEPARENT })).toBe('mine');
  });

  it('generates a fresh id when none is given', async () => {
    const a = await correlationOf({});
    const b = await correlationOf({});
    expect(a).toMatch(UUID);
    expect(b).toMatch(UUID);
    expect(a).not.toBe(b);
  });

  it('replaces an unsafe X-Correlation-ID, or an invalid traceparent, with a generated one', async () => {
    const unsafe = [
      '<script>alert(1)</script>',
      'two words',
      'quote"d',
      'x'.repeat(129),
      'semi;colon',
      '../../etc/passwd%00',
    ];
    for (const value of unsafe) {
      const id = await correlationOf({ 'x-correlation-id': value });
      expect(id, value).toMatch(UUID);
    }
    // An unsafe X-Correlation-ID falls back to a valid traceparent.
    expect(await correlationOf({ 'x-correlation-id': 'two words', traceparent: TRACEPARENT })).toBe(TRACE_ID);
    for (const traceparent of [
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-${TRACE_ID}-01`,
      'not a traceparent',
      `00-${TRACE_ID.slice(1)}z-00f067aa0ba902b7-01`,
    ]) {
      expect(await correlationOf({ traceparent }), traceparent).toMatch(UUID);
    }
  });

  it('puts the id on error responses too, in the header and in the problem body', async () => {
    const res = await t.current.request('/admin/tokens', { headers: { 'x-correlation-id': 'corr-401' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-correlation-id')).toBe('corr-401');
    expect((await readProblem(res)).correlation_id).toBe('corr-401');
  });

  it('carries the id into the inbound event and the audit row written by the route', async () => {
    const correlationId = `corr-audit-${randomUUID()}`;
    const res = await t.current.request('/test/inbound', {
      as: 'service',
      json: { source: 'corr-test', key: randomUUID(), text: 'hello' },
      headers: { 'x-correlation-id': correlationId },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-correlation-id')).toBe(correlationId);
    const { id } = (await res.json()) as { id: string };
    const db = t.current.database.db;
    const audit = await db.select().from(auditLog).where(eq(auditLog.workflowId, id));
    expect(audit).toHaveLength(1);
    expect(audit[0]?.correlationId).toBe(correlationId);
    const [event] = await db.select().from(inboundEvents).where(eq(inboundEvents.workflowId, id));
    expect(event?.correlationId).toBe(correlationId);
  });

  it('uses the traceparent trace id in the audit row when that is what the caller sent', async () => {
    const traceId = randomUUID().replaceAll('-', '');
    const res = await t.current.request('/test/inbound', {
      as: 'service',
      json: { source: 'corr-test', key: randomUUID(), text: 'hello' },
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    const { id } = (await res.json()) as { id: string };
    const [audit] = await t.current.database.db.select().from(auditLog).where(eq(auditLog.workflowId, id));
    expect(audit?.correlationId).toBe(traceId);
  });

  it('keeps concurrent requests’ ids apart', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `concurrent-${i}`);
    const results = await Promise.all(
      ids.map(async (correlationId) => {
        const res = await t.current.request('/test/inbound', {
          as: 'service',
          json: { source: 'corr-concurrent', key: correlationId, text: 'x' },
          headers: { 'x-correlation-id': correlationId },
        });
        return { correlationId, id: ((await res.json()) as { id: string }).id };
      }),
    );
    for (const { correlationId, id } of results) {
      const [audit] = await t.current.database.db.select().from(auditLog).where(eq(auditLog.workflowId, id));
      expect(audit?.correlationId).toBe(correlationId);
    }
  });
});
