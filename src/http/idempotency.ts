import type { MiddlewareHandler } from 'hono';
import type { Db } from '../core/db/database.js';
import {
  claimIdempotencyKey,
  releaseIdempotencyKey,
  requestFingerprint,
  storeIdempotentResponse,
} from '../core/idempotency/idempotency-store.js';
import type { Clock } from '../core/runtime.js';
import type { AppEnv } from './app-env.js';
import { problemResponse } from './problem.js';

const KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * POST with an Idempotency-Key: same key and body → the stored response; same key and another
 * body → 422; the first request still running → 409. Keys are scoped to the caller's token, so
 * two clients cannot collide. A 4xx or 5xx is not stored: the key is released, so a rejected
 * request writes nothing and the client may fix the body and retry with the same key.
 */
export function idempotency(options: { db: Db; clock: Clock; ttlMs: number }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const key = c.req.header('idempotency-key');
    if (key === undefined) return next();
    if (!KEY.test(key)) {
      return problemResponse(c, 400, 'Idempotency-Key must be 1 to 255 visible ASCII characters.');
    }
    const principal = c.get('principal');
    const scope = `${principal?.id ?? 'anonymous'} POST ${c.req.path}`;
    const body = await c.req.text();
    const requestHash = requestFingerprint(c.req.method, c.req.path, body);
    const claim = await claimIdempotencyKey(options.db, {
      scope,
      key,
      requestHash,
      now: options.clock.now(),
      ttlMs: options.ttlMs,
    });
    switch (claim.outcome) {
      case 'mismatch':
        return problemResponse(
          c,
          422,
          'This Idempotency-Key was already used with a different request body.',
        );
      case 'in_progress':
        return problemResponse(
          c,
          409,
          'A request with this Idempotency-Key is still being processed; retry later.',
          {},
          {
            'Retry-After': '1',
          },
        );
      case 'replay':
        return new Response(claim.response.body, {
          status: claim.response.status,
          headers: { ...claim.response.headers, 'Idempotent-Replayed': 'true' },
        });
      case 'claimed':
        break;
    }
    try {
      await next();
    } catch (error) {
      await releaseIdempotencyKey(options.db, scope, key);
      throw error;
    }
    if (c.res.status >= 400) {
      await releaseIdempotencyKey(options.db, scope, key);
      return;
    }
    const responseBody = await c.res.clone().text();
    const headers: Record<string, string> = {};
    const contentType = c.res.headers.get('content-type');
    if (contentType) headers['content-type'] = contentType;
    const location = c.res.headers.get('location');
    if (location) headers.location = location;
    await storeIdempotentResponse(options.db, scope, key, {
      status: c.res.status,
      headers,
      body: responseBody,
    });
  };
}
