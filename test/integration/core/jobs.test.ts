import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { beforeEach, describe, expect, it } from 'vitest';
import { jobs, workflows } from '../../../src/core/db/schema.js';
import {
  claimJobs,
  claimJobsOfKinds,
  completeJob,
  enqueueJobs,
  failJob,
  LeaseLostError,
  retryJob,
  skipJob,
  type Job,
} from '../../../src/core/jobs/job-queue.js';
import type { JobHandler } from '../../../src/core/jobs/job-worker.js';
import { NonRetriableError, RetryAfterError } from '../../../src/core/retry-errors.js';
import { ManualClock } from '../../../src/core/runtime.js';
import { createWorkflow, getWorkflow, transition } from '../../../src/core/workflow/workflow-store.js';
import { databaseKind, useTestDatabase } from '../../helpers/test-database.js';
import { testWorker } from '../../helpers/test-worker.js';

describe(`durable jobs (${databaseKind})`, () => {
  const database = useTestDatabase();
  const db = () => database.current.db;
  let clock: ManualClock;
  let kind: string;

  beforeEach(() => {
    clock = new ManualClock('2025-01-15T10:30:00Z');
    kind = `test.${randomUUID().slice(0, 8)}`; // each test its own kind: no cross-talk
  });

  const jobsOfKind = async (k = kind): Promise<Job[]> =>
    db().select().from(jobs).where(eq(jobs.kind, k)).orderBy(jobs.id);

  it('a timer fires at its time and not before', async () => {
    const runs: Date[] = [];
    const worker = testWorker(db(), clock, [{ kind, run: async (ctx) => void runs.push(ctx.now()) }]);
    await enqueueJobs(db(), [{ kind, delayMs: 60_000 }], clock.now());
    expect(await worker.drain()).toBe(0);
    clock.advance(59_999);
    expect(await worker.drain()).toBe(0);
    clock.advance(1);
    expect(await worker.drain()).toBe(1);
    expect(runs.map((d) => d.toISOString())).toEqual(['2025-01-15T10:31:00.000Z']);
    expect((await jobsOfKind())[0]).toMatchObject({ state: 'done', attempts: 1 });
  });

  it('retries back off exponentially with jitter, then fail for good and call onExhausted in the same transaction', async () => {
    const exhausted: string[] = [];
    const handler: JobHandler = {
      kind,
      run: async () => {
        throw new Error('peer answered 503');
      },
      onExhausted: async (tx, job, error) => {
        exhausted.push(error);
        await tx.execute(sql`select ${job.id}::int`); // runs inside the failing transaction
      },
    };
    // random() = 0.5: delay = 0.75 × min(max, base × 2^(attempt-1)), base 1 s
    const worker = testWorker(db(), clock, [handler], { maxAttempts: 4 });
    await enqueueJobs(db(), [{ kind }], clock.now());
    const expectedDelays = [750, 1500, 3000];
    for (const delay of expectedDelays) {
      expect(await worker.drain()).toBe(1);
      const [job] = await jobsOfKind();
      expect(job?.state).toBe('queued');
      expect(job!.runAt.getTime() - clock.now().getTime()).toBe(delay);
      expect(job?.lastError).toContain('peer answered 503');
      clock.advance(delay - 1);
      expect(await worker.drain()).toBe(0); // not before its time
      clock.advance(1);
    }
    expect(await worker.drain()).toBe(1);
    const [job] = await jobsOfKind();
    expect(job).toMatchObject({ state: 'failed', attempts: 4 });
    expect(exhausted).toEqual(['Error: peer answered 503']);
  });

  it('honours Retry-After and gives up at once on a non-retriable error', async () => {
    let calls = 0;
    const worker = testWorker(db(), clock, [
      {
        kind,
        run: async () => {
          calls += 1;
          if (calls === 1) throw new RetryAfterError('429', 42_000);
          throw new NonRetriableError('vendor said 400');
        },
      },
    ]);
    await enqueueJobs(db(), [{ kind }], clock.now());
    await worker.drain();
    expect((await jobsOfKind())[0]!.runAt.getTime() - clock.now().getTime()).toBe(42_000);
    clock.advance(42_000);
    await worker.drain();
    expect((await jobsOfKind())[0]).toMatchObject({ state: 'failed', attempts: 2 });
    expect(calls).toBe(2);
  });

  it('an invalid payload fails without retrying', async () => {
    let calls = 0;
    const worker = testWorker(db(), clock, [
      {
        kind,
        run: async (ctx) => {
          calls += 1;
          z.object({ outboxId: z.number() }).parse(ctx.job.payload);
        },
      },
    ]);
    await enqueueJobs(db(), [{ kind, payload: { outboxId: 'nope' } }], clock.now());
    await worker.drain();
    expect(calls).toBe(1);
    expect((await jobsOfKind())[0]).toMatchObject({ state: 'failed' });
  });

  it("runs a job again elsewhere after its worker died and its lease expired; the dead worker's late finish is refused", async () => {
    await enqueueJobs(db(), [{ kind }], clock.now());
    const [claimedByDead] = await claimJobs(db(), {
      kind,
      limit: 1,
      owner: 'worker-that-dies',
      now: clock.now(),
      leaseMs: 30_000,
    });
    expect(claimedByDead).toBeDefined();

    const runs: string[] = [];
    const survivor = testWorker(db(), clock, [{ kind, run: async () => void runs.push('survivor') }]);
    expect(await survivor.drain()).toBe(0); // lease still valid
    clock.advance(30_000);
    expect(await survivor.drain()).toBe(1);
    expect(runs).toEqual(['survivor']);
    expect((await jobsOfKind())[0]).toMatchObject({ state: 'done', attempts: 2 });
    await expect(completeJob(db(), claimedByDead!, clock.now())).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('a job whose worker keeps dying is failed once its attempts are used up', async () => {
    await enqueueJobs(db(), [{ kind, maxAttempts: 2 }], clock.now());
    for (let i = 0; i < 2; i++) {
      await claimJobs(db(), { kind, limit: 1, owner: `dies-${i}`, now: clock.now(), leaseMs: 1000 });
      clock.advance(1000);
    }
    let ran = false;
    const worker = testWorker(db(), clock, [{ kind, run: async () => void (ran = true) }]);
    await worker.drain();
    expect(ran).toBe(false);
    expect((await jobsOfKind())[0]).toMatchObject({ state: 'failed' });
    expect((await jobsOfKind())[0]?.lastError).toContain('lease expired');
  });

  it('skips a job bound to a workflow that has moved on, before or while it runs', async () => {
    const runs: string[] = [];
    const wf = await createWorkflow(db(), {
      id: randomUUID(),
      kind: 'test',
      subjectKey: 's',
      state: 'waiting',
      audit: { reason: 'r', actor: 'a' },
      jobs: [{ kind, bound: true, payload: { which: 'stale' } }],
      now: clock.now(),
    });
    // The workflow moves on (say a newer tenant text) before the timer runs.
    const moved = await transition(db(), {
      workflowId: wf.id,
      expectedVersion: 1,
      to: 'superseded',
      audit: { reason: 'newer text', actor: 'system' },
      jobs: [{ kind, bound: true, payload: { which: 'current' } }],
      now: clock.now(),
    });
    const worker = testWorker(db(), clock, [
      {
        kind,
        run: async (ctx) => {
          runs.push(String(ctx.job.payload.which));
          // A concurrent change while the handler ran: its own transition is stale.
          await transition(db(), {
            workflowId: wf.id,
            expectedVersion: moved.version,
            to: 'raced',
            audit: { reason: 'race', actor: 'x' },
            now: clock.now(),
          });
          await ctx.complete(async (tx) => {
            await transition(tx, {
              workflowId: wf.id,
              expectedVersion: moved.version,
              to: 'done',
              audit: { reason: 'handler', actor: 'job' },
              now: clock.now(),
            });
          });
        },
      },
    ]);
    await worker.drain();
    expect(runs).toEqual(['current']);
    const states = (await jobsOfKind()).map((j) => [j.payload.which, j.state]);
    expect(states).toEqual([
      ['stale', 'skipped'],
      ['current', 'skipped'],
    ]);
    expect((await getWorkflow(db(), wf.id))?.state).toBe('raced');
  });

  it('ctx.complete() commits the effect and the done mark together: a lost lease rolls the effect back', async () => {
    await db().execute(sql`create table if not exists effects (job_id int primary key)`);
    await enqueueJobs(db(), [{ kind }], clock.now());
    const worker = testWorker(db(), clock, [
      {
        kind,
        run: async (ctx) => {
          // Another worker takes the job over while this one is still busy.
          clock.advance(31_000);
          await claimJobs(db(), { kind, limit: 1, owner: 'other', now: clock.now(), leaseMs: 30_000 });
          await ctx.complete(async (tx) => {
            await tx.execute(sql`insert into effects (job_id) values (${ctx.job.id})`);
          });
        },
      },
    ]);
    await worker.drain();
    const rows = (await db().execute(sql`select count(*)::int as n from effects`)) as unknown as {
      rows: { n: number }[];
    };
    expect(rows.rows[0]?.n).toBe(0);
    expect((await jobsOfKind())[0]).toMatchObject({ state: 'running', leaseOwner: 'other' });
  });

  it('a handler run twice is harmless when it records its effect with ctx.complete()', async () => {
    await db().execute(sql`create table if not exists once_effects (k text primary key, n int not null)`);
    const handler: JobHandler = {
      kind,
      run: async (ctx) => {
        await ctx.complete(async (tx) => {
          await tx.execute(
            sql`insert into once_effects (k, n) values (${String(ctx.job.payload.key)}, 1) on conflict (k) do nothing`,
          );
        });
      },
    };
    await enqueueJobs(
      db(),
      [
        { kind, payload: { key: 'k1' } },
        { kind, payload: { key: 'k1' } },
      ],
      clock.now(),
    );
    await testWorker(db(), clock, [handler]).drain();
    const rows = (await db().execute(sql`select n from once_effects where k = 'k1'`)) as unknown as {
      rows: { n: number }[];
    };
    expect(rows.rows).toEqual([{ n: 1 }]);
  });

  it('respects the concurrency limit of a kind', async () => {
    let running = 0;
    let peak = 0;
    const worker = testWorker(
      db(),
      clock,
      [
        {
          kind,
          concurrency: 2,
          run: async () => {
            running += 1;
            peak = Math.max(peak, running);
            await new Promise((r) => setTimeout(r, 30));
            running -= 1;
          },
        },
      ],
      { concurrency: 16 },
    );
    await enqueueJobs(
      db(),
      Array.from({ length: 7 }, () => ({ kind })),
      clock.now(),
    );
    expect(await worker.drain()).toBe(7);
    expect(peak).toBe(2);
  });

  it('while a kind that finishes work has a backlog, a wider kind runs no more than JOB_CONCURRENCY at once', async () => {
    // Drafts may run more at once than JOB_CONCURRENCY (they wait on the AI); deliveries finish
    // turns. Both kinds hold their jobs until the test lets them go.
    const startKind = `${kind}.start`;
    const finishKind = `${kind}.finish`;
    const BASE = 2;
    const WIDE = 6;
    const running = { [startKind]: 0, [finishKind]: 0 };
    const begun = { [startKind]: 0, [finishKind]: 0 };
    const gates: Record<string, (() => void)[]> = { [startKind]: [], [finishKind]: [] };
    let holdFinish = true;
    let phase: 'first' | 'backlog' | 'clear' = 'first';
    let peakStartWhileBacklogged = 0;
    const held =
      (k: string): JobHandler['run'] =>
      async () => {
        running[k] = (running[k] ?? 0) + 1;
        begun[k] = (begun[k] ?? 0) + 1;
        if (k === startKind && phase === 'backlog')
          peakStartWhileBacklogged = Math.max(peakStartWhileBacklogged, running[k]);
        if (k === startKind || holdFinish) await new Promise<void>((r) => gates[k]!.push(r));
        running[k] = (running[k] ?? 1) - 1;
      };
    const letGo = (k: string) => gates[k]!.splice(0).forEach((r) => r());
    const until = async (what: string, cond: () => boolean | Promise<boolean>) => {
      let ok = await cond();
      for (let i = 0; i < 500 && !ok; i++) {
        await new Promise((r) => setTimeout(r, 10));
        ok = await cond();
      }
      expect(ok, what).toBe(true);
    };
    const worker = testWorker(
      db(),
      clock,
      [
        { kind: startKind, concurrency: WIDE, run: held(startKind) },
        { kind: finishKind, finishesWork: true, run: held(finishKind) },
      ],
      { concurrency: BASE, pollIntervalMs: 10 },
    );
    await enqueueJobs(
      db(),
      Array.from({ length: 8 }, () => ({ kind: finishKind })),
      clock.now(),
    );
    await enqueueJobs(
      db(),
      Array.from({ length: 30 }, () => ({ kind: startKind })),
      clock.now(),
    );
    worker.start();
    try {
      // No backlog known yet: the wide kind takes all its slots, the finishing kind fills its own.
      await until(
        '6 started and 2 finishing at once',
        () => running[startKind] === WIDE && running[finishKind] === BASE,
      );

      // The finishing kind's claim filled every free slot: while it is backlogged, the wide kind
      // drops back to JOB_CONCURRENCY as its jobs end.
      phase = 'backlog';
      letGo(startKind);
      await until('the wide kind back at JOB_CONCURRENCY', () => running[startKind] === BASE);
      for (let i = 0; i < 3; i++) {
        const before = begun[startKind]!;
        letGo(startKind);
        await until(
          'the wide kind refilled',
          () => begun[startKind] === before + BASE && running[startKind] === BASE,
        );
      }
      await new Promise((r) => setTimeout(r, 100)); // a few more claim rounds
      expect(running[startKind]).toBe(BASE);
      expect(peakStartWhileBacklogged).toBe(BASE);

      // The backlog drains (a claim comes back short): the wide kind widens again.
      phase = 'clear';
      holdFinish = false;
      letGo(finishKind);
      await until('every finishing job done', () => running[finishKind] === 0);
      await until('the wide kind widened again', () => running[startKind] === WIDE);
      // A handler's return comes before its job is marked done: poll the rows.
      await until('every finishing job marked done', async () =>
        (await jobsOfKind(finishKind)).every((j) => j.state === 'done'),
      );
    } finally {
      holdFinish = false;
      letGo(finishKind);
      const stopping = worker.stop(5_000);
      for (let i = 0; i < 50 && running[startKind]! > 0; i++) {
        letGo(startKind);
        await new Promise((r) => setTimeout(r, 10));
      }
      letGo(startKind);
      await stopping;
    }
  });

  it('singleton jobs: a second enqueue while one is unfinished is a no-op', async () => {
    await enqueueJobs(db(), [{ kind, singletonKey: `${kind}:1` }], clock.now());
    await enqueueJobs(db(), [{ kind, singletonKey: `${kind}:1` }], clock.now());
    expect(await jobsOfKind()).toHaveLength(1);
    await testWorker(db(), clock, [{ kind, run: async () => undefined }]).drain();
    await enqueueJobs(db(), [{ kind, singletonKey: `${kind}:1` }], clock.now());
    expect(await jobsOfKind()).toHaveLength(2);
  });

  it('graceful stop finishes quick jobs and gives slow ones back without counting the attempt', async () => {
    const slowKind = `${kind}.slow`;
    const worker = testWorker(
      db(),
      clock,
      [
        { kind, run: async () => new Promise((r) => setTimeout(r, 20)) },
        {
          kind: slowKind,
          run: (ctx) =>
            new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
        },
      ],
      { pollIntervalMs: 10 },
    );
    await enqueueJobs(db(), [{ kind }, { kind: slowKind }], clock.now());
    worker.start();
    for (let i = 0; i < 200; i++) {
      const [slow] = await jobsOfKind(slowKind);
      const [quick] = await jobsOfKind();
      if (slow?.state === 'running' && quick?.state === 'done') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await worker.stop(100);
    expect((await jobsOfKind())[0]).toMatchObject({ state: 'done' });
    expect((await jobsOfKind(slowKind))[0]).toMatchObject({ state: 'queued', attempts: 0, leaseToken: null });
  });

  it('two workers on one database never run the same job twice', async () => {
    const seen = new Map<number, number>();
    const handler: JobHandler = {
      kind,
      run: async (ctx) => {
        seen.set(ctx.job.id, (seen.get(ctx.job.id) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 1));
      },
    };
    await enqueueJobs(
      db(),
      Array.from({ length: 120 }, () => ({ kind })),
      clock.now(),
    );
    const a = testWorker(db(), clock, [handler], { concurrency: 8 });
    const b = testWorker(db(), clock, [handler], { concurrency: 8 });
    const [ranA, ranB] = await Promise.all([a.drain(), b.drain()]);
    expect(ranA + ranB).toBe(120);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(seen.size).toBe(120);
    const unfinished = await db().select().from(jobs).where(eq(jobs.kind, kind));
    expect(unfinished.every((j) => j.state === 'done')).toBe(true);
  });

  it('leaves workflows alone: claiming joins nothing it should not (sanity of bound jobs without a workflow)', async () => {
    // A bound job whose workflow row was never created is skipped, never run.
    await enqueueJobs(db(), [{ kind, workflow: { id: randomUUID(), version: 1 } }], clock.now());
    let ran = false;
    await testWorker(db(), clock, [{ kind, run: async () => void (ran = true) }]).drain();
    expect(ran).toBe(false);
    expect((await jobsOfKind())[0]?.state).toBe('skipped');
    expect(await db().select().from(workflows).where(eq(workflows.kind, kind))).toHaveLength(0);
  });

  it("a claim returns each job row as stored, leased, with its workflow's current version; finishing keeps or sets last_error", async () => {
    const wf = await createWorkflow(db(), {
      id: randomUUID(),
      kind,
      subjectKey: 'claim-shape',
      state: 'a',
      audit: { reason: 'r', actor: 'a' },
      now: clock.now(),
    });
    await transition(db(), {
      workflowId: wf.id,
      expectedVersion: 1,
      to: 'b',
      audit: { reason: 'r', actor: 'a' },
      now: clock.now(),
    });
    const other = `${kind}.other`;
    await enqueueJobs(
      db(),
      [
        { kind, payload: { n: 1 }, workflow: { id: wf.id, version: 1 }, maxAttempts: 4 },
        { kind, payload: { n: 2 } },
        { kind, payload: { n: 3 }, workflow: { id: randomUUID(), version: 1 } },
        { kind: other, payload: { n: 4 } },
      ],
      clock.now(),
      'corr-claim',
    );
    const claimed = await claimJobsOfKinds(db(), {
      limits: [
        { kind, limit: 2 },
        { kind: other, limit: 0 },
      ],
      owner: 'w1',
      now: clock.now(),
      leaseMs: 30_000,
    });
    // The two oldest of the kind; a claim's rows come back in no particular order.
    claimed.sort((a, b) => a.id - b.id);
    expect(claimed.map((j) => j.payload)).toEqual([{ n: 1 }, { n: 2 }]);
    const stored = await jobsOfKind();
    for (const job of claimed) {
      expect(job).toEqual({
        ...stored.find((row) => row.id === job.id),
        currentWorkflowVersion: job.workflowId === null ? null : 2,
      });
      expect(job).toMatchObject({
        state: 'running',
        attempts: 1,
        leaseOwner: 'w1',
        leaseExpiresAt: new Date(clock.now().getTime() + 30_000),
        correlationId: 'corr-claim',
      });
      expect(job.leaseToken).toMatch(/^[0-9a-f-]{36}$/);
    }
    const [third] = await claimJobs(db(), { kind, limit: 5, owner: 'w2', now: clock.now(), leaseMs: 30_000 });
    expect(third).toMatchObject({ payload: { n: 3 }, currentWorkflowVersion: null });
    expect((await jobsOfKind(other))[0]?.state).toBe('queued');

    const [first, second] = claimed as [(typeof claimed)[0], (typeof claimed)[0]];
    await retryJob(db(), first, clock.now(), clock.now(), 'flaky');
    const [again] = await claimJobs(db(), { kind, limit: 1, owner: 'w1', now: clock.now(), leaseMs: 30_000 });
    await completeJob(db(), again!, clock.now());
    await skipJob(db(), second, clock.now(), 'moved on');
    await failJob(db(), third!, clock.now(), 'broken');
    await expect(completeJob(db(), again!, clock.now())).rejects.toBeInstanceOf(LeaseLostError);
    const byPayload = new Map((await jobsOfKind()).map((j) => [(j.payload as { n: number }).n, j]));
    expect(byPayload.get(1)).toMatchObject({
      state: 'done',
      lastError: 'flaky',
      attempts: 2,
      leaseToken: null,
      leaseOwner: null,
      leaseExpiresAt: null,
      finishedAt: clock.now(),
    });
    expect(byPayload.get(2)).toMatchObject({ state: 'skipped', lastError: 'moved on', leaseToken: null });
    expect(byPayload.get(3)).toMatchObject({ state: 'failed', lastError: 'broken', leaseToken: null });
  });
});
