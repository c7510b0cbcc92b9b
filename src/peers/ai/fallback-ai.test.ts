import { describe, expect, it } from 'vitest';
import { NonRetriableError } from '../../core/retry-errors.js';
import { createPeerGuard, PeerUnavailableError } from '../resilience.js';
import type { AiPort, DraftRequest, DraftResult } from './ai-port.js';
import { withAiFallback } from './fallback-ai.js';

const request: DraftRequest = {
  kind: 'collections_reply',
  conversation: [{ role: 'tenant', text: 'how much do I owe?' }],
  ledger: { tenantName: 'Ana', amountOwed: 1200, daysLate: 10 },
  today: '2026-01-15',
};

const template: DraftResult = {
  text: 'Hi Ana, your balance is $1200.00.',
  confidence: 0.9,
  intent: 'balance_question',
  flags: [],
  model: 'rules-v1',
  usage: { inputTokens: 0, outputTokens: 0 },
};

const rules: AiPort = { name: 'rules', draft: async () => template };

function llm(guard: ReturnType<typeof createPeerGuard>, error: Error): AiPort {
  return { name: 'openai', draft: (_r, signal) => guard.call(() => Promise.reject(error), signal) };
}

describe('withAiFallback', () => {
  const newGuard = () =>
    createPeerGuard({
      name: 'openai',
      timeoutMs: 1000,
      maxConcurrency: 2,
      breakerThreshold: 2,
      breakerResetMs: 60_000,
    });

  it('throws a passing failure so that the job queue retries the LLM', async () => {
    const guard = newGuard();
    const ai = withAiFallback(llm(guard, new PeerUnavailableError('500')), rules, guard);
    await expect(ai.draft(request, new AbortController().signal)).rejects.toBeInstanceOf(
      PeerUnavailableError,
    );
  });

  it('answers from the templates, flagged, once the breaker is open', async () => {
    const guard = newGuard();
    const ai = withAiFallback(llm(guard, new PeerUnavailableError('500')), rules, guard);
    await ai.draft(request, new AbortController().signal).catch(() => {});
    const result = await ai.draft(request, new AbortController().signal);
    expect(guard.circuit()).toBe('open');
    expect(result.text).toBe(template.text);
    expect(result.flags).toEqual(['ai_fallback', 'ai_circuit_open']);
  });

  it('answers from the templates when the provider refuses for good', async () => {
    const guard = newGuard();
    const ai = withAiFallback(llm(guard, new NonRetriableError('401 invalid key')), rules, guard);
    const result = await ai.draft(request, new AbortController().signal);
    expect(result.flags).toContain('ai_refused');
  });
});
