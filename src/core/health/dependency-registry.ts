/**
 * Peers report their health here; /health/dependencies shows them in the collections seed's
 * shape (one boolean per dependency, overall_status, degradation_mode). The database is
 * registered by the core; the peers issue registers AI, SMS, ledger and notification adapters.
 */
export type DependencyStatus = {
  healthy: boolean;
  /** Whether the service can work without it (an optional peer down means "partial"). */
  critical?: boolean;
  adapter?: string;
  circuit?: 'closed' | 'open' | 'half_open';
  detail?: string;
  /** What the dependency is for; decides the degradation mode (see degradationMode). */
  role?: DependencyRole;
  /** The database answers but refuses writes (a hot standby, a read-only transaction default). */
  readOnly?: boolean;
};

/** database; outbound = something that carries our texts or emails out; other peers. */
export type DependencyRole = 'database' | 'ai' | 'outbound' | 'inbound' | 'ledger' | 'notify';

export type DependencyCheck = {
  /** The field name in /health/dependencies (the seed's names: supabase, sms_agent, openai, …). */
  name: string;
  critical: boolean;
  role?: DependencyRole;
  check(signal: AbortSignal): Promise<Omit<DependencyStatus, 'critical' | 'role'>>;
};

export class DependencyRegistry {
  private readonly checks = new Map<string, DependencyCheck>();

  register(check: DependencyCheck): void {
    this.checks.set(check.name, check);
  }

  names(): string[] {
    return [...this.checks.keys()];
  }

  async checkAll(timeoutMs = 2000): Promise<Record<string, DependencyStatus>> {
    const entries = await Promise.all(
      [...this.checks.values()].map(async (dep): Promise<[string, DependencyStatus]> => {
        try {
          const result = await dep.check(AbortSignal.timeout(timeoutMs));
          return [dep.name, { ...result, critical: dep.critical, ...(dep.role ? { role: dep.role } : {}) }];
        } catch (error) {
          return [
            dep.name,
            {
              healthy: false,
              critical: dep.critical,
              ...(dep.role ? { role: dep.role } : {}),
              detail: error instanceof Error ? error.name : 'check failed',
            },
          ];
        }
      }),
    );
    return Object.fromEntries(entries);
  }
}

/**
 * What the service can still do, worst first:
 * - offline: a critical dependency (the database) is down; nothing new is accepted.
 * - read_only: the database answers but refuses writes; status and lists are served, nothing is
 *   accepted or changed.
 * - emergency: every outbound channel (SMS and email senders) is down or its breaker open:
 *   inbound texts and mail are still stored and drafted, but nothing can go out; sends wait in
 *   the outbox and go when a channel is back.
 * - partial: some other peer is down and its work degrades or waits (AI down: template replies
 *   that always go to a manager; ledger down: drafts wait; notices queue).
 * - full: every dependency answers.
 */
export type DegradationMode = 'full' | 'partial' | 'read_only' | 'emergency' | 'offline';

export const DEGRADATION_MODES = ['full', 'partial', 'read_only', 'emergency', 'offline'] as const;

export function degradationMode(statuses: Record<string, DependencyStatus>): DegradationMode {
  const all = Object.values(statuses);
  if (all.some((s) => s.critical && !s.healthy)) return 'offline';
  if (all.some((s) => s.readOnly)) return 'read_only';
  const outbound = all.filter((s) => s.role === 'outbound');
  if (outbound.length > 0 && outbound.every((s) => !s.healthy)) return 'emergency';
  if (all.some((s) => !s.healthy)) return 'partial';
  return 'full';
}
