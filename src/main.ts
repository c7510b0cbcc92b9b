import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { serve, type ServerType } from '@hono/node-server';
import type { Logger } from 'pino';
import { buildApp, type HttpModule } from './app.js';
import type { Config } from './config/config.js';
import { ensureFirstAdminToken } from './core/auth/token-store.js';
import { openDatabase, type Database } from './core/db/database.js';
import { DependencyRegistry, type DependencyCheck } from './core/health/dependency-registry.js';
import { maintenanceHandler, scheduleMaintenance } from './core/jobs/maintenance.js';
import { JobWorker, type JobHandler } from './core/jobs/job-worker.js';
import { outboxDeliveryHandler, type OutboundChannel, type OutboxObserver } from './core/outbox/outbox.js';
import { randomIds, systemClock, type Clock, type Ids } from './core/runtime.js';
import { WorkflowStore } from './core/workflow/workflow-store.js';
import { answerClientErrorsAsProblems } from './http/client-errors.js';
import { databaseDependency } from './http/health-routes.js';
import { createLogger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { createPeerRuntime, type Peers } from './peers/peers-module.js';
import type { CollectionsRunner } from './collections/collections-runner.js';
import type { EmailReplyRunner } from './email-reply/email-reply-runner.js';

/**
 * The composition root: the only place that picks adapters from config and wires domains,
 * the HTTP edge and the job worker together. Domains arrive as modules (routes, job handlers,
 * outbound channels, dependency checks).
 */
export type ServiceModule = HttpModule & {
  jobs?: readonly JobHandler[];
  channels?: readonly OutboundChannel[];
  /** Told how every outbox send ended, in its transaction (see OutboxObserver). */
  outboxObservers?: readonly OutboxObserver[];
  dependencies?: readonly DependencyCheck[];
  /** Runs once at start, after migrations and before the HTTP server listens (e.g. a first-start account). */
  start?(announce: (line: string) => void): Promise<void>;
};

/** What the core hands each module: its database, clock, ids, logger, metrics and workflow store. */
export type CoreServices = {
  config: Config;
  db: Database['db'];
  clock: Clock;
  ids: Ids;
  logger: Logger;
  metrics: Metrics;
  workflows: WorkflowStore;
  /** The configured adapters of every port (AI, SMS, email, ledger, notices). */
  peers: Peers;
  /** Every module's dependency checks, as /health/dependencies runs them. */
  dependencies: DependencyRegistry;
  /** Call after a transaction that enqueued jobs commits, so this process runs them without waiting for a poll. */
  wakeWorker(): void;
  /**
   * What a domain module offers the others (the dashboard drives the runners through these).
   * A module sets its handle when its factory runs; readers look it up per request.
   */
  handles: ModuleHandles;
};

export type ModuleHandles = {
  collections?: CollectionsRunner;
  emailReply?: EmailReplyRunner;
};

export type ModuleFactory = (core: CoreServices) => ServiceModule;

export type Service = {
  config: Config;
  database: Database;
  logger: Logger;
  worker: JobWorker | undefined;
  port: number | undefined;
  url: string | undefined;
  stop(): Promise<void>;
};

export type StartOptions = {
  clock?: Clock;
  logger?: Logger;
  modules?: readonly ModuleFactory[];
  /** Where the first admin token is printed (stdout by default). */
  announce?: (line: string) => void;
};

export async function startService(config: Config, options: StartOptions = {}): Promise<Service> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.logLevel, service: config.serviceName });
  const announce = options.announce ?? ((line: string) => process.stdout.write(`${line}\n`));
  const startedAt = clock.now();

  const database = await openDatabase({
    url: config.database.url,
    dataDir: config.database.dataDir,
    poolSize: config.database.poolSize,
  });
  try {
    await database.migrate();
  } catch (error) {
    await database.close();
    throw error;
  }
  logger.info({ database: database.kind, role: config.role }, 'database ready');

  if (!config.auth.adminToken) {
    const first = await ensureFirstAdminToken(database.db, clock.now());
    if (first) {
      announce(
        [
          '',
          '================================================================',
          ' First start: an admin API token was created. It is shown once.',
          ` Token: ${first.token}`,
          ' Use it as "Authorization: Bearer <token>"; make others with',
          ' `countersign token create --role manager --name <name>`.',
          '================================================================',
          '',
        ].join('\n'),
      );
    }
  }

  const metrics = createMetrics();
  let worker: JobWorker | undefined;
  const peerRuntime = createPeerRuntime({ config, db: database.db, clock, ids: randomIds, logger, metrics });
  const peersModule: ServiceModule = {
    name: 'peers',
    register(app) {
      for (const module of peerRuntime.http) module.register(app);
    },
    publicPaths: peerRuntime.http.flatMap((m) => m.publicPaths ?? []),
    jobs: peerRuntime.jobs,
    channels: peerRuntime.channels,
    dependencies: peerRuntime.dependencies,
  };
  // Created before the modules, so a module can report on the dependencies (it runs no check until asked).
  const dependencies = new DependencyRegistry();
  const core: CoreServices = {
    config,
    db: database.db,
    clock,
    ids: randomIds,
    logger,
    metrics,
    workflows: new WorkflowStore((kind, to) => metrics.transitions.inc({ kind, to })),
    peers: peerRuntime.peers,
    dependencies,
    wakeWorker: () => worker?.wake(),
    handles: {},
  };
  const modules = [peersModule, ...(options.modules ?? []).map((factory) => factory(core))];
  dependencies.register(databaseDependency(database));
  for (const dep of modules.flatMap((m) => m.dependencies ?? [])) dependencies.register(dep);
  for (const module of modules) await module.start?.(announce);

  if (config.role !== 'api') {
    const channels = new Map(modules.flatMap((m) => m.channels ?? []).map((ch) => [ch.name, ch] as const));
    worker = new JobWorker({
      db: database.db,
      handlers: [
        maintenanceHandler,
        outboxDeliveryHandler({
          channels,
          onOutcome: (ch, outcome) => metrics.outboxSends.inc({ channel: ch, outcome }),
          observers: modules.flatMap((m) => m.outboxObservers ?? []),
        }),
        ...modules.flatMap((m) => m.jobs ?? []),
      ],
      clock,
      logger,
      owner: `${hostname()}:${process.pid}:${randomIds.uuid().slice(0, 8)}`,
      pollIntervalMs: config.jobs.pollIntervalMs,
      leaseMs: config.jobs.leaseMs,
      concurrency: config.jobs.concurrency,
      maxAttempts: config.jobs.maxRetryAttempts + 1,
      backoff: { baseMs: config.jobs.retryBaseDelayMs, maxMs: config.jobs.retryMaxDelayMs },
      onOutcome: (kind, outcome, seconds) => {
        metrics.jobRuns.inc({ kind, outcome });
        metrics.jobDuration.observe({ kind }, seconds);
      },
    });
    await scheduleMaintenance(database.db, clock.now());
    worker.start();
  }
  await peerRuntime.start();

  let server: ServerType | undefined;
  let port: number | undefined;
  if (config.role !== 'worker') {
    const app = buildApp({ config, database, clock, logger, metrics, dependencies, startedAt, modules });
    port = await new Promise<number>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) =>
        resolve(info.port),
      );
      s.once('error', reject);
      answerClientErrorsAsProblems(s as Server);
      server = s;
    });
    logger.info({ port, host: config.host }, `listening on http://${config.host}:${port}`);
  }

  let stopping: Promise<void> | undefined;
  return {
    config,
    database,
    logger,
    worker,
    port,
    url: port === undefined ? undefined : `http://127.0.0.1:${port}`,
    stop() {
      stopping ??= (async () => {
        logger.info('shutting down: no new requests or jobs');
        const closed = server
          ? new Promise<void>((resolve) => server?.close(() => resolve()))
          : Promise.resolve();
        await peerRuntime.stop();
        await worker?.stop(config.jobs.shutdownGraceMs);
        // Idle keep-alive connections would hold close() open; in-flight requests had the grace above.
        (server as { closeIdleConnections?: () => void } | undefined)?.closeIdleConnections?.();
        await Promise.race([closed, new Promise((r) => setTimeout(r, config.jobs.shutdownGraceMs))]);
        await database.close();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}

/**
 * Runs a service until SIGTERM or SIGINT: the first signal stops it gracefully (exit 0), a second
 * exits at once. A signal that arrives while the service is still starting is honoured as soon as
 * it has started, so a slow first start is never killed half-way.
 */
export async function runUntilSignalled(start: () => Promise<Service>): Promise<void> {
  const state: { service?: Service; pending?: string; signals: number } = { signals: 0 };
  const shutdown = (signal: string) => {
    state.signals += 1;
    if (state.signals > 1) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(1);
    }
    const running = state.service;
    if (!running) {
      state.pending = signal;
      return;
    }
    running.logger.info({ signal }, 'signal received');
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        running.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  state.service = await start();
  if (state.pending) {
    state.signals = 0;
    shutdown(state.pending);
  }
}
