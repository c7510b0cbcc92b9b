import type { FakeReply, RecordedRequest } from './fake-http-server.js';
import { FakePeer } from './fake-peer.js';

/**
 * A stateful fake of the collections seed's Collections Monitor on an ephemeral port:
 *
 *   GET /monitor/tenant/{tenant_id} → 200 <tenant record> | 404 {"detail": "Tenant not found"}
 *   GET /monitor/delinquent         → 200 {"tenants": [<record>, ...], "total": n}
 *
 * Records are stored as the wire JSON (snake_case, dollars), so a test can put in exactly the odd
 * or malformed record it wants to see read. Faults (500s, 429 + Retry-After, hangs, slow answers,
 * dropped connections) come from FakeHttpServer.
 *
 * Where it differs from the real peer (whose answers the seed does not show): no authentication,
 * no paging, and "delinquent" here means amount_owed > 0 and days_late > 0 (or no days_late).
 */

export type MonitorRecord = { tenant_id: string } & Record<string, unknown>;

export class CollectionsMonitorFake extends FakePeer {
  private readonly tenants = new Map<string, MonitorRecord>();

  setTenant(record: MonitorRecord): void {
    this.tenants.set(record.tenant_id, record);
  }

  removeTenant(tenantId: string): void {
    this.tenants.delete(tenantId);
  }

  protected handle(request: RecordedRequest): FakeReply {
    if (request.method === 'GET' && request.path === '/health') return { json: { status: 'healthy' } };
    if (request.method !== 'GET') return { status: 405, json: { detail: 'Method Not Allowed' } };
    if (request.path === '/monitor/delinquent') {
      const tenants = [...this.tenants.values()].filter(isDelinquent);
      return { json: { tenants, total: tenants.length } };
    }
    const match = /^\/monitor\/tenant\/([^/]+)$/.exec(request.path);
    if (!match?.[1]) return { status: 404, json: { detail: 'Not Found' } };
    const record = this.tenants.get(decodeURIComponent(match[1]));
    return record ? { json: record } : { status: 404, json: { detail: 'Tenant not found' } };
  }
}

function isDelinquent(record: MonitorRecord): boolean {
  const owed = Number(record.amount_owed);
  const late = record.days_late;
  return owed > 0 && (typeof late !== 'number' || late > 0);
}

/** A complete, well-formed record in the shape we expect from the real monitor. */
export function monitorTenant(overrides: Partial<MonitorRecord> & { tenant_id: string }): MonitorRecord {
  return {
    tenant_name: 'Jane Doe',
    phone_number: '+14155550100',
    timezone: 'America/Los_Angeles',
    amount_owed: 1200,
    tenant_portion: 600,
    days_late: 15,
    property_name: 'Maple Court',
    unit: '4B',
    payment_history: [
      { payment_date: '2025-01-02T00:00:00Z', amount: 50, status: 'paid', payment_method: 'ach' },
      { payment_date: '2025-01-09T00:00:00Z', amount: 50, status: 'failed', payment_method: 'ach' },
    ],
    ...overrides,
  };
}
