import { describe, expect, it } from 'vitest';
import { degradationMode, type DependencyStatus } from './dependency-registry.js';

const up = (role: DependencyStatus['role'], extra: Partial<DependencyStatus> = {}): DependencyStatus => ({
  healthy: true,
  critical: role === 'database',
  role,
  ...extra,
});
const down = (role: DependencyStatus['role']): DependencyStatus => ({ ...up(role), healthy: false });

describe('degradationMode', () => {
  it.each<[string, Record<string, DependencyStatus>, string]>([
    ['all up', { supabase: up('database'), openai: up('ai'), sms: up('outbound') }, 'full'],
    ['AI down', { supabase: up('database'), openai: down('ai'), sms: up('outbound') }, 'partial'],
    [
      'one of two senders down',
      { supabase: up('database'), sms: down('outbound'), smtp: up('outbound') },
      'partial',
    ],
    [
      'every sender down',
      { supabase: up('database'), sms: down('outbound'), smtp: down('outbound') },
      'emergency',
    ],
    [
      'database read only',
      { supabase: up('database', { readOnly: true }), sms: down('outbound') },
      'read_only',
    ],
    ['database down', { supabase: down('database'), sms: down('outbound') }, 'offline'],
    ['nothing but the database', { supabase: up('database') }, 'full'],
  ])('%s → %s', (_name, statuses, expected) => {
    expect(degradationMode(statuses)).toBe(expected);
  });
});
