import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { withCorrelationId } from '../core/runtime.js';
import type { Metrics } from '../observability/metrics.js';

const CORRELATION_HEADER = 'X-Correlation-ID';
const SAFE_ID = /^[A-Za-z0-9._:\-/=+]{1,128}$/;
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/** Takes the caller's X-Correlation-ID, else the trace id of a W3C traceparent, else makes one. */
export function correlationIdFrom(headers: { get(name: string): string | null | undefined }): string {
  const given = headers.get(CORRELATION_HEADER)?.trim();
  if (given && SAFE_ID.test(given)) return given;
  const trace = headers.get('traceparent')?.trim().toLowerCase().match(TRACEPARENT)?.[1];
  if (trace && !/^0+$/.test(trace)) return trace;
  return randomUUID();
}

/**
 * Runs the rest of the request inside its correlation id (logs, audit rows and jobs pick it up),
 * echoes the id, logs one line per request and records HTTP metrics by route template.
 */
export function requestContext(logger: Logger, metrics: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const correlationId = correlationIdFrom({ get: (n) => c.req.header(n) });
    const started = performance.now();
    await withCorrelationId(correlationId, async () => {
      try {
        await next();
      } finally {
        c.res.headers.set(CORRELATION_HEADER, correlationId);
        const route =
          c.req.routePath && c.req.routePath !== '/*' && c.req.routePath !== '*'
            ? c.req.routePath
            : 'unmatched';
        const seconds = (performance.now() - started) / 1000;
        metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
        metrics.httpDuration.observe({ method: c.req.method, route }, seconds);
        logger.info(
          { method: c.req.method, route, status: c.res.status, ms: Math.round(seconds * 10_000) / 10 },
          'request',
        );
      }
    });
  };
}
