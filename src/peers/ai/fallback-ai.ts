import { retryClassOf } from '../../core/retry-errors.js';
import type { PeerGuard } from '../resilience.js';
import type { AiPort, DraftRequest, DraftResult } from './ai-port.js';

/**
 * Nothing is dropped because the AI is down. When the LLM's breaker is open (the AI is down, not
 * just slow once) or the provider refuses us for good (a revoked key, a removed model), the draft
 * comes from the fallback (the rules engine's templates) flagged `ai_fallback`, and the
 * collections routing sends every such draft to a manager. A passing failure is thrown, so the job
 * queue retries the LLM first.
 */
export function withAiFallback(primary: AiPort, fallback: AiPort, guard: PeerGuard): AiPort {
  return {
    name: primary.name,
    async draft(request: DraftRequest, signal: AbortSignal): Promise<DraftResult> {
      try {
        return await primary.draft(request, signal);
      } catch (error) {
        const down = guard.circuit() === 'open' || retryClassOf(error) === 'non_retriable';
        if (!down || signal.aborted) throw error;
        const result = await fallback.draft(request, signal);
        const reason = guard.circuit() === 'open' ? 'ai_circuit_open' : 'ai_refused';
        return { ...result, flags: [...result.flags, 'ai_fallback', reason] };
      }
    },
  };
}
