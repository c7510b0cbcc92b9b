import { FakeHttpServer, type Fault, type FakeReply, type RecordedRequest } from './fake-http-server.js';

/**
 * The base of every stateful fake HTTP peer: the fake answers requests in `handle`, and this class
 * runs it on a FakeHttpServer and passes on the server's address, lifecycle, record of requests and
 * injected faults. A fake adds its own state, and its own way of reading what it received.
 */
export abstract class FakePeer {
  readonly server = new FakeHttpServer((request) => this.handle(request));

  protected abstract handle(request: RecordedRequest): FakeReply | Promise<FakeReply>;

  get url(): string {
    return this.server.url;
  }

  /** Every request received, faulted ones included, oldest first. */
  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  /** The next `times` requests get this fault, then normal service resumes. */
  failNext(fault: Fault, times = 1): void {
    this.server.failNext(fault, times);
  }

  /** Every request gets this fault until `heal()`. */
  failAlways(fault: Fault): void {
    this.server.failAlways(fault);
  }

  heal(): void {
    this.server.heal();
  }
}

/** A header's first value (Node gives an array for a repeated header). */
export function headerValue(request: RecordedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
