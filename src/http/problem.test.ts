import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { testLogger } from '../../test/helpers/silent-logger.js';
import { errorMapper } from './problem.js';

/** How the shared error mapper answers errors that are not ours to call 500s. */
function appThrowing(error: Error) {
  const app = new Hono();
  app.onError(errorMapper(testLogger));
  app.post('/x', () => {
    throw error;
  });
  return app;
}

describe('errorMapper', () => {
  it('answers 503 with Retry-After when no database connection was free in time', async () => {
    // As drizzle throws it: its own error, with the pool's as the cause.
    const wrapped = new Error('Failed query: insert …', {
      cause: new Error('timeout exceeded when trying to connect'),
    });
    const res = await appThrowing(wrapped).request('/x', { method: 'POST' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as { detail: string }).detail).toMatch(/nothing was done/);
  });

  it('answers 503 when the database went away mid-request (a restart)', async () => {
    const restart = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
    });
    const lost = new Error('Failed query: select 2', {
      cause: new Error('Connection terminated unexpectedly'),
    });
    for (const error of [restart, lost]) {
      expect((await appThrowing(error).request('/x', { method: 'POST' })).status).toBe(503);
    }
  });

  it('answers 400 for a value the database refuses, and 500 for anything else', async () => {
    const nul = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
      code: '22021',
    });
    expect((await appThrowing(nul).request('/x', { method: 'POST' })).status).toBe(400);
    expect((await appThrowing(new Error('boom')).request('/x', { method: 'POST' })).status).toBe(500);
  });
});
