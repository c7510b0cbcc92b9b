import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionsModule } from '../../../src/collections/collections-module.js';
import { ManualClock } from '../../../src/core/runtime.js';
import {
  eventually,
  startServiceUnderTest,
  type ServiceUnderTest,
} from '../../helpers/service-under-test.js';
import { databaseKind } from '../../helpers/test-database.js';

/**
 * Every curl example of the collections seed's README, posted as written, in the seed's order,
 * and each answer compared with the seed's response: every field the seed shows is there, with
 * the same JSON type (test/data/collections-seed-examples.json holds the examples verbatim).
 *
 * Substitutions, each because the seed's value cannot work on a real service:
 * - the phone +1234567890 has 9 digits after the country code; it is refused as invalid (400),
 *   so a valid number of the same tenant is used;
 * - ids the seed made up (workflow-1234…, resp_789def, pp_456ghi) become the ids this run made;
 * - the retry example (force_retry: false) is sent for the workflow the escalation example just
 *   escalated, which only force_retry may retry: the example's own body is first shown to get 409,
 *   then sent with force_retry: true.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Example = { method: string; path: string; body: Json | null; response: Json };

const { examples } = JSON.parse(
  readFileSync(new URL('../../data/collections-seed-examples.json', import.meta.url), 'utf8'),
) as { examples: Example[] };

const SEED_PHONE = '+1234567890';
const PHONE = '+12125550123';
/** Maps whose keys are data (types, severities, peers), not fields. */
const DATA_KEYED = new Set(['by_type', 'by_severity', 'system_health']);

/** Paths where `ours` lacks a field of `seed`, or has it with another JSON type. */
function shapeDifferences(seed: unknown, ours: unknown, path = '$'): string[] {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (seed === null || ours === null) return [];
  if (kind(seed) !== kind(ours)) return [`${path}: seed ${kind(seed)}, ours ${kind(ours)}`];
  if (Array.isArray(seed) && Array.isArray(ours)) {
    return seed.length > 0 && ours.length > 0 ? shapeDifferences(seed[0], ours[0], `${path}[0]`) : [];
  }
  if (kind(seed) !== 'object') return [];
  const o = ours as Json;
  return Object.entries(seed as Json).flatMap(([key, value]) => {
    if (!(key in o)) return [`${path}.${key}: missing`];
    if (DATA_KEYED.has(key)) return [];
    return shapeDifferences(value, o[key], `${path}.${key}`);
  });
}

describe(`the collections seed's curl examples (${databaseKind})`, () => {
  let sut: ServiceUnderTest;
  const clock = new ManualClock('2025-01-15T15:30:00Z');
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    sut = await startServiceUnderTest({ env: {}, modules: [collectionsModule()], clock });
    const put = await sut.call('PUT', '/tenants/tenant_12345', {
      name: 'Maria Lopez',
      phone_number: PHONE,
      timezone: 'America/New_York',
      amount_owed: 600,
      days_late: 12,
    });
    expect(put.status).toBeLessThan(300);
  });
  afterAll(async () => {
    await sut.stop();
  });

  /** The seed's example with this run's ids and the valid phone. */
  function substitute(text: string): string {
    let out = text.replaceAll(SEED_PHONE, PHONE);
    for (const [seed, ours] of Object.entries(ids)) out = out.replaceAll(seed, ours);
    return out;
  }
  const example = (method: string, path: string) => {
    const found = examples.find((e) => e.method === method && e.path.startsWith(path));
    if (!found) throw new Error(`no seed example ${method} ${path}`);
    return {
      path: substitute(found.path),
      body: found.body ? (JSON.parse(substitute(JSON.stringify(found.body))) as Json) : undefined,
      response: found.response,
    };
  };
  async function send(method: string, path: string, patch: (body: Json) => Json = (b) => b) {
    const e = example(method, path);
    const answer = await sut.call(method, e.path, e.body ? patch(e.body) : undefined);
    return { ...answer, seed: e.response, body: answer.body as Json };
  }
  const status = async () => (await sut.call('GET', '/orchestrate/workflow/conv_abc123/status')).body as Json;

  it('has all thirteen examples of the README', () => {
    expect(examples.map((e) => `${e.method} ${e.path.split('?')[0]}`)).toEqual([
      'GET /health',
      'GET /health/detailed',
      'GET /health/dependencies',
      'POST /orchestrate/sms-received',
      'POST /orchestrate/approve-response',
      'POST /orchestrate/payment-plan-detected',
      'POST /orchestrate/escalate',
      'GET /orchestrate/workflow/conv_abc123/status',
      'POST /orchestrate/retry/workflow-12345678-1234-1234-1234-123456789012',
      'GET /orchestrate/metrics',
      'GET /orchestrate/payment-plans/conv_abc123',
      'GET /orchestrate/payment-plans/pp_456ghi',
      'POST /escalations/trigger',
    ]);
  });

  it.each(['/health', '/health/detailed', '/health/dependencies'])('GET %s', async (path) => {
    const answer = await send('GET', path);
    expect(answer.status).toBe(200);
    // A peer is listed under the seed's name when the seed's adapter is configured
    // (test/integration/peers/peers-wiring.test.ts); this service runs on the offline defaults.
    const seedPeers = ['collections_monitor', 'sms_agent', 'notification_service', 'openai'];
    const seed =
      path === '/health/dependencies'
        ? Object.fromEntries(Object.entries(answer.seed).filter(([k]) => !seedPeers.includes(k)))
        : answer.seed;
    expect(shapeDifferences(seed, answer.body)).toEqual([]);
  });

  it('POST /orchestrate/sms-received', async () => {
    const answer = await send('POST', '/orchestrate/sms-received');
    expect(answer.status).toBe(202);
    expect(shapeDifferences(answer.seed, answer.body)).toEqual([]);
    expect(answer.body.conversation_id).toBe('conv_abc123');
    ids['workflow-12345678-1234-1234-1234-123456789012'] = answer.body.workflow_id;
    clock.advance(3_001);
    await eventually(status, (s) => s.status === 'completed', 'the plan answered');
  });

  it('POST /orchestrate/approve-response', async () => {
    // A text that waits for a manager, so that the seed's approval has an item to decide.
    await sut.call('POST', '/orchestrate/sms-received', {
      tenant_id: 'tenant_12345',
      phone_number: PHONE,
      content: 'I lost my job and cannot pay right now',
      conversation_id: 'conv_abc123',
      timestamp: '2025-01-15T10:31:00Z',
      direction: 'inbound',
    });
    clock.advance(3_001);
    const waiting = await eventually(status, (s) => s.status === 'awaiting_approval', 'a queued draft');
    ids.resp_789def = waiting.metadata.response_queue_id;
    const answer = await send('POST', '/orchestrate/approve-response');
    expect(answer.status).toBe(200);
    expect(shapeDifferences(answer.seed, answer.body)).toEqual([]);
    // The seed's body approves with its own text: that is what is sent.
    expect(answer.body.status).toBe('modified');
    await eventually(status, (s) => s.status === 'completed', 'the approved text sent');
    const messages = (await sut.call('GET', '/conversations/conv_abc123/messages')).body.messages as Json[];
    expect(messages.filter((m) => m.direction === 'out').at(-1)?.body).toContain('$50 per week for 12 weeks');
  });

  it('POST /orchestrate/payment-plan-detected', async () => {
    const answer = await send('POST', '/orchestrate/payment-plan-detected');
    expect(answer.status).toBe(200);
    expect(shapeDifferences(answer.seed, answer.body)).toEqual([]);
    expect(answer.body.validation_details).toMatchObject({
      is_valid: true,
      total_amount: 600,
      covers_debt: true,
    });
    ids.pp_456ghi = answer.body.payment_plan_id;
  });

  it('POST /orchestrate/escalate', async () => {
    const answer = await send('POST', '/orchestrate/escalate');
    expect(answer.status).toBe(200);
    expect(shapeDifferences(answer.seed, answer.body)).toEqual([]);
    expect(answer.body.status).toBe('escalated_processed');
  });

  it('GET /orchestrate/workflow/{conversation_id}/status', async () => {
    const answer = await send('GET', '/orchestrate/workflow/conv_abc123/status');
    expect(answer.status).toBe(200);
    expect(shapeDifferences(answer.seed, answer.body)).toEqual([]);
    // The latest turn is the approved reply; the escalation example named the first turn.
    expect(answer.body.status).toBe('completed');
  });

  it('POST /orchestrate/retry/{workflow_id}', async () => {
    // The seed's workflow id stands for the first turn, which the escalation example escalated.
    const refused = await send('POST', '/orchestrate/retry/');
    expect(refused.status).toBe(409);
    const answer = await send('POST', '/orchestrate/retry/', (b) => ({ ...b, force_retry: true }));
    expect(answer.status).toBe(200);
    expect(shapeDifferences(answer.seed, answer.body)).toEqual([]);
    expect(answer.body.status).toBe('retry_initiated');
    clock.advance(1);
    await eventually(
      async () => (await sut.call('GET', `/orchestrate/workflows/${answer.body.workflow_id}`)).body as Json,
      (w) => w.status === 'awaiting_approval',
      'the forced redraft queued for a manager',
    );
  });

  it('GET /orchestrate/metrics', async () => {
    const answer = await send('GET', '/orchestrate/metrics');
    expect(answer.status).toBe(200);
    expect(shapeDifferences(answer.seed, answer.body)).toEqual([]);
    expect(answer.body.timeframe.sms_metrics.received).toBe(2);
  });

  it('GET /orchestrate/payment-plans/{conversation_id} and /{payment_plan_id}', async () => {
    const list = await send('GET', '/orchestrate/payment-plans/conv_abc123');
    expect(list.status).toBe(200);
    expect(shapeDifferences(list.seed, list.body)).toEqual([]);
    expect(list.body.total_plans).toBeGreaterThanOrEqual(2);
    const one = await send('GET', '/orchestrate/payment-plans/pp_');
    expect(one.status).toBe(200);
    expect(shapeDifferences(one.seed, one.body)).toEqual([]);
    expect(one.body.payment_plan_id).toBe(ids.pp_456ghi);
  });

  it('POST /escalations/trigger', async () => {
    const answer = await send('POST', '/escalations/trigger');
    expect(answer.status).toBe(200);
    expect(shapeDifferences(answer.seed, answer.body)).toEqual([]);
    expect(answer.body).toMatchObject({ status: 'escalation_created', severity: 'high', priority: 'high' });
  });
});
