import type { Logger } from 'pino';
import type { PeerConfig } from '../config/config.js';
import type { DependencyCheck, DependencyRole } from '../core/health/dependency-registry.js';
import type { Metrics } from '../observability/metrics.js';
import { createPeerGuard, type CircuitStatus, type PeerGuard } from './resilience.js';

/**
 * Guards for the configured peers, wired to metrics and logs, and the dependency checks that
 * show each one in /health/dependencies.
 */

const CIRCUIT_GAUGE: Record<CircuitStatus, number> = { closed: 0, half_open: 1, open: 2 };

export function makeGuardFactory(deps: { breaker: PeerConfig['breaker']; metrics: Metrics; logger: Logger }) {
  return (name: string, limits: { timeoutMs: number; maxConcurrency: number }): PeerGuard => {
    deps.metrics.peerCircuit.set({ peer: name }, 0);
    return createPeerGuard({
      name,
      timeoutMs: limits.timeoutMs,
      maxConcurrency: limits.maxConcurrency,
      breakerThreshold: deps.breaker.threshold,
      breakerResetMs: deps.breaker.resetMs,
      onCall: (peer, outcome, seconds) => {
        deps.metrics.peerCalls.inc({ peer, outcome });
        deps.metrics.peerCallDuration.observe({ peer }, seconds);
      },
      onCircuit: (peer, state) => {
        deps.metrics.peerCircuit.set({ peer }, CIRCUIT_GAUGE[state]);
        const log =
          state === 'open' ? deps.logger.warn.bind(deps.logger) : deps.logger.info.bind(deps.logger);
        log({ peer, circuit: state }, `circuit of ${peer} is ${state.replace('_', ' ')}`);
      },
    });
  };
}

export type GuardFactory = ReturnType<typeof makeGuardFactory>;

/**
 * A peer is healthy while its breaker is not open and, when it has one, its probe answers
 * (the seed services' GET /health). LLM and Twilio APIs are not probed: a probe would cost money
 * or rate limit; their breaker says what the last calls saw.
 */
export function guardedDependency(input: {
  name: string;
  role: DependencyRole;
  adapter: string;
  guard?: PeerGuard;
  probe?: (signal: AbortSignal) => Promise<void>;
  healthy?: () => boolean;
}): DependencyCheck {
  return {
    name: input.name,
    critical: false,
    role: input.role,
    async check(signal) {
      const circuit = input.guard?.circuit();
      const base = { adapter: input.adapter, ...(circuit ? { circuit } : {}) };
      if (circuit === 'open') return { ...base, healthy: false, detail: 'circuit open' };
      if (input.healthy && !input.healthy()) return { ...base, healthy: false, detail: 'not connected' };
      if (input.probe) {
        try {
          await input.probe(signal);
        } catch (error) {
          return {
            ...base,
            healthy: false,
            detail: error instanceof Error ? error.message.slice(0, 200) : 'probe failed',
          };
        }
      }
      return { ...base, healthy: true };
    },
  };
}

/** GET {baseUrl}/health within the check's time limit; any 2xx is healthy. */
export async function probeHealthEndpoint(baseUrl: string, signal: AbortSignal): Promise<void> {
  const response = await fetch(new URL('/health', baseUrl), { signal, redirect: 'error' });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`GET /health answered ${response.status}`);
}
