import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/runtime.js';
import { createWorkflow } from '../../../src/core/workflow/workflow-store.js';
import { buildTestApp, TEST_SERVICE_NAME, TEST_VERSION, type TestApp } from '../../helpers/test-app.js';
import { databaseKind, useTestDatabase } from '../../helpers/test-database.js';

const START = '2025-01-15T10:30:00.000Z';

describe(`health, readiness and API reference (${databaseKind})`, () => {
  const database = useTestDatabase();
  const clock = new ManualClock(START);
  let t: TestApp;

  beforeAll(async () => {
    const db = database.current.db;
    const seed = [
      ['test.alpha', 'received'],
      ['test.alpha', 'received'],
      ['test.alpha', 'sent'],
      ['test.beta', 'awaiting_approval'],
    ] as const;
    for (const [kind, state] of seed) {
      await createWorkflow(db, {
        id: randomUUID(),
        kind,
        subjectKey: randomUUID(),
        state,
        audit: { reason: 'seed', actor: 'test' },
        now: clock.now(),
      });
    }
    t = await buildTestApp(database.current, { clock });
    clock.advance(90_500);
  });

  it('GET /health: the seed fields and workflow counts by kind and state', async () => {
    const res = await t.request('/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      status: 'healthy',
      version: TEST_VERSION,
      uptime_seconds: 90,
      timestamp: '2025-01-15T10:31:30.500Z',
      service_name: TEST_SERVICE_NAME,
      workflows: {
        'test.alpha': { received: 2, sent: 1 },
        'test.beta': { awaiting_approval: 1 },
      },
    });
  });

  it('GET /health/detailed: the seed shape with database, external services and memory checks', async () => {
    const res = await t.request('/health/detailed');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      status: 'healthy',
      version: TEST_VERSION,
      uptime_seconds: 90,
      timestamp: '2025-01-15T10:31:30.500Z',
      service_name: TEST_SERVICE_NAME,
      checks: { database: 'healthy', external_services: 'healthy', memory: 'healthy' },
    });
  });

  it('GET /health/dependencies: supabase, overall status and degradation mode', async () => {
    const res = await t.request('/health/dependencies');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      supabase: true,
      overall_status: 'healthy',
      degradation_mode: 'full',
      checked_at: '2025-01-15T10:31:30.500Z',
      details: { supabase: { healthy: true, critical: true, adapter: database.current.kind } },
    });
  });

  it('reports an optional peer that is down as degraded / partial, not as down', async () => {
    const degraded = await buildTestApp(database.current, {
      clock,
      dependencies: [
        {
          name: 'sms_agent',
          critical: false,
          async check() {
            throw new Error('connect ECONNREFUSED 127.0.0.1:9 (peer secret detail)');
          },
        },
        { name: 'openai', critical: false, check: async () => ({ healthy: true, adapter: 'rules' }) },
      ],
    });
    const deps = (await (await degraded.request('/health/dependencies')).json()) as Record<string, unknown>;
    expect(deps).toMatchObject({
      supabase: true,
      sms_agent: false,
      openai: true,
      overall_status: 'degraded',
      degradation_mode: 'partial',
    });
    expect(JSON.stringify(deps)).not.toContain('ECONNREFUSED');
    const detailed = (await (await degraded.request('/health/detailed')).json()) as Record<string, unknown>;
    expect(detailed).toMatchObject({
      status: 'degraded',
      checks: { database: 'healthy', external_services: 'degraded', memory: 'healthy' },
    });
  });

  it('reports a failed critical dependency as offline', async () => {
    const offline = await buildTestApp(database.current, {
      clock,
      dependencies: [
        {
          name: 'supabase',
          critical: true,
          check: async () => ({ healthy: false, detail: 'unreachable' }),
        },
      ],
    });
    const deps = (await (await offline.request('/health/dependencies')).json()) as Record<string, unknown>;
    expect(deps).toMatchObject({ supabase: false, overall_status: 'unhealthy', degradation_mode: 'offline' });
    const detailed = (await (await offline.request('/health/detailed')).json()) as Record<string, unknown>;
    expect(detailed).toMatchObject({ status: 'unhealthy', checks: { database: 'unhealthy' } });
  });

  it('GET /livez and /readyz', async () => {
    const live = await t.request('/livez');
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'alive' });
    const ready = await t.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('GET /openapi.json: OpenAPI 3.1 listing the health and token routes', async () => {
    const res = await t.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, unknown>>;
      components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Countersign', version: TEST_VERSION });
    for (const path of ['/health', '/health/detailed', '/health/dependencies', '/livez', '/readyz']) {
      expect(doc.paths[path]?.get, path).toBeDefined();
    }
    expect(Object.keys(doc.paths['/admin/tokens'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/admin/tokens/{id}']?.delete).toBeDefined();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas).toHaveProperty('TokenInput');
  });

  it('GET /docs: an HTML page whose assets are served locally', async () => {
    const res = await t.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/docs\/assets\/[^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets).toEqual(
      expect.arrayContaining([
        '/docs/assets/swagger-ui-bundle.js',
        '/docs/assets/swagger-ui.css',
        '/docs/assets/init.js',
      ]),
    );
    for (const asset of assets) {
      const a = await t.request(asset);
      expect(a.status, asset).toBe(200);
      expect(a.headers.get('content-type'), asset).toMatch(
        asset.endsWith('.css') ? /^text\/css/ : /^text\/javascript/,
      );
      expect((await a.text()).length, asset).toBeGreaterThan(50);
    }
    const bundle = await (await t.request('/docs/assets/swagger-ui-bundle.js')).text();
    expect(bundle).toContain('SwaggerUIBundle');
    const init = await (await t.request('/docs/assets/init.js')).text();
    expect(init).toContain("'/openapi.json'");
  });
});
