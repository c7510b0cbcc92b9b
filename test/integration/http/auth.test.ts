import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ROLES } from '../../../src/core/auth/token-store.js';
import { readProblem, useTestApp } from '../../helpers/test-app.js';
import { databaseKind } from '../../helpers/test-database.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe(`authentication and roles (${databaseKind})`, () => {
  const t = useTestApp();

  it('answers a request without a token with 401 and a Bearer challenge', async () => {
    for (const authorization of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer  ']) {
      const res = await t.current.request('/admin/tokens', {
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="countersign"');
      expect((await readProblem(res)).detail).toContain('Authorization: Bearer');
    }
  });

  it('answers an unknown token with 401 invalid_token', async () => {
    const res = await t.current.request('/admin/tokens', { as: { token: 'cs_made_up_token_value' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await readProblem(res)).detail).toMatch(/unknown or revoked/);
  });

  it('answers a revoked token with 401', async () => {
    const created = await t.current.request('/admin/tokens', {
      as: 'env-admin',
      json: { name: 'soon-revoked', role: 'manager' },
    });
    expect(created.status).toBe(201);
    const { id, token } = (await created.json()) as { id: string; token: string };
    const revoked = await t.current.request(`/admin/tokens/${id}`, { as: 'admin', method: 'DELETE' });
    expect(revoked.status).toBe(204);

    const res = await t.current.request('/metrics', { as: { token } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    await readProblem(res);

    const again = await t.current.request(`/admin/tokens/${id}`, { as: 'admin', method: 'DELETE' });
    expect(again.status).toBe(404);
  });

  it('lets only admins manage tokens: the other roles get 403', async () => {
    for (const role of ['viewer', 'manager', 'service'] as const) {
      const res = await t.current.request('/admin/tokens', {
        as: role,
        json: { name: `by-${role}`, role: 'admin' },
      });
      expect(res.status, role).toBe(403);
      const problem = await readProblem(res);
      expect(problem.detail).toContain(`The ${role} role may not do this`);
      const list = await t.current.request('/admin/tokens', { as: role });
      expect(list.status, role).toBe(403);
    }
    const { rows } = (await t.current.database.db.execute(
      sql`select count(*)::int as n from api_tokens where name like 'by-%'`,
    )) as { rows: { n: number }[] };
    expect(rows[0]?.n).toBe(0);
  });

  it('accepts API_ADMIN_TOKEN from the environment as an admin', async () => {
    const res = await t.current.request('/admin/tokens', { as: 'env-admin' });
    expect(res.status).toBe(200);
    const { tokens } = (await res.json()) as { tokens: { name: string; role: string }[] };
    expect(tokens.map((x) => x.name)).toEqual(expect.arrayContaining(ROLES.map((r) => `test-${r}`)));
  });

  it('creates a token with POST /admin/tokens that then authenticates with its role', async () => {
    const res = await t.current.request('/admin/tokens', {
      as: 'admin',
      json: { name: '  dashboard viewer  ', role: 'viewer' },
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; name: string; role: string; token: string };
    expect(created).toMatchObject({ name: 'dashboard viewer', role: 'viewer' });
    expect(created.token).toMatch(/^cs_[A-Za-z0-9_-]{43}$/);

    const metrics = await t.current.request('/metrics', { as: { token: created.token } });
    expect(metrics.status).toBe(200);
    const forbidden = await t.current.request('/admin/tokens', { as: { token: created.token } });
    expect(forbidden.status).toBe(403);

    const list = await t.current.request('/admin/tokens', { as: 'admin' });
    const text = await list.text();
    expect(text).toContain(created.id);
    expect(text).not.toContain(created.token);
    expect(text).not.toContain(sha256(created.token));
  });

  it('stores only SHA-256 hashes of tokens, never the tokens', async () => {
    const made: string[] = [];
    for (const role of ROLES) {
      const res = await t.current.request('/admin/tokens', {
        as: 'admin',
        json: { name: `hash-${role}`, role },
      });
      made.push(((await res.json()) as { token: string }).token);
    }
    const plaintexts = [...made, ...Object.values(t.current.tokens), t.current.envAdminToken ?? ''];
    const { rows } = (await t.current.database.db.execute(sql`select * from api_tokens`)) as {
      rows: Record<string, unknown>[];
    };
    expect(rows.length).toBeGreaterThanOrEqual(made.length + ROLES.length);
    for (const row of rows) {
      expect(String(row.token_hash)).toMatch(/^[0-9a-f]{64}$/);
      for (const value of Object.values(row)) {
        const cell = value instanceof Date ? value.toISOString() : String(value);
        for (const plain of plaintexts) expect(cell).not.toContain(plain);
      }
    }
    const hashes = new Set(rows.map((r) => r.token_hash));
    for (const plain of made) expect(hashes.has(sha256(plain))).toBe(true);
    // The environment's admin token lives only in the environment.
    expect(hashes.has(sha256(t.current.envAdminToken ?? ''))).toBe(false);
  });

  it('serves the public paths without a token', async () => {
    const paths = [
      '/health',
      '/health/detailed',
      '/health/dependencies',
      '/livez',
      '/readyz',
      '/docs',
      '/docs/assets/swagger-ui.css',
      '/openapi.json',
    ];
    for (const path of paths) {
      const res = await t.current.request(path);
      expect(res.status, path).toBe(200);
    }
  });

  it('does not open private routes to paths that only look public', async () => {
    for (const path of ['/healthz', '/health-admin/tokens', '/docsadmin', '/metrics']) {
      const res = await t.current.request(path);
      expect(res.status, path).toBe(401);
    }
    const traversal = await t.current.request('/docs/..%2Fadmin/tokens');
    expect(traversal.status).not.toBe(200);
    expect(await traversal.text()).not.toContain('test-admin');
  });

  it('serves Prometheus text at /metrics with route templates, never ids or phone numbers', async () => {
    const unknownId = randomUUID();
    const phone = '+15551234567';
    const email = 'tenant@example.com';
    await t.current.request(`/admin/tokens/${unknownId}`, { as: 'admin', method: 'DELETE' });
    await t.current.request(`/contacts/${encodeURIComponent(phone)}`, { as: 'admin' });
    await t.current.request(`/contacts/${email}?phone=${encodeURIComponent(phone)}`, { as: 'admin' });
    await t.current.request('/livez', { headers: { 'x-correlation-id': unknownId } });

    const unauthenticated = await t.current.request('/metrics');
    expect(unauthenticated.status).toBe(401);

    const res = await t.current.request('/metrics', { as: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('# TYPE countersign_http_requests_total counter');
    expect(text).toMatch(
      /countersign_http_requests_total\{method="DELETE",route="\/admin\/tokens\/:id",status="404"\} \d+$/m,
    );
    expect(text).toMatch(
      /countersign_http_requests_total\{method="GET",route="unmatched",status="404"\} \d+$/m,
    );
    expect(text).toContain('countersign_http_request_duration_seconds_bucket');

    expect(text).not.toContain(unknownId);
    expect(text).not.toContain('5551234567');
    expect(text).not.toContain(email);
    const labelValues = [...text.matchAll(/="([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(labelValues.length).toBeGreaterThan(0);
    for (const value of labelValues) {
      expect(value).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i);
      expect(value).not.toMatch(/\d{7,}/);
      expect(value).not.toContain('@');
    }
  });
});
