import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics. Labels are bounded sets (method, route template, status, job kind,
 * outcome, channel): never an id, a phone number or an email address.
 */
export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'countersign_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'countersign_http_requests_total',
      help: 'HTTP requests by method, route template and status code',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'countersign_http_request_duration_seconds',
      help: 'HTTP request duration by method and route template',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    jobRuns: new Counter({
      name: 'countersign_job_runs_total',
      help: 'Job runs by kind and outcome (done, retry, failed, skipped, lease_lost, released)',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'countersign_job_duration_seconds',
      help: 'Job run duration by kind',
      labelNames: ['kind'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
      registers: [registry],
    }),
    transitions: new Counter({
      name: 'countersign_workflow_transitions_total',
      help: 'Workflow state changes written, by workflow kind and target state',
      labelNames: ['kind', 'to'] as const,
      registers: [registry],
    }),
    outboxSends: new Counter({
      name: 'countersign_outbox_sends_total',
      help: 'Outbound sends by channel and outcome (sent, attempt_failed, failed)',
      labelNames: ['channel', 'outcome'] as const,
      registers: [registry],
    }),
    peerCalls: new Counter({
      name: 'countersign_peer_calls_total',
      help: 'Calls to peers (AI, SMS, SMTP, ledger, notices) by peer and outcome (ok, retriable, retry_after, non_retriable, timeout, rejected)',
      labelNames: ['peer', 'outcome'] as const,
      registers: [registry],
    }),
    peerCallDuration: new Histogram({
      name: 'countersign_peer_call_duration_seconds',
      help: 'Duration of calls to peers, by peer',
      labelNames: ['peer'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    aiInvalidOutputs: new Counter({
      name: 'countersign_ai_invalid_outputs_total',
      help: 'LLM answers that did not parse or fit the draft schema, by provider and reason',
      labelNames: ['provider', 'reason'] as const,
      registers: [registry],
    }),
    peerCircuit: new Gauge({
      name: 'countersign_peer_circuit_state',
      help: 'Circuit breaker state per peer: 0 closed, 1 half open, 2 open',
      labelNames: ['peer'] as const,
      registers: [registry],
    }),
  };
}
