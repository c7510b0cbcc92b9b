import { Agent, request as httpRequest } from 'node:http';

/**
 * A small load generator over node:http keep-alive connections.
 *
 * - Fixed rate (open loop): request i is due at start + i / rate, whether or not earlier ones have
 *   been answered; its latency counts from when it was due, so a stall shows as latency and is
 *   not hidden by the generator slowing down (no coordinated omission). Requests beyond
 *   `connections` in flight wait in the agent's queue, and that wait counts too.
 * - Max (closed loop): `connections` loops, each sending its next request when the previous one
 *   was answered, for the duration.
 *
 * autocannon was tried first: its `setupRequest` hook builds each request one request ahead (right
 * after the previous one was written), so it cannot tell when a given request left, which the
 * end-to-end latency needs; the per-request bookkeeping here is what it could not give.
 */

export type Sample = {
  index: number;
  /** Date.now() when the request was due (open loop) or sent (closed loop). */
  dueAt: number;
  /** performance.now() when due / sent, and when answered. */
  dueMono: number;
  doneMono: number;
  status: number;
  body: string;
};

export type DriveOptions = {
  url: string;
  headers: Record<string, string>;
  /** Requests per second; undefined: as fast as `connections` closed loops go. */
  rate: number | undefined;
  seconds: number;
  connections: number;
  /** The body of request `index`. */
  body(index: number): string;
};

export async function drive(options: DriveOptions): Promise<{ samples: Sample[]; seconds: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const target = new URL(options.url);
  const samples: Sample[] = [];
  let index = 0;

  const send = (i: number, dueAt: number, dueMono: number) =>
    new Promise<void>((resolve) => {
      const payload = options.body(i);
      const req = httpRequest(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: {
            ...options.headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            samples.push({
              index: i,
              dueAt,
              dueMono,
              doneMono: performance.now(),
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
            });
            resolve();
          });
        },
      );
      req.on('error', (error) => {
        samples.push({
          index: i,
          dueAt,
          dueMono,
          doneMono: performance.now(),
          status: 0,
          body: String(error),
        });
        resolve();
      });
      req.end(payload);
    });

  const started = performance.now();
  const startedAt = Date.now();
  const endMono = started + options.seconds * 1000;
  const inFlight: Promise<void>[] = [];
  if (options.rate !== undefined) {
    const rate = options.rate;
    const total = Math.round(rate * options.seconds);
    while (index < total) {
      const now = performance.now();
      // Send every request that is due by now; then sleep until the next one is.
      while (index < total && started + (index * 1000) / rate <= now) {
        const dueMono = started + (index * 1000) / rate;
        inFlight.push(send(index, startedAt + (dueMono - started), dueMono));
        index += 1;
      }
      if (index < total) {
        const wait = started + (index * 1000) / rate - performance.now();
        await new Promise((r) => setTimeout(r, Math.max(0, wait)));
      }
    }
  } else {
    await Promise.all(
      Array.from({ length: options.connections }, async () => {
        while (performance.now() < endMono) {
          const i = index;
          index += 1;
          await send(i, Date.now(), performance.now());
        }
      }),
    );
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  samples.sort((a, b) => a.index - b.index);
  return { samples, seconds };
}
