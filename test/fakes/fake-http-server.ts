import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The base of every fake HTTP peer: a real server on an ephemeral port that records each request
 * and can be told to misbehave (fail with a status, answer 429 with Retry-After, hang past the
 * client's time limit, answer slowly, or refuse connections while "down").
 */

export type RecordedRequest = {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
  /** Parsed JSON or form body, when it is one. */
  json?: unknown;
  form?: Record<string, string>;
  at: number;
};

export type Fault =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'retry_after'; seconds: number; status?: 429 | 503 }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  | { kind: 'drop' };

export type FakeReply = { status?: number; json?: unknown; text?: string; headers?: Record<string, string> };

export type FakeHandler = (request: RecordedRequest) => FakeReply | Promise<FakeReply>;

export class FakeHttpServer {
  readonly requests: RecordedRequest[] = [];
  private readonly faults: Fault[] = [];
  private persistentFault: Fault | undefined;
  private server: Server | undefined;
  private readonly open = new Set<ServerResponse>();
  private baseUrl = '';
  /** Added to every answer (a slow peer), after any fault's own delay. */
  latencyMs = 0;
  private held: (() => void)[] | undefined;

  constructor(private readonly handler: FakeHandler) {}

  get url(): string {
    return this.baseUrl;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.release();
    for (const res of this.open) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next `times` requests get this fault, then normal service resumes. */
  failNext(fault: Fault, times = 1): void {
    for (let i = 0; i < times; i += 1) this.faults.push(fault);
  }

  /** Every request gets this fault until `heal()`. */
  failAlways(fault: Fault): void {
    this.persistentFault = fault;
  }

  heal(): void {
    this.persistentFault = undefined;
    this.faults.length = 0;
  }

  /** From now on, answers wait until `release()`: a test can count the calls in flight at once. */
  hold(): void {
    this.held ??= [];
  }

  /** Requests received and not answered because of `hold()`. */
  get waiting(): number {
    return this.held?.length ?? 0;
  }

  /** Answers every held request and stops holding. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const answer of held) answer();
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      at: Date.now(),
    };
    const type = req.headers['content-type'] ?? '';
    if (type.includes('application/json') && body) {
      try {
        recorded.json = JSON.parse(body);
      } catch {
        /* left unparsed: the fake's handler decides */
      }
    }
    if (type.includes('application/x-www-form-urlencoded')) {
      recorded.form = Object.fromEntries(new URLSearchParams(body));
    }
    this.requests.push(recorded);

    const fault = this.faults.shift() ?? this.persistentFault;
    if (fault) {
      if (fault.kind === 'hang') {
        this.open.add(res);
        res.on('close', () => this.open.delete(res));
        return;
      }
      if (fault.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'delay') await sleep(fault.ms);
      if (fault.kind === 'status') {
        res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
        res.end(fault.body ?? JSON.stringify({ error: `injected ${fault.status}` }));
        return;
      }
      if (fault.kind === 'retry_after') {
        res.writeHead(fault.status ?? 429, {
          'content-type': 'application/json',
          'retry-after': String(fault.seconds),
        });
        res.end(JSON.stringify({ error: 'rate limited' }));
        return;
      }
    }
    const held = this.held;
    if (held) await new Promise<void>((resolve) => held.push(resolve));
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    let reply: FakeReply;
    try {
      reply = await this.handler(recorded);
    } catch (error) {
      reply = { status: 500, json: { error: String(error) } };
    }
    const headers: Record<string, string> = { ...reply.headers };
    let payload = reply.text ?? '';
    if (reply.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      payload = JSON.stringify(reply.json);
    }
    res.writeHead(reply.status ?? 200, headers);
    res.end(payload);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
