import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NonRetriableError, retryClassOf } from '../../src/core/retry-errors.js';
import { DraftResult, type DraftRequest } from '../../src/peers/ai/ai-port.js';
import { createLlmAi, LlmOutputError } from '../../src/peers/ai/llm-ai.js';
import { PeerUnavailableError, type PeerGuard } from '../../src/peers/resilience.js';
import { AnthropicFake, messagesPromptText } from '../fakes/anthropic-fake.js';
import {
  contractGuard,
  expectBreakerOpensAndCloses,
  expectRetryAfterHonoured,
  expectTimesOut,
  failure,
  type ContractPeer,
} from './peer-contract.js';

/** The Anthropic adapter against a fake Messages API, over real HTTP. */

const KEY = 'sk-ant-test-key';
/** Has native structured output: the SDK sends output_config.format. */
const NATIVE_MODEL = 'claude-sonnet-4-5';
/** Has not: the SDK forces a `json` tool instead. */
const TOOL_MODEL = 'claude-3-haiku-20240307';
const signal = () => new AbortController().signal;

const collections: DraftRequest = {
  kind: 'collections_reply',
  today: '2025-03-03',
  ledger: { tenantName: 'Dev Patel', amountOwed: 950.5, daysLate: 20, propertyName: 'Elm Court' },
  conversation: [
    { role: 'agent', text: 'Hi Dev, your balance of $950.50 is 20 days late.' },
    { role: 'tenant', text: 'I get paid every other week, I can send $200 biweekly starting next Monday' },
  ],
  previousDraft: 'Thanks Dev, we got your offer.',
  instructions: ['mention the amount owed', 'keep it under 160 characters'],
};

const emailEdit: DraftRequest = {
  kind: 'email_reply',
  email: {
    from: 'lee@example.com',
    subject: 'Invoice 42',
    text: 'Is invoice 42 for $310 paid yet?',
    receivedAt: '2025-03-03T09:00:00Z',
  },
  previousDraft: 'Hi Lee, yes it is paid.',
  instructions: ['say it will be paid on Friday', 'sign as Alex'],
};

const planReply = {
  text: 'Thanks Dev. Your balance is $950.50. We will review $200 every two weeks from Monday and confirm.',
  intent: 'payment_plan',
  confidence: 0.9,
  plan: { amountPerPeriod: 200, frequency: 'biweekly', weeks: null, startDate: '2025-03-10' },
};

describe('Anthropic adapter (Messages API) against the fake', () => {
  let fake: AnthropicFake;
  let invalid: string[];

  const adapter = (overrides: { apiKey?: string; guard?: PeerGuard; model?: string } = {}) =>
    createLlmAi({
      provider: 'anthropic',
      apiKey: overrides.apiKey ?? KEY,
      model: overrides.model ?? NATIVE_MODEL,
      baseUrl: fake.baseUrl,
      guard: overrides.guard ?? contractGuard('anthropic'),
      onInvalidOutput: (_provider, reason) => invalid.push(reason),
    });
  /** This test's fake and the adapter, for the shared scenarios. */
  const peer = (): ContractPeer => ({
    name: 'anthropic',
    fake,
    call: (guard) => adapter({ guard }).draft(collections, signal()),
    requestsAtPeer: () => fake.messages.length,
  });

  beforeEach(async () => {
    fake = await new AnthropicFake({ apiKey: KEY }).start();
    invalid = [];
  });
  afterEach(() => fake.stop());

  it('drafts with native structured output, maps usage, and sends the ledger, draft and every instruction', async () => {
    fake.enqueueReply(planReply, { usage: { inputTokens: 612, outputTokens: 71 } });
    const result = await adapter().draft(collections, signal());

    expect(DraftResult.parse(result)).toEqual(result);
    expect(result).toMatchObject({
      intent: 'payment_plan',
      confidence: 0.9,
      model: NATIVE_MODEL,
      usage: { inputTokens: 612, outputTokens: 71 },
      plan: {
        weeklyAmount: 100,
        weeks: null,
        startDate: '2025-03-10',
        frequency: 'biweekly',
        amountPerPeriod: 200,
      },
    });

    const request = fake.messages[0];
    expect(request?.headers['x-api-key']).toBe(KEY);
    expect(request?.headers['anthropic-version']).toBe('2023-06-01');
    const body = fake.lastBody();
    expect(body.model).toBe(NATIVE_MODEL);
    expect(body.max_tokens).toBe(2048);
    expect(body.output_config?.format?.type).toBe('json_schema');
    expect(body.tools).toBeUndefined();
    const sent = messagesPromptText(body);
    expect(sent).toContain('I get paid every other week, I can send $200 biweekly starting next Monday');
    expect(sent).toContain('Amount owed: $950.50');
    expect(sent).toContain('Property: Elm Court');
    expect(sent).toContain('Previous draft: "Thanks Dev, we got your offer."');
    expect(sent).toContain('1. "mention the amount owed"');
    expect(sent).toContain('2. "keep it under 160 characters"');
  });

  it('drafts through the forced json tool for models without native structured output', async () => {
    fake.enqueueReply(planReply);
    const result = await adapter({ model: TOOL_MODEL }).draft(collections, signal());

    expect(DraftResult.parse(result).plan?.weeklyAmount).toBe(100);
    const body = fake.lastBody();
    expect(body.output_config).toBeUndefined();
    expect(body.tools?.map((t) => t.name)).toEqual(['json']);
    expect(body.tool_choice).toMatchObject({ type: 'any' });
  });

  it('sends the email, the previous draft and every instruction for an edit', async () => {
    fake.enqueueReply({
      text: 'Hi Lee, invoice 42 ($310) will be paid on Friday. Alex',
      intent: 'other',
      confidence: 0.85,
      plan: null,
    });
    const result = await adapter().draft(emailEdit, signal());

    expect(result.flags).not.toContain('unsupported_amount');
    const sent = messagesPromptText(fake.lastBody());
    expect(sent).toContain('Is invoice 42 for $310 paid yet?');
    expect(sent).toContain('Hi Lee, yes it is paid.');
    expect(sent).toContain('1. "say it will be paid on Friday"');
    expect(sent).toContain('2. "sign as Alex"');
  });

  it('makes a 500 and a 529 (overloaded) retriable', async () => {
    const ai = adapter();
    fake.failNext({
      kind: 'status',
      status: 500,
      body: JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'Internal' } }),
    });
    fake.failNext({
      kind: 'status',
      status: 529,
      body: JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    });
    for (let i = 0; i < 2; i += 1) {
      expect(await failure(ai.draft(collections, signal()))).toBeInstanceOf(PeerUnavailableError);
    }
    expect(fake.messages).toHaveLength(2); // the SDK did not retry on its own
  });

  it('makes a 401 non-retriable', async () => {
    const error = await failure(adapter({ apiKey: 'sk-ant-wrong' }).draft(collections, signal()));
    expect(error).toBeInstanceOf(NonRetriableError);
    expect((error as Error).message).toContain('401');
  });

  it('honours Retry-After on a 429', () => expectRetryAfterHonoured(peer(), { seconds: 7 }));

  it('gives up on a hung call at the time limit with a PeerTimeoutError', () => expectTimesOut(peer()));

  it('opens the breaker after consecutive failures, fails fast, and closes after a good trial', async () => {
    fake.enqueueReply(planReply); // answers the trial call: the failed calls never reach the model
    const answer = await expectBreakerOpensAndCloses(peer(), { kind: 'drop' });
    expect(answer).toMatchObject({ intent: 'payment_plan' });
  });

  it('makes malformed model output retriable and counts it, in both structured output modes', async () => {
    fake.enqueueReply('{"text": "Hi Dev", "intent": "payment_pl');
    const truncated = await adapter()
      .draft(collections, signal())
      .catch((e: unknown) => e);
    expect(truncated).toBeInstanceOf(LlmOutputError);
    expect(retryClassOf(truncated)).toBe('retriable');

    fake.enqueueReply({
      text: 'Hi Dev',
      intent: 'payment_plan',
      confidence: 0.9,
      plan: { amountPerPeriod: -5, frequency: 'daily' },
    });
    const offSchema = await adapter({ model: TOOL_MODEL })
      .draft(collections, signal())
      .catch((e: unknown) => e);
    expect(offSchema).toBeInstanceOf(LlmOutputError);

    expect(invalid).toEqual(['no_object', 'no_object']);
  });
});
