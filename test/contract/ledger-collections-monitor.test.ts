import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NonRetriableError } from '../../src/core/retry-errors.js';
import { createCollectionsMonitorLedger } from '../../src/peers/ledger/collections-monitor.js';
import { PeerUnavailableError, type PeerGuard } from '../../src/peers/resilience.js';
import { CollectionsMonitorFake, monitorTenant } from '../fakes/collections-monitor-fake.js';
import {
  BREAKER_THRESHOLD,
  contractGuard,
  expectBreakerOpensAndCloses,
  expectRetriable,
  expectRetryAfterHonoured,
  expectTimesOut,
  failure,
  type ContractPeer,
} from './peer-contract.js';

/** The Collections Monitor adapter over real HTTP against its fake. */

describe('Collections Monitor ledger (contract)', () => {
  const fake = new CollectionsMonitorFake();
  let guard: PeerGuard;
  let invalid: { tenantId: string | undefined; reason: string }[];
  const signal = () => AbortSignal.timeout(10_000);

  const ledger = (withGuard = guard) =>
    createCollectionsMonitorLedger({
      baseUrl: `${fake.url}/`,
      guard: withGuard,
      defaultRegion: 'US',
      now: () => new Date('2025-01-15T10:30:00Z'),
      onInvalidRecord: (problem) => invalid.push(problem),
    });
  const peer: ContractPeer = {
    name: 'collections_monitor',
    fake,
    call: (withGuard) => ledger(withGuard).getTenant('tenant_12345', signal()),
    requestsAtPeer: () => fake.requests.length,
  };

  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  beforeEach(() => {
    fake.heal();
    fake.requests.length = 0;
    invalid = [];
    guard = contractGuard('collections_monitor');
    for (const id of ['tenant_12345', 'tenant_paid', 'tenant/odd id', 'tenant_bad']) fake.removeTenant(id);
    fake.setTenant(monitorTenant({ tenant_id: 'tenant_12345' }));
    fake.setTenant(
      monitorTenant({ tenant_id: 'tenant_paid', phone_number: '+14155550177', amount_owed: 0, days_late: 0 }),
    );
  });

  it('reads a tenant: dollars, days late, paid history only', async () => {
    const tenant = await ledger().getTenant('tenant_12345', signal());
    expect(tenant).toEqual({
      tenantId: 'tenant_12345',
      name: 'Jane Doe',
      phone: '+14155550100',
      timezone: 'America/Los_Angeles',
      amountOwed: 1200,
      tenantPortion: 600,
      daysLate: 15,
      propertyName: 'Maple Court',
      unit: '4B',
      paymentHistory: [{ date: '2025-01-02', amount: 50, method: 'ach' }],
    });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /monitor/tenant/tenant_12345']);
    expect(fake.requests[0]?.headers.accept).toBe('application/json');
  });

  it('escapes the tenant id in the path', async () => {
    fake.setTenant(monitorTenant({ tenant_id: 'tenant/odd id', phone_number: '+14155550150' }));
    expect((await ledger().getTenant('tenant/odd id', signal()))?.tenantId).toBe('tenant/odd id');
    expect(fake.requests[0]?.path).toBe('/monitor/tenant/tenant%2Fodd%20id');
  });

  it('answers undefined for an unknown tenant (404), without counting against the breaker', async () => {
    for (let i = 0; i < BREAKER_THRESHOLD + 2; i++) {
      expect(await ledger().getTenant('nobody', signal())).toBeUndefined();
    }
    expect(guard.circuit()).toBe('closed');
  });

  it('lists delinquent tenants and skips (and reports) a malformed record', async () => {
    fake.setTenant({ tenant_id: 'tenant_bad', tenant_name: 'Bad', phone_number: 'n/a', amount_owed: 5 });
    const tenants = await ledger().listDelinquent(signal());
    expect(tenants.map((t) => t.tenantId)).toEqual(['tenant_12345']);
    expect(invalid).toEqual([
      { tenantId: 'tenant_bad', reason: 'phone_number: missing or not a valid number' },
    ]);
  });

  it('finds a tenant by phone through the delinquent list, then reads its own record', async () => {
    const tenant = await ledger().findTenantByPhone('(415) 555-0100', signal());
    expect(tenant?.tenantId).toBe('tenant_12345');
    expect(fake.requests.map((r) => r.path)).toEqual(['/monitor/delinquent', '/monitor/tenant/tenant_12345']);
  });

  it('does not find a tenant who is not delinquent, nor asks at all for an invalid number', async () => {
    expect(await ledger().findTenantByPhone('+14155550177', signal())).toBeUndefined();
    expect(await ledger().findTenantByPhone('not a number', signal())).toBeUndefined();
    expect(fake.requests.map((r) => r.path)).toEqual(['/monitor/delinquent']);
  });

  it('a 5xx is retriable', () => expectRetriable(peer, { kind: 'status', status: 502 }));

  it('a dropped connection is retriable', async () => {
    fake.failNext({ kind: 'drop' });
    await expect(ledger().listDelinquent(signal())).rejects.toBeInstanceOf(PeerUnavailableError);
  });

  it('a 2xx that is not JSON (a proxy page) is retriable', async () => {
    fake.failNext({ kind: 'status', status: 200, body: '<html>maintenance</html>' });
    await expect(ledger().getTenant('tenant_12345', signal())).rejects.toBeInstanceOf(PeerUnavailableError);
  });

  it('a 4xx other than 404 is non-retriable', async () => {
    fake.failNext({ kind: 'status', status: 401, body: '{"detail":"no"}' });
    await expect(ledger().getTenant('tenant_12345', signal())).rejects.toBeInstanceOf(NonRetriableError);
  });

  it('a malformed tenant is non-retriable and does not open the breaker', async () => {
    fake.setTenant({ tenant_id: 'tenant_bad', tenant_name: 'Bad', phone_number: '+14155550160' });
    for (let i = 0; i < BREAKER_THRESHOLD + 1; i++) {
      const error = await failure(ledger().getTenant('tenant_bad', signal()));
      expect(error).toBeInstanceOf(NonRetriableError);
      expect((error as Error).message).toContain('amount_owed');
    }
    expect(guard.circuit()).toBe('closed');
  });

  it('a delinquent list of the wrong shape is non-retriable', async () => {
    fake.failNext({ kind: 'status', status: 200, body: '{"tenants": "none"}' });
    await expect(ledger().listDelinquent(signal())).rejects.toBeInstanceOf(NonRetriableError);
  });

  it('429 with Retry-After becomes RetryAfterError with the header in ms', () =>
    expectRetryAfterHonoured(peer, { seconds: 7 }));

  it('times out a hanging call', () => expectTimesOut(peer));

  it('opens the breaker after repeated failures, then closes it after the reset', async () => {
    const answer = await expectBreakerOpensAndCloses(peer, { kind: 'status', status: 500 });
    expect(answer).toMatchObject({ tenantId: 'tenant_12345' });
  });
});
