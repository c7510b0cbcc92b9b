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
};

export type DependencyCheck = {
  /** The field name in /health/dependencies (the seed's names: supabase, sms_agent, openai, …). */
  name: string;
  critical: boolean;
  check(signal: AbortSignal): Promise<Omit<DependencyStatus, 'critical'>>;
};

export type DegradationMode = 'full' | 'partial' | 'offline';

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
          return [dep.name, { ...result, critical: dep.critical }];
        } catch (error) {
          return [
            dep.name,
            {
              healthy: false,
              critical: dep.critical,
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
 * full: every dependency answers. partial: an optional peer is down and its work waits or
 * degrades (templates instead of AI, sends queued). offline: a critical dependency (the database)
 * is down and nothing new is accepted.
 */
export function degradationMode(statuses: Record<string, DependencyStatus>): DegradationMode {
  const all = Object.values(statuses);
  if (all.some((s) => s.critical && !s.healthy)) return 'offline';
  if (all.some((s) => !s.healthy)) return 'partial';
  return 'full';
}
