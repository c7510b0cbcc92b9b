import type { FakeReply, RecordedRequest } from '../../test/fakes/fake-http-server.js';
import { OpenAiFake } from '../../test/fakes/openai-fake.js';
import { SmsGatewayFake } from '../../test/fakes/sms-gateway-fake.js';

/**
 * The soak's peers: the test suite's OpenAI and SMS-gateway fakes (real HTTP servers), with what a
 * long run needs on top. The AI fake answers by what the tenant asked (each soak tenant asks one
 * kind of thing) and fails a configurable share of requests with a 500 or by answering after the
 * service's time limit. Both forget the request bodies they record (the test fakes keep every
 * request, which over 60,000 texts is the driver's memory, not the service's), keeping counts.
 */

export type TenantKind = 'auto' | 'approval' | 'escalate';

/** What each kind of tenant texts; the fake's answer follows from it. */
export const TEXTS: Record<TenantKind, string> = {
  auto: 'What is my balance?',
  approval: 'Can I pay on Friday?',
  escalate: 'I am talking to my lawyer about this.',
};

export type AiFaultOptions = {
  /** Share of chat requests answered 500. */
  errorRate: number;
  /** Share answered only after timeoutMs (the service's AI_TIMEOUT_MS is shorter). */
  timeoutRate: number;
  timeoutMs: number;
  /** Added to every answer. */
  latencyMs: number;
};

export class SoakAiFake extends OpenAiFake {
  /** requests: all chat requests; answered: reached the handler (slow ones included). */
  counts = { requests: 0, answered: 0, planned_errors: 0, planned_timeouts: 0 };
  private plan: ('ok' | 'error' | 'timeout')[] = [];

  constructor() {
    super({ apiKey: 'sk-soak-key' });
  }

  /**
   * The fake server takes one queued fault per request, in arrival order, before the handler runs;
   * so the faults are planned ahead, one per request to come (a zero delay for "no fault").
   */
  configure(faults: AiFaultOptions, expectedRequests: number): void {
    this.server.latencyMs = faults.latencyMs;
    for (let i = 0; i < expectedRequests; i += 1) {
      const roll = Math.random();
      const kind =
        roll < faults.errorRate ? 'error' : roll < faults.errorRate + faults.timeoutRate ? 'timeout' : 'ok';
      this.plan.push(kind);
      if (kind === 'error')
        this.failNext({ kind: 'status', status: 500, body: '{"error":{"message":"injected"}}' });
      else if (kind === 'timeout') this.failNext({ kind: 'delay', ms: faults.timeoutMs });
      else this.failNext({ kind: 'delay', ms: 0 });
    }
  }

  /** Requests seen so far, and how many of them were planned to fail. */
  summary(): Record<string, number> {
    const requests = this.counts.requests + this.server.requests.length;
    const used = this.plan.slice(0, requests);
    return {
      requests,
      answered: this.counts.answered,
      injected_errors: used.filter((k) => k === 'error').length,
      injected_timeouts: used.filter((k) => k === 'timeout').length,
    };
  }

  protected override handle(request: RecordedRequest): FakeReply {
    // Counts only: the test fake keeps every request, which over a long run is the driver's memory.
    this.counts.requests += this.server.requests.length;
    this.server.requests.length = 0;
    if (request.path !== '/v1/chat/completions') return super.handle(request);
    this.counts.answered += 1;
    const prompt = JSON.stringify((request.json as { messages?: unknown } | undefined)?.messages ?? '');
    this.enqueueReply(draftFor(prompt));
    return super.handle(request);
  }
}

/** The kind of the tenant's text, from the latest of the soak texts quoted in the prompt. */
function draftFor(prompt: string): Record<string, unknown> {
  const at = (kind: TenantKind) => prompt.lastIndexOf(TEXTS[kind].slice(0, 18));
  const kinds = (Object.keys(TEXTS) as TenantKind[]).sort((a, b) => at(b) - at(a));
  const name = /Tenant name: ([^\\\n]+)/.exec(prompt)?.[1]?.trim() ?? 'there';
  const owed = /Amount owed: (\$[\d,]+\.\d\d)/.exec(prompt)?.[1];
  switch (kinds[0]) {
    case 'auto':
      return {
        text: owed ? `Hi ${name}, you owe ${owed} as of today. Thank you.` : `Hi ${name}, thank you.`,
        intent: 'balance_question',
        confidence: 0.95,
        plan: null,
      };
    case 'approval':
      return {
        text: `Thanks ${name}, we noted the date you gave. A team member will confirm it.`,
        intent: 'promise_to_pay',
        confidence: 0.72,
        plan: null,
      };
    default:
      return {
        text: 'Thanks for letting us know. A team member will follow up with you.',
        intent: 'legal',
        confidence: 0.2,
        plan: null,
      };
  }
}

/** The seed SMS gateway fake; texts and repeats are its record (kept: they are what we check). */
export class SoakSmsFake extends SmsGatewayFake {
  protected override handle(request: RecordedRequest): FakeReply {
    const reply = super.handle(request);
    // Keep the accepted texts (this.texts) and repeats; drop raw request records.
    this.server.requests.length = 0;
    return reply;
  }
}
