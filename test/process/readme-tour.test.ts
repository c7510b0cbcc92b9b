import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllServices, spawnService, useServiceProcesses, waitFor } from '../helpers/spawn-service.js';

/**
 * The README's collections tour, run as written against the built service with nothing
 * configured: the curl calls are read out of README.md, so the README cannot drift from what
 * the service does.
 */
useServiceProcesses('file');

const dataDir = mkdtempSync(join(tmpdir(), 'countersign-readme-'));
afterAll(async () => {
  await killAllServices();
  rmSync(dataDir, { recursive: true, force: true });
});

type Curl = { method: string; path: string; body: unknown };

function readmeCalls(): Curl[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').replace(/\\\n\s*/g, ' ');
  const calls: Curl[] = [];
  for (const line of readme.split('\n')) {
    if (!line.startsWith('curl ')) continue;
    const path = /localhost:8000(\/(?:tenants|orchestrate|conversations)\S*)/.exec(line)?.[1];
    if (!path) continue;
    const body = /-d '(\{.*\})'/.exec(line)?.[1];
    const method = /-X (\w+)/.exec(line)?.[1] ?? 'GET';
    calls.push({ method, path, body: body ? JSON.parse(body) : undefined });
  }
  return calls;
}

describe('the README tour on the embedded defaults', () => {
  it('puts a tenant, takes a text, answers it and lists the conversation', { timeout: 120_000 }, async () => {
    const calls = readmeCalls();
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'PUT /tenants/t1',
      'POST /orchestrate/sms-received',
      'GET /orchestrate/workflow/conv_t1/status',
      'GET /conversations/conv_t1/messages',
    ]);
    const service = spawnService({
      name: 'readme tour',
      env: { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' },
    });
    await service.waitForReady(60_000);
    const token = /Token: (cs_\S+)/.exec(service.stdout())?.[1];
    expect(token, service.describe()).toBeDefined();
    const send = async ({ method, path, body }: Curl) => {
      const response = await fetch(`${service.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const [put, text, status, messages] = calls as [Curl, Curl, Curl, Curl];
    expect((await send(put)).status).toBe(201);
    const taken = await send(text);
    expect(taken.status).toBe(202);
    // The reply is held when it is night in New York; either way the turn leaves processing.
    const settled = await waitFor(
      'the turn decided',
      async () => {
        const s = await send(status);
        return s.body.status === 'processing' ? undefined : s.body;
      },
      { timeoutMs: 30_000 },
    );
    expect(['completed', 'scheduled']).toContain(settled.status);
    expect((settled.metadata as Record<string, unknown>).decision).toBe('auto_send');
    const listed = await waitFor(
      'the reply listed',
      async () => {
        const m = (await send(messages)).body.messages as { direction: string; body: string }[];
        return settled.status === 'scheduled' || m.some((x) => x.direction === 'out') ? m : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(listed[0]).toMatchObject({ direction: 'in', body: 'What is my balance?' });
    await service.stop();
  });
});
