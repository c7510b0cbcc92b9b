import type { FakeReply, RecordedRequest } from './fake-http-server.js';
import { FakePeer } from './fake-peer.js';

/**
 * A stateful fake of OpenAI's chat completions API (`POST /v1/chat/completions`, `GET /v1/models`)
 * over a real socket. It also stands in for OpenAI-compatible servers (Ollama, vLLM, llama.cpp),
 * which speak the same API at a base URL ending in `/v1`.
 *
 * It answers the way the real API does for what the AI SDK sends: a JSON draft as the assistant
 * message's `content` when the request asks for `response_format: json_schema` (or `json_object`),
 * or a `tool_calls` entry when the request forces a function tool.
 *
 * Where it differs from the real peer:
 * - the answer is scripted (`enqueueReply`) or a default draft; the JSON schema is recorded but not
 *   enforced, so a test can make the "model" answer badly (strict mode on the real API would not);
 * - token counts are estimated (four characters a token) unless a reply scripts them;
 * - `model` in the answer echoes the request (the real API answers with a dated snapshot id);
 * - no streaming, no `n` > 1, no refusals unless scripted with `refusal`.
 * Faults (5xx, 429 with Retry-After, hangs, slow answers, dropped connections) come from
 * FakePeer: `fake.failNext(...)`.
 */

export type ScriptedChatReply = {
  /** An object is sent as its JSON; a string as is (for malformed answers). */
  content: unknown;
  finishReason?: 'stop' | 'length' | 'content_filter' | 'tool_calls';
  usage?: { promptTokens: number; completionTokens: number };
  /** A refusal instead of content, as the real API sends for refused structured outputs. */
  refusal?: string;
};

export type OpenAiFakeOptions = {
  /** The key the fake accepts as `Authorization: Bearer`; null accepts any or none (Ollama). */
  apiKey?: string | null;
  /** Model ids listed by GET /v1/models. */
  models?: string[];
  /** Answered when no reply is queued. */
  defaultContent?: unknown;
};

export const DEFAULT_DRAFT_CONTENT = {
  text: 'Thanks for your message. A member of our team will follow up shortly.',
  intent: 'other',
  confidence: 0.5,
  plan: null,
} as const;

type ChatMessage = { role: string; content: unknown };
type ChatRequest = {
  model: string;
  messages: ChatMessage[];
  response_format?: { type: string; json_schema?: { name?: string; schema?: unknown; strict?: boolean } };
  tools?: { type: string; function: { name: string } }[];
  tool_choice?: string | { type: string; function?: { name: string } };
};

export class OpenAiFake extends FakePeer {
  private readonly queue: ScriptedChatReply[] = [];
  private readonly apiKey: string | null;
  private readonly models: string[];
  private readonly defaultContent: unknown;
  private counter = 0;

  constructor(options: OpenAiFakeOptions = {}) {
    super();
    this.apiKey = options.apiKey === undefined ? 'sk-test-key' : options.apiKey;
    this.models = options.models ?? ['gpt-5-mini'];
    this.defaultContent = options.defaultContent ?? DEFAULT_DRAFT_CONTENT;
  }

  /** The base URL a client is configured with (OpenAI's SDKs expect the `/v1`). */
  get baseUrl(): string {
    return `${this.server.url}/v1`;
  }

  /** Queues the next answer; `content` as an object is sent as JSON, a string as is. */
  enqueueReply(content: unknown, options: Omit<ScriptedChatReply, 'content'> = {}): void {
    this.queue.push({ content, ...options });
  }

  /** Every chat completion request received, faults included, oldest first. */
  get completions(): RecordedRequest[] {
    return this.server.requestsTo('/v1/chat/completions');
  }

  /** The parsed body of the latest chat completion request. */
  lastBody(): ChatRequest {
    const last = this.completions.at(-1);
    if (!last) throw new Error('no chat completion request received');
    return last.json as ChatRequest;
  }

  protected handle(request: RecordedRequest): FakeReply {
    const unauthorized = this.checkAuth(request);
    if (unauthorized) return unauthorized;
    if (request.method === 'GET' && request.path === '/v1/models') {
      return {
        json: {
          object: 'list',
          data: this.models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'fake' })),
        },
      };
    }
    if (request.method === 'POST' && request.path === '/v1/chat/completions') return this.complete(request);
    return error(
      404,
      `Unknown request URL: ${request.method} ${request.path}`,
      'invalid_request_error',
      'unknown_url',
    );
  }

  private checkAuth(request: RecordedRequest): FakeReply | undefined {
    if (this.apiKey === null) return undefined;
    const header = request.headers.authorization;
    if (header === `Bearer ${this.apiKey}`) return undefined;
    const message = header
      ? 'Incorrect API key provided.'
      : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.";
    return error(401, message, 'invalid_request_error', 'invalid_api_key');
  }

  private complete(request: RecordedRequest): FakeReply {
    const body = request.json as Partial<ChatRequest> | undefined;
    if (!body || typeof body.model !== 'string') {
      return error(400, 'you must provide a model parameter', 'invalid_request_error', null);
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return error(400, "'messages' must contain at least one message", 'invalid_request_error', null);
    }
    const scripted = this.queue.shift() ?? { content: this.defaultContent };
    const text = typeof scripted.content === 'string' ? scripted.content : JSON.stringify(scripted.content);
    const forcedTool = forcedFunction(body as ChatRequest);
    this.counter += 1;

    let message: Record<string, unknown>;
    let finishReason = scripted.finishReason ?? 'stop';
    if (scripted.refusal !== undefined) {
      message = { role: 'assistant', content: null, refusal: scripted.refusal, annotations: [] };
    } else if (forcedTool) {
      message = {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          { id: `call_${this.counter}`, type: 'function', function: { name: forcedTool, arguments: text } },
        ],
        annotations: [],
      };
      finishReason = scripted.finishReason ?? 'tool_calls';
    } else {
      message = { role: 'assistant', content: text, refusal: null, annotations: [] };
    }
    const promptTokens = scripted.usage?.promptTokens ?? estimateTokens(JSON.stringify(body.messages));
    const completionTokens = scripted.usage?.completionTokens ?? estimateTokens(text);
    return {
      json: {
        id: `chatcmpl-fake${this.counter}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
        },
        system_fingerprint: 'fp_fake',
      },
    };
  }
}

/** The function a request forces the model to call, if any. */
function forcedFunction(body: ChatRequest): string | undefined {
  if (!body.tools?.length || body.tool_choice === undefined) return undefined;
  if (typeof body.tool_choice === 'object') return body.tool_choice.function?.name;
  return body.tool_choice === 'required' ? body.tools[0]?.function.name : undefined;
}

function error(status: number, message: string, type: string, code: string | null): FakeReply {
  return { status, json: { error: { message, type, param: null, code } } };
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** The text of every message of a chat request, joined, for assertions on what was sent. */
export function chatPromptText(body: { messages: ChatMessage[] }): string {
  return body.messages
    .map((m) =>
      typeof m.content === 'string'
        ? m.content
        : Array.isArray(m.content)
          ? (m.content as readonly { text?: unknown }[])
              .map((part) => (typeof part.text === 'string' ? part.text : ''))
              .join('')
          : '',
    )
    .join('\n');
}
