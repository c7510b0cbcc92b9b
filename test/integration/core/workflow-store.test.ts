import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { jobs } from '../../../src/core/db/schema.js';
import { StaleVersionError, WorkflowNotFoundError } from '../../../src/core/workflow/errors.js';
import {
  createWorkflow,
  getAuditTrail,
  getWorkflow,
  transition,
  WorkflowStore,
} from '../../../src/core/workflow/workflow-store.js';
import { withCorrelationId } from '../../../src/core/runtime.js';
import { databaseKind, useTestDatabase } from '../../helpers/test-database.js';

const now = new Date('2025-01-15T10:30:00Z');
const later = new Date('2025-01-15T10:31:00Z');

describe(`workflow store (${databaseKind})`, () => {
  const database = useTestDatabase();
  const db = () => database.current.db;

  async function newWorkflow() {
    return createWorkflow(db(), {
      id: randomUUID(),
      kind: 'test',
      subjectKey: 'conv_1',
      state: 'received',
      data: { step: 0 },
      audit: { reason: 'inbound text', actor: 'system' },
      jobs: [{ kind: 'test.draft', bound: true }],
      now,
    });
  }

  it('creates a workflow with its audit row and bound job in one go', async () => {
    const wf = await withCorrelationId('corr-create', newWorkflow);
    expect(wf).toMatchObject({ state: 'received', version: 1, previousState: null });
    const trail = await getAuditTrail(db(), wf.id);
    expect(trail).toHaveLength(1);
    expect(trail[0]).toMatchObject({ fromState: null, toState: 'received', correlationId: 'corr-create' });
    const queued = await db().select().from(jobs).where(eq(jobs.workflowId, wf.id));
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ kind: 'test.draft', workflowVersion: 1, correlationId: 'corr-create' });
  });

  it('transitions: state, previous state, version, audit row and follow-up jobs', async () => {
    const wf = await newWorkflow();
    const next = await transition(db(), {
      workflowId: wf.id,
      expectedVersion: 1,
      to: 'drafted',
      data: { step: 1 },
      audit: { reason: 'draft ready', actor: 'ai', details: { confidence: 0.9 }, correlationId: 'corr-t' },
      jobs: [
        { kind: 'test.send', bound: true },
        { kind: 'test.timer', delayMs: 60_000 },
      ],
      now: later,
    });
    expect(next).toMatchObject({
      state: 'drafted',
      previousState: 'received',
      version: 2,
      data: { step: 1 },
    });
    const trail = await getAuditTrail(db(), wf.id);
    expect(trail.map((a) => [a.fromState, a.toState, a.actor])).toEqual([
      [null, 'received', 'system'],
      ['received', 'drafted', 'ai'],
    ]);
    expect(trail[1]).toMatchObject({
      reason: 'draft ready',
      details: { confidence: 0.9 },
      correlationId: 'corr-t',
    });
    const queued = await db().select().from(jobs).where(eq(jobs.workflowId, wf.id));
    expect(queued.find((j) => j.kind === 'test.send')?.workflowVersion).toBe(2);
    const timer = (await db().select().from(jobs).where(eq(jobs.kind, 'test.timer'))).at(-1);
    expect(timer?.runAt.toISOString()).toBe('2025-01-15T10:32:00.000Z');
    expect(timer?.workflowId).toBeNull();
  });

  it('a transition without data keeps it, and writes every field of its audit row and jobs', async () => {
    const wf = await newWorkflow();
    const next = await withCorrelationId('corr-ctx', () =>
      transition(db(), {
        workflowId: wf.id,
        expectedVersion: 1,
        to: 'waiting',
        audit: { reason: 'no details', actor: 'system' },
        jobs: [
          {
            kind: 'test.fields',
            payload: { to: '+15551234567', nested: { list: [1, 'two', null] }, text: 'it\'s "quoted" \\ é' },
            maxAttempts: 3,
            singletonKey: `fields:${wf.id}`,
            runAt: new Date('2025-01-16T09:00:00.123Z'),
            bound: true,
          },
          // The same singleton key again: skipped, as a second enqueue would be.
          { kind: 'test.fields-duplicate', singletonKey: `fields:${wf.id}` },
        ],
        now: later,
      }),
    );
    expect(next).toEqual({
      ...wf,
      state: 'waiting',
      previousState: 'received',
      version: 2,
      data: { step: 0 },
      updatedAt: later,
    });
    const trail = await getAuditTrail(db(), wf.id);
    expect(trail[1]).toMatchObject({
      fromState: 'received',
      toState: 'waiting',
      reason: 'no details',
      actor: 'system',
      correlationId: 'corr-ctx',
      details: {},
      at: later,
    });
    const queued = await db()
      .select()
      .from(jobs)
      .where(eq(jobs.singletonKey, `fields:${wf.id}`));
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({
      kind: 'test.fields',
      payload: { to: '+15551234567', nested: { list: [1, 'two', null] }, text: 'it\'s "quoted" \\ é' },
      state: 'queued',
      runAt: new Date('2025-01-16T09:00:00.123Z'),
      attempts: 0,
      maxAttempts: 3,
      workflowId: wf.id,
      workflowVersion: 2,
      correlationId: 'corr-ctx',
      createdAt: later,
      updatedAt: later,
    });
  });

  it('rejects a stale version and writes nothing', async () => {
    const wf = await newWorkflow();
    await transition(db(), {
      workflowId: wf.id,
      expectedVersion: 1,
      to: 'a',
      audit: { reason: 'r', actor: 'x' },
      now,
    });
    await expect(
      transition(db(), {
        workflowId: wf.id,
        expectedVersion: 1,
        to: 'b',
        audit: { reason: 'late', actor: 'y' },
        jobs: [{ kind: 'test.should-not-exist' }],
        now,
      }),
    ).rejects.toBeInstanceOf(StaleVersionError);
    expect((await getWorkflow(db(), wf.id))?.state).toBe('a');
    expect(await getAuditTrail(db(), wf.id)).toHaveLength(2);
    expect(await db().select().from(jobs).where(eq(jobs.kind, 'test.should-not-exist'))).toHaveLength(0);
  });

  it('only one of two concurrent transitions from the same version wins', async () => {
    const wf = await newWorkflow();
    const attempts = await Promise.allSettled(
      ['x', 'y', 'z'].map((to) =>
        transition(db(), {
          workflowId: wf.id,
          expectedVersion: 1,
          to,
          audit: { reason: to, actor: to },
          now,
        }),
      ),
    );
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    expect(
      attempts.filter((a) => a.status === 'rejected').map((a) => (a as PromiseRejectedResult).reason),
    ).toSatisfy((reasons: unknown[]) => reasons.every((r) => r instanceof StaleVersionError));
    expect(await getAuditTrail(db(), wf.id)).toHaveLength(2);
  });

  it('an unknown workflow is not found', async () => {
    await expect(
      transition(db(), {
        workflowId: randomUUID(),
        expectedVersion: 1,
        to: 'a',
        audit: { reason: 'r', actor: 'x' },
        now,
      }),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('a rollback leaves neither the state, the audit row nor the jobs', async () => {
    const wf = await newWorkflow();
    await expect(
      db().transaction(async (tx) => {
        await transition(tx, {
          workflowId: wf.id,
          expectedVersion: 1,
          to: 'drafted',
          audit: { reason: 'draft', actor: 'ai' },
          jobs: [{ kind: 'test.rolled-back' }],
          now,
        });
        // Read in the same transaction: the change is there before it commits.
        expect(await getWorkflow(tx, wf.id)).toMatchObject({ state: 'drafted', version: 2 });
        throw new Error('the send step failed after the transition');
      }),
    ).rejects.toThrow('send step failed');
    const after = await getWorkflow(db(), wf.id);
    expect(after).toMatchObject({ state: 'received', version: 1 });
    expect(await getAuditTrail(db(), wf.id)).toHaveLength(1);
    expect(await db().select().from(jobs).where(eq(jobs.kind, 'test.rolled-back'))).toHaveLength(0);
  });

  it('WorkflowStore reports each written change (for countersign_workflow_transitions_total), not refused ones', async () => {
    const seen: string[] = [];
    const store = new WorkflowStore((kind, to) => seen.push(`${kind}:${to}`));
    const wf = await store.create(db(), {
      id: randomUUID(),
      kind: 'metered',
      subjectKey: 'k',
      state: 'received',
      audit: { reason: 'r', actor: 'a' },
      now,
    });
    await store.transition(db(), {
      workflowId: wf.id,
      expectedVersion: 1,
      to: 'sent',
      audit: { reason: 'r', actor: 'a' },
      now,
    });
    await expect(
      store.transition(db(), {
        workflowId: wf.id,
        expectedVersion: 1,
        to: 'again',
        audit: { reason: 'r', actor: 'a' },
        now,
      }),
    ).rejects.toBeInstanceOf(StaleVersionError);
    expect(seen).toEqual(['metered:received', 'metered:sent']);
    expect((await store.auditTrail(db(), wf.id)).map((a) => a.toState)).toEqual(['received', 'sent']);
  });
});
