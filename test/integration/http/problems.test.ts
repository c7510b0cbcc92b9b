import { describe, expect, it } from 'vitest';
import type { HttpModule } from '../../../src/app.js';
import { createInboundFixtureModule } from '../../fixtures/inbound-fixture-module.js';
import { PROBLEM_JSON, readProblem, useTestApp, type TestRequestInit } from '../../helpers/test-app.js';
import { databaseKind } from '../../helpers/test-database.js';

const BODY_LIMIT = 1024;
const SECRET_MESSAGE = 'connect ECONNREFUSED 10.0.0.7:5432 password=hunter2 at /srv/countersign/secret.ts';

/** Routes that fail the way real code fails: an unexpected throw, in a handler and in middleware. */
const explodingModule: HttpModule = {
  name: 'test-exploding',
  register(app) {
    app.get('/test/boom', () => {
      throw new Error(SECRET_MESSAGE);
    });
    app.post('/test/boom', async () => {
      throw new TypeError(SECRET_MESSAGE);
    });
  },
};

describe(`problem details at the HTTP edge (${databaseKind})`, () => {
  const t = useTestApp({
    env: { BODY_LIMIT_BYTES: String(BODY_LIMIT) },
    modules: ({ database, clock }) => [
      createInboundFixtureModule({ db: database.db, clock }).module,
      explodingModule,
    ],
  });
  const request = (path: string, init?: TestRequestInit) => t.current.request(path, init);

  it('answers malformed JSON with a 400 that says the body is not valid JSON', async () => {
    const res = await request('/admin/tokens', {
      as: 'admin',
      body: '{"name": "ops", "role": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    expect(problem.detail).toMatch(/not valid JSON/i);
    expect(problem).toMatchObject({ title: 'Bad Request', instance: '/admin/tokens' });
  });

  it('answers a wrong content type with 415 naming the type it got and the one it wants', async () => {
    const res = await request('/admin/tokens', {
      as: 'admin',
      body: 'name=ops&role=viewer',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(415);
    const problem = await readProblem(res);
    expect(problem.detail).toContain('application/x-www-form-urlencoded');
    expect(problem.detail).toContain('application/json');
  });

  it('answers a body with no content type with 415', async () => {
    const res = await request('/admin/tokens', { as: 'admin', body: '{"name":"ops","role":"viewer"}' });
    expect(res.status).toBe(415);
    await readProblem(res);
  });

  it('answers a body over BODY_LIMIT_BYTES with 413, streamed or announced by Content-Length', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(BODY_LIMIT), role: 'viewer' });
    const streamed = await request('/admin/tokens', { as: 'admin', json: JSON.parse(big) });
    expect(streamed.status).toBe(413);
    expect((await readProblem(streamed)).detail).toContain(String(BODY_LIMIT));

    const announced = await request('/admin/tokens', {
      as: 'admin',
      body: big,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) },
    });
    expect(announced.status).toBe(413);
    await readProblem(announced);
  });

  it('accepts a body just under the limit', async () => {
    const res = await request('/admin/tokens', {
      as: 'admin',
      json: { name: 'n'.repeat(100), role: 'viewer' },
    });
    expect(res.status).toBe(201);
  });

  it('names every missing or mistyped field by its JSON pointer', async () => {
    const res = await request('/test/inbound', {
      as: 'service',
      json: { source: 42, text: ['not', 'text'] },
    });
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    const errors = problem.errors as { pointer: string; detail: string }[];
    expect(errors.map((e) => e.pointer).sort()).toEqual(['/key', '/source', '/text']);
    for (const e of errors) expect(e.detail).toEqual(expect.any(String));
    expect(problem.detail).toContain('/source');
    expect(problem.detail).toContain('/key');
  });

  it('names an invalid enum value and an unknown field on token creation', async () => {
    const res = await request('/admin/tokens', {
      as: 'admin',
      json: { name: 'ops', role: 'boss', extra: 1 },
    });
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    const pointers = (problem.errors as { pointer: string }[]).map((e) => e.pointer);
    expect(pointers).toContain('/role');
    expect(problem.type).toBe('https://countersign.dev/problems/validation');
  });

  it('names an invalid path parameter', async () => {
    const res = await request('/admin/tokens/not-a-uuid', { as: 'admin', method: 'DELETE' });
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    expect((problem.errors as { pointer: string }[]).map((e) => e.pointer)).toEqual(['/param/id']);
  });

  it('answers an unknown route with a 404 problem naming it', async () => {
    const res = await request('/no/such/thing', { as: 'admin' });
    expect(res.status).toBe(404);
    const problem = await readProblem(res);
    expect(problem.detail).toContain('GET /no/such/thing');
    expect(problem.instance).toBe('/no/such/thing');
  });

  it('every client error is a problem whose status is the HTTP status, never a 5xx', async () => {
    const cases: [string, TestRequestInit, number][] = [
      ['/admin/tokens', { body: '{', headers: { 'content-type': 'application/json' }, as: 'admin' }, 400],
      ['/admin/tokens', { body: '', headers: { 'content-type': 'application/json' }, as: 'admin' }, 400],
      ['/admin/tokens', { json: null, as: 'admin' }, 400],
      ['/admin/tokens', { json: [], as: 'admin' }, 400],
      ['/admin/tokens', { json: {}, as: 'admin' }, 400],
      ['/admin/tokens', { body: '<xml/>', headers: { 'content-type': 'text/xml' }, as: 'admin' }, 415],
      ['/admin/tokens', { json: { name: 'x'.repeat(2000), role: 'viewer' }, as: 'admin' }, 413],
      ['/admin/tokens', { json: { name: 'ops', role: 'viewer' } }, 401],
      ['/admin/tokens', { json: { name: 'ops', role: 'viewer' }, as: { token: 'cs_nope' } }, 401],
      ['/admin/tokens', { json: { name: 'ops', role: 'viewer' }, as: 'viewer' }, 403],
      ['/test/slow', { json: { n: 1 }, as: 'service', headers: { 'idempotency-key': 'k'.repeat(256) } }, 400],
      ['/admin/tokens/00000000-0000-4000-8000-000000000000', { method: 'DELETE', as: 'admin' }, 404],
      ['/admin/tokens/%E0%A4%A', { method: 'DELETE', as: 'admin' }, 400],
      ['/test/inbound', { json: { source: 's', key: 'k', text: 't' }, as: 'manager' }, 403],
      ['/test/slow', { json: { n: 'one' }, as: 'service' }, 400],
      ['/docs/assets/..%2F..%2Fpackage.json', {}, 404],
      ['/docs/assets/not-there.js', {}, 404],
      ['/health', { method: 'DELETE' }, 404],
      ['/', {}, 401],
      ['/', { as: 'viewer' }, 404],
    ];
    for (const [path, init, status] of cases) {
      const res = await request(path, init);
      const label = `${init.method ?? 'POST/GET'} ${path} ${JSON.stringify(init.headers ?? {})}`;
      expect(res.status, label).toBe(status);
      expect(res.headers.get('content-type'), label).toBe(PROBLEM_JSON);
      const problem = await readProblem(res);
      expect(problem.type, label).toEqual(expect.any(String));
      expect(problem.title, label).toEqual(expect.any(String));
      expect(problem.correlation_id, label).toBe(res.headers.get('x-correlation-id'));
    }
  });

  it('a handler that throws answers 500 with the correlation id and nothing of the error', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const res = await request('/test/boom', {
        method,
        as: 'viewer',
        headers: { 'x-correlation-id': `boom-${method}` },
        ...(method === 'POST' ? { json: { any: 'thing' } } : {}),
      });
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toBe(PROBLEM_JSON);
      const text = await res.text();
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain('ECONNREFUSED');
      expect(text).not.toContain('secret.ts');
      expect(text).not.toMatch(/TypeError|Error:|\bat \S+ \(|"stack"/);
      const problem = JSON.parse(text) as Record<string, unknown>;
      expect(problem).toMatchObject({ status: 500, correlation_id: `boom-${method}` });
      expect(res.headers.get('x-correlation-id')).toBe(`boom-${method}`);
    }
  });
});
