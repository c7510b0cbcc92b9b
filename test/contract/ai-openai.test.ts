import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

/** The OpenAI adapter against a fake chat completions server, over real HTTP. */

const KEY = 'sk-test-key';
type CrossCheck = NonNullable<Parameters<typeof createLlmAi>[0]['crossCheck']>;
const signal = () => new AbortController().signal;

const collections: DraftRequest = {
  kind: 'collections_reply',
  today: '2025-03-03',
  ledger: {
    tenantName: 'Maria Lopez',
    amountOwed: 1200,
    tenantPortion: 800,
    daysLate: 12,
    lastPayment: { amount: 300, date: '2025-02-01' },
  },
  conversation: [
    { role: 'agent', text: 'Hi Maria, your balance of $1,200.00 is 12 days late.' },
    { role: 'tenant', text: 'I lost hours at work. Can I do $50 a week for 3 months starting Friday?' },
  ],
};

const emailEdit: DraftRequest = {
  kind: 'email_reply',
  ownerName: 'Sam',
  email: {
    from: 'pat@example.com',
    fromName: 'Pat',
    subject: 'Friday meeting',
    text: 'Can we move our meeting to 3pm?',
    receivedAt: '2025-03-03T09:00:00Z',
  },
  previousDraft: 'Hi Pat, 3pm works. Sam',
  instructions: ['say 4pm instead', 'and ask for an agenda'],
};

const planReply = {
  text: 'Thanks Maria. $50 a week for 12 weeks starting Friday is noted; a manager will review and confirm.',
  intent: 'payment_plan',
  confidence: 0.92,
  plan: { amountPerPeriod: 50, frequency: 'weekly', weeks: 12, startDate: '2025-03-07' },
};

describe('OpenAI adapter (chat completions) against the fake', () => {
  let fake: OpenAiFake;
  let invalid: string[];

  const adapter = (overrides: { apiKey?: string; guard?: PeerGuard; crossCheck?: CrossCheck } = {}) =>
    createLlmAi({
      provider: 'openai',
      apiKey: overrides.apiKey ?? KEY,
      model: 'gpt-5-mini',
      baseUrl: fake.baseUrl,
      guard: overrides.guard ?? contractGuard('openai'),
      onInvalidOutput: (_provider, reason) => invalid.push(reason),
      ...(overrides.crossCheck ? { crossCheck: overrides.crossCheck } : {}),
    });
  /** This test's fake and the adapter, for the shared scenarios. */
  const peer = (): ContractPeer => ({
    name: 'openai',
    fake,
    call: (guard) => adapter({ guard }).draft(collections, signal()),
    requestsAtPeer: () => fake.completions.length,
  });

  beforeEach(async () => {
    fake = await new OpenAiFake({ apiKey: KEY }).start();
    invalid = [];
  });
  afterEach(() => fake.stop());

  it('drafts a collections reply with structured output, usage and the conversation and ledger sent', async () => {
    fake.enqueueReply(planReply, { usage: { promptTokens: 321, completionTokens: 45 } });
    const result = await adapter().draft(collections, signal());

    expect(DraftResult.parse(result)).toEqual(result);
    expect(result).toMatchObject({
      text: planReply.text,
      intent: 'payment_plan',
      confidence: 0.92,
      model: 'gpt-5-mini',
      usage: { inputTokens: 321, outputTokens: 45 },
      plan: {
        weeklyAmount: 50,
        weeks: 12,
        startDate: '2025-03-07',
        frequency: 'weekly',
        amountPerPeriod: 50,
      },
    });
    expect(result.flags).toEqual(expect.arrayContaining(['plan_extracted', 'llm_self_report:0.92']));

    const request = fake.completions[0];
    expect(request?.headers.authorization).toBe(`Bearer ${KEY}`);
    const body = fake.lastBody();
    expect(body.model).toBe('gpt-5-mini');
    expect(body.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'draft_reply', strict: true },
    });
    expect(body.response_format?.json_schema?.schema).toMatchObject({
      required: ['text', 'intent', 'confidence', 'plan'],
      additionalProperties: false,
    });
    // gpt-5 models are reasoning models: the SDK sends the system prompt as a developer message.
    expect(body.messages.map((m) => m.role)).toEqual(['developer', 'user']);
    const sent = chatPromptText(body);
    expect(sent).toContain('I lost hours at work. Can I do $50 a week for 3 months starting Friday?');
    expect(sent).toContain('Hi Maria, your balance of $1,200.00 is 12 days late.');
    expect(sent).toContain('Amount owed: $1,200.00');
    expect(sent).toContain('Tenant portion: $800.00');
    expect(sent).toContain('Days late: 12');
    expect(sent).toContain('Last payment: $300.00 on 2025-02-01');
    expect(sent).toContain('2025-03-03');
  });

  it('sends the email, the previous draft and every instruction for an edit', async () => {
    fake.enqueueReply({
      text: 'Hi Pat, 4pm works. Could you send an agenda? Sam',
      intent: 'other',
      confidence: 0.8,
      plan: null,
    });
    const result = await adapter().draft(emailEdit, signal());

    expect(DraftResult.parse(result).text).toBe('Hi Pat, 4pm works. Could you send an agenda? Sam');
    expect(result.plan).toBeUndefined();
    const sent = chatPromptText(fake.lastBody());
    expect(sent).toContain('Can we move our meeting to 3pm?');
    expect(sent).toContain('Subject: Friday meeting');
    expect(sent).toContain('Hi Pat, 3pm works. Sam');
    expect(sent).toContain('1. "say 4pm instead"');
    expect(sent).toContain('2. "and ask for an agenda"');
  });

  it('caps a confident draft that states an amount the ledger does not hold', async () => {
    fake.enqueueReply({ ...planReply, text: 'Maria, pay $999 today.', confidence: 0.99 });
    const result = await adapter().draft(collections, signal());
    expect(result.confidence).toBeLessThanOrEqual(0.3);
    expect(result.flags).toContain('unsupported_amount');
  });

  it('lowers the confidence when the rules engine reads the text differently', async () => {
    fake.enqueueReply(planReply);
    const seen: DraftRequest[] = [];
    const crossCheck: CrossCheck = (request) => {
      seen.push(request);
      return { intent: 'hardship' };
    };
    const result = await adapter({ crossCheck }).draft(collections, signal());
    expect(seen).toEqual([collections]);
    expect(result.confidence).toBe(0.7);
    expect(result.flags).toEqual(
      expect.arrayContaining(['intent_disagreement', 'rules_intent:hardship', 'plan_disagreement']),
    );
  });

  it('makes a 500 retriable', async () => {
    await expectRetriable(peer(), {
      kind: 'status',
      status: 500,
      body: JSON.stringify({ error: { message: 'boom', type: 'server_error' } }),
    });
    expect(fake.completions).toHaveLength(1); // the SDK did not retry on its own
  });

  it('makes a 401 non-retriable', async () => {
    const error = await failure(adapter({ apiKey: 'sk-wrong' }).draft(collections, signal()));
    expect(error).toBeInstanceOf(NonRetriableError);
    expect((error as Error).message).toContain('401');
  });

  it('honours Retry-After on a 429', () => expectRetryAfterHonoured(peer(), { seconds: 7 }));

  it('gives up on a hung call at the time limit with a PeerTimeoutError', () => expectTimesOut(peer()));

  it('opens the breaker after consecutive failures, fails fast, and closes after a good trial', async () => {
    fake.enqueueReply(planReply); // answers the trial call: the failed calls never reach the model
    const answer = await expectBreakerOpensAndCloses(peer(), { kind: 'status', status: 503 });
    expect(answer).toMatchObject({ intent: 'payment_plan' });
  });

  it('makes malformed model output retriable and counts it', async () => {
    const ai = adapter();
    fake.enqueueReply('Sure! Here is a reply: thanks Maria');
    const notJson = await ai.draft(collections, signal()).catch((e: unknown) => e);
    expect(notJson).toBeInstanceOf(LlmOutputError);
    expect(retryClassOf(notJson)).toBe('retriable');

    fake.enqueueReply({ text: 'Hi', intent: 'gibberish', confidence: 3, plan: null });
    const offSchema = await ai.draft(collections, signal()).catch((e: unknown) => e);
    expect(offSchema).toBeInstanceOf(LlmOutputError);

    fake.enqueueReply({ text: '   ', intent: 'other', confidence: 0.9, plan: null });
    const blank = await ai.draft(collections, signal()).catch((e: unknown) => e);
    expect(blank).toBeInstanceOf(LlmOutputError);

    expect(invalid).toEqual(['no_object', 'no_object', 'empty_text']);
  });

  it('makes an answer that is not a chat completion retriable', async () => {
    fake.failNext({ kind: 'status', status: 200, body: '<html>proxy error</html>' });
    const error = await failure(adapter().draft(collections, signal()));
    expect(retryClassOf(error)).toBe('retriable');
  });
});
