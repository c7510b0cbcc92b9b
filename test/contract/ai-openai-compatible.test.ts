import { afterEach, describe, expect, it } from 'vitest';
import { NonRetriableError, retryClassOf } from '../../src/core/retry-errors.js';
import { DraftResult, type DraftRequest } from '../../src/peers/ai/ai-port.js';
import { createLlmAi, LlmOutputError } from '../../src/peers/ai/llm-ai.js';
import type { PeerGuard } from '../../src/peers/resilience.js';
import { chatPromptText, OpenAiFake } from '../fakes/openai-fake.js';
import {
  contractGuard,
  expectBreakerOpensAndCloses,
  expectRetriable,
  expectRetryAfterHonoured,
  expectTimesOut,
  failure,
  type ContractPeer,
} from './peer-contract.js';

/**
 * The OpenAI-compatible adapter (Ollama, vLLM, llama.cpp) against the chat completions fake: a
 * base URL, a local model name, and usually no key at all.
 */

const MODEL = 'llama3.1:8b';
const signal = () => new AbortController().signal;

const collections: DraftRequest = {
  kind: 'collections_reply',
  today: '2025-03-03',
  ledger: { tenantName: 'Ana', amountOwed: 640, daysLate: 9 },
  conversation: [{ role: 'tenant', text: 'how much do I owe?' }],
};

const emailEdit: DraftRequest = {
  kind: 'email_reply',
  email: {
    from: 'kim@example.com',
    subject: 'Keys',
    text: 'Where do I drop the keys?',
    receivedAt: '2025-03-03T09:00:00Z',
  },
  previousDraft: 'Hi Kim, at the front desk.',
  instructions: ['add that the desk closes at 6pm', 'be warmer', 'sign as Jo'],
};

const balanceReply = {
  text: 'Hi Ana, your balance is $640.00 and it is 9 days late.',
  intent: 'balance_question',
  confidence: 0.88,
  plan: null,
};

describe('OpenAI-compatible adapter (chat completions at a base URL) against the fake', () => {
  let fake: OpenAiFake | undefined;
  let invalid: string[] = [];

  const start = async (apiKey: string | null) => {
    fake = await new OpenAiFake({ apiKey, models: [MODEL] }).start();
    return fake;
  };
  const adapter = (server: OpenAiFake, overrides: { apiKey?: string; guard?: PeerGuard } = {}) => {
    invalid = [];
    return createLlmAi({
      provider: 'openai-compatible',
      ...(overrides.apiKey ? { apiKey: overrides.apiKey } : {}),
      model: MODEL,
      baseUrl: server.baseUrl,
      guard: overrides.guard ?? contractGuard('openai-compatible'),
      onInvalidOutput: (_provider, reason) => invalid.push(reason),
    });
  };
  /** A server and the adapter, for the shared scenarios. */
  const peer = (server: OpenAiFake): ContractPeer => ({
    name: 'openai-compatible',
    fake: server,
    call: (guard) => adapter(server, { guard }).draft(collections, signal()),
    requestsAtPeer: () => server.completions.length,
  });

  afterEach(async () => {
    await fake?.stop();
    fake = undefined;
  });

  it('drafts without a key, sending no Authorization (not even OPENAI_API_KEY from the environment)', async () => {
    const server = await start(null);
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = 'sk-real-openai-key-must-not-leak';
    try {
      server.enqueueReply(balanceReply, { usage: { promptTokens: 200, completionTokens: 30 } });
      const result = await adapter(server).draft(collections, signal());

      expect(DraftResult.parse(result)).toMatchObject({
        intent: 'balance_question',
        confidence: 0.88,
        model: MODEL,
        usage: { inputTokens: 200, outputTokens: 30 },
      });
      expect(server.completions[0]?.headers.authorization).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
    const body = server.lastBody();
    expect(body.model).toBe(MODEL);
    expect(body.response_format?.type).toBe('json_schema');
    // Compatible servers get the classic system role, whatever the model's name looks like.
    expect(body.messages.map((m) => m.role)).toEqual(['system', 'user']);
    const sent = chatPromptText(body);
    expect(sent).toContain('how much do I owe?');
    expect(sent).toContain('Amount owed: $640.00');
  });

  it('sends a key as Bearer when one is configured (vLLM --api-key)', async () => {
    const server = await start('local-secret');
    server.enqueueReply(balanceReply);
    await adapter(server, { apiKey: 'local-secret' }).draft(collections, signal());
    expect(server.completions[0]?.headers.authorization).toBe('Bearer local-secret');
  });

  it('sends the email, the previous draft and every instruction for an edit', async () => {
    const server = await start(null);
    server.enqueueReply({
      text: 'Hi Kim! Please leave them at the front desk, open until 6pm. Jo',
      intent: 'other',
      confidence: 0.8,
      plan: null,
    });
    const result = await adapter(server).draft(emailEdit, signal());
    expect(DraftResult.parse(result).intent).toBe('other');
    const sent = chatPromptText(server.lastBody());
    expect(sent).toContain('Where do I drop the keys?');
    expect(sent).toContain('Hi Kim, at the front desk.');
    expect(sent).toContain('1. "add that the desk closes at 6pm"');
    expect(sent).toContain('2. "be warmer"');
    expect(sent).toContain('3. "sign as Jo"');
  });

  it('makes a 500 retriable', async () => {
    await expectRetriable(peer(await start(null)), { kind: 'status', status: 500 });
  });

  it('makes a 401 non-retriable', async () => {
    const server = await start('local-secret');
    const error = await failure(adapter(server, { apiKey: 'wrong' }).draft(collections, signal()));
    expect(error).toBeInstanceOf(NonRetriableError);
  });

  it('honours Retry-After on a 429', async () => {
    await expectRetryAfterHonoured(peer(await start(null)), { seconds: 7 });
  });

  it('gives up on a hung call at the time limit with a PeerTimeoutError', async () => {
    await expectTimesOut(peer(await start(null)));
  });

  it('opens the breaker after consecutive timeouts, fails fast, and closes after a good trial', async () => {
    const server = await start(null);
    server.enqueueReply(balanceReply); // answers the trial call: the timed-out calls never reach the model
    const answer = await expectBreakerOpensAndCloses(peer(server), { kind: 'hang' });
    expect(answer).toMatchObject({ intent: 'balance_question' });
  });

  it('makes malformed model output retriable and counts it', async () => {
    const server = await start(null);
    // Small local models often wrap JSON in prose or a code fence.
    server.enqueueReply('```json\n{"text": "Hi Ana", "intent": "balance_question"}\n```');
    const error = await adapter(server)
      .draft(collections, signal())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmOutputError);
    expect(retryClassOf(error)).toBe('retriable');
    expect(invalid).toEqual(['no_object']);
  });

  it('lists its models like the real server (GET /v1/models)', async () => {
    const server = await start(null);
    const response = await fetch(`${server.baseUrl}/models`);
    expect(await response.json()).toMatchObject({ object: 'list', data: [{ id: MODEL, object: 'model' }] });
  });
});
