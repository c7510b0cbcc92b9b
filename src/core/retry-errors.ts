/**
 * Errors that carry their retry meaning, so that one place (the job worker) decides between
 * retrying, waiting and giving up. Adapters throw these; anything else counts as retriable.
 */

/** Retrying cannot help: a vendor 4xx, a malformed payload, a rule that forbids the action. */
export class NonRetriableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetriableError';
  }
}

/** The peer said when to come back (429 or 503 with Retry-After). */
export class RetryAfterError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RetryAfterError';
  }
}

/** Parses a Retry-After header (seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(header: string | null | undefined, now: Date): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

export type RetryClass = 'non_retriable' | 'retry_after' | 'retriable';

export function retryClassOf(error: unknown): RetryClass {
  if (error instanceof NonRetriableError) return 'non_retriable';
  if (error instanceof RetryAfterError) return 'retry_after';
  return 'retriable';
}
