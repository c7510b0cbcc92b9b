import type { FakeReply, RecordedRequest } from './fake-http-server.js';
import { FakePeer } from './fake-peer.js';

/**
 * A stateful fake of Anthropic's Messages API (`POST /v1/messages`) over a real socket.
 *
 * It checks what the real API checks first (`x-api-key`, `anthropic-version`, `model`,
 * `max_tokens`, `messages`) with the real error shape, and answers in the real response shape.
 * Structured output is answered in whichever of the two forms the AI SDK chose for the model:
 * - `output_config.format: {type: "json_schema"}` (native structured output, e.g.
 *   claude-sonnet-4-5): the JSON as one `text` block, `stop_reason: "end_turn"`;
 * - a forced tool (`tool_choice` `{type: "tool"}` or `{type: "any"}`, the SDK's `json` tool for
 *   older models): a `tool_use` block whose `input` is the object, `stop_reason: "tool_use"`.
 *
 * Where it differs from the real peer:
 * - the answer is scripted (`enqueueReply`) or a default draft; the schema is recorded but not
 *   enforced, so a test can make the "model" answer badly;
 * - in tool mode a scripted string that is not a JSON object is sent as a `text` block (the real
 *   API always sends a tool input object when a tool is forced);
 * - token counts are estimated (four characters a token) unless scripted; no streaming, no
 *   thinking blocks, no prompt caching; anthropic-beta headers are recorded, not checked.
 * Faults (5xx, 429 with Retry-After, hangs, slow answers, dropped connections) come from
 * FakePeer: `fake.failNext(...)`.
 */

export type ScriptedMessageReply = {
  /** An object is sent as its JSON (or as the tool input); a string as is. */
  content: unknown;
  stopReason?: 'end_turn' | 'max_tokens' | 'tool_use' | 'refusal';
  usage?: { inputTokens: number; outputTokens: number };
};

export type AnthropicFakeOptions = {
  /** The key accepted in `x-api-key`. */
  apiKey?: string;
  defaultContent?: unknown;
};

export const DEFAULT_DRAFT_CONTENT = {
  text: 'Thanks for your message. A member of our team will follow up shortly.',
  intent: 'other',
  confidence: 0.5,
  plan: null,
} as const;

type MessagesRequest = {
  model: string;
  max_tokens: number;
  system?: unknown;
  messages: { role: string; content: unknown }[];
  tools?: { name: string; input_schema?: unknown }[];
  tool_choice?: { type: 'auto' | 'any' | 'tool' | 'none'; name?: string };
  output_config?: { format?: { type: string; schema?: unknown } };
};

export class AnthropicFake extends FakePeer {
  private readonly queue: ScriptedMessageReply[] = [];
  private readonly apiKey: string;
  private readonly defaultContent: unknown;
  private counter = 0;

  constructor(options: AnthropicFakeOptions = {}) {
    super();
    this.apiKey = options.apiKey ?? 'sk-ant-test-key';
    this.defaultContent = options.defaultContent ?? DEFAULT_DRAFT_CONTENT;
  }

  /** The base URL a client is configured with (the SDK appends `/messages`). */
  get baseUrl(): string {
    return `${this.server.url}/v1`;
  }

  enqueueReply(content: unknown, options: Omit<ScriptedMessageReply, 'content'> = {}): void {
    this.queue.push({ content, ...options });
  }

  get messages(): RecordedRequest[] {
    return this.server.requestsTo('/v1/messages');
  }

  lastBody(): MessagesRequest {
    const last = this.messages.at(-1);
    if (!last) throw new Error('no messages request received');
    return last.json as MessagesRequest;
  }

  protected handle(request: RecordedRequest): FakeReply {
    if (request.method !== 'POST' || request.path !== '/v1/messages') {
      return error(404, 'not_found_error', `Not found: ${request.method} ${request.path}`);
    }
    const key = request.headers['x-api-key'];
    if (key !== this.apiKey) {
      return error(401, 'authentication_error', key ? 'invalid x-api-key' : 'x-api-key header is required');
    }
    if (!request.headers['anthropic-version']) {
      return error(400, 'invalid_request_error', 'anthropic-version: header is required');
    }
    const body = request.json as Partial<MessagesRequest> | undefined;
    if (!body || typeof body.model !== 'string')
      return error(400, 'invalid_request_error', 'model: Field required');
    if (typeof body.max_tokens !== 'number')
      return error(400, 'invalid_request_error', 'max_tokens: Field required');
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return error(400, 'invalid_request_error', 'messages: at least one message is required');
    }
    return this.answer(body as MessagesRequest);
  }

  private answer(body: MessagesRequest): FakeReply {
    const scripted = this.queue.shift() ?? { content: this.defaultContent };
    const text = typeof scripted.content === 'string' ? scripted.content : JSON.stringify(scripted.content);
    const tool = forcedTool(body);
    const input = toolInput(scripted.content);
    this.counter += 1;

    let content: Record<string, unknown>[];
    let stopReason = scripted.stopReason ?? 'end_turn';
    if (tool && input !== undefined) {
      content = [{ type: 'tool_use', id: `toolu_fake${this.counter}`, name: tool, input }];
      stopReason = scripted.stopReason ?? 'tool_use';
    } else {
      content = [{ type: 'text', text }];
    }
    const inputTokens =
      scripted.usage?.inputTokens ?? estimateTokens(JSON.stringify([body.system, body.messages]));
    const outputTokens = scripted.usage?.outputTokens ?? estimateTokens(text);
    return {
      json: {
        id: `msg_fake${this.counter}`,
        type: 'message',
        role: 'assistant',
        model: body.model,
        content,
        stop_reason: stopReason,
        stop_sequence: null,
        usage: {
          input_tokens: inputTokens,
          output_tokens: outputTokens,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        },
      },
    };
  }
}

/** The tool a request forces: by name, or the only tool under `{type: "any"}`. */
function forcedTool(body: MessagesRequest): string | undefined {
  if (!body.tools?.length || !body.tool_choice) return undefined;
  if (body.tool_choice.type === 'tool') return body.tool_choice.name;
  return body.tool_choice.type === 'any' ? body.tools[0]?.name : undefined;
}

function toolInput(content: unknown): Record<string, unknown> | undefined {
  if (typeof content === 'object' && content !== null && !Array.isArray(content)) {
    return content as Record<string, unknown>;
  }
  if (typeof content !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(content);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function error(status: number, type: string, message: string): FakeReply {
  return { status, json: { type: 'error', error: { type, message } } };
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** The system prompt and every message's text, joined, for assertions on what was sent. */
export function messagesPromptText(body: { system?: unknown; messages: { content: unknown }[] }): string {
  const textOf = (value: unknown): string =>
    typeof value === 'string'
      ? value
      : Array.isArray(value)
        ? (value as readonly { text?: unknown }[])
            .map((part) => (typeof part.text === 'string' ? part.text : ''))
            .join('\n')
        : '';
  return [textOf(body.system), ...body.messages.map((m) => textOf(m.content))].join('\n');
}
