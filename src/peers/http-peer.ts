import { NonRetriableError, parseRetryAfter, RetryAfterError } from '../core/retry-errors.js';
import { PeerUnavailableError, type PeerGuard } from './resilience.js';

/**
 * HTTP calls to a peer, with one classification of answers for every HTTP adapter:
 * - 2xx: the answer;
 * - 429, or 503 with Retry-After: RetryAfterError (the header, else 30 s for 429);
 * - 408, 425, 5xx, and network errors: retriable (PeerUnavailableError);
 * - any other 4xx: NonRetriableError — asking again cannot help.
 */

export type PeerRequest = {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** A JSON value (sent as application/json) or a ready body (form, raw). */
  json?: unknown;
  body?: string | URLSearchParams;
};

export class PeerHttpError extends Error {
  constructor(
    readonly peer: string,
    readonly status: number,
    readonly responseBody: string,
  ) {
    super(`${peer} answered HTTP ${status}${responseBody ? `: ${responseBody.slice(0, 200)}` : ''}`);
    this.name = 'PeerHttpError';
  }
}

const DEFAULT_429_WAIT_MS = 30_000;

/** Throws the right retry class for a non-2xx answer. `body` is the answer's text. */
export function classifyHttpFailure(
  peer: string,
  status: number,
  headers: Headers,
  body: string,
  now = new Date(),
): Error {
  const cause = new PeerHttpError(peer, status, body);
  const retryAfter = parseRetryAfter(headers.get('retry-after'), now);
  if (status === 429 || (status === 503 && retryAfter !== undefined)) {
    return new RetryAfterError(cause.message, retryAfter ?? DEFAULT_429_WAIT_MS, { cause });
  }
  if (status === 408 || status === 425 || status >= 500) {
    return new PeerUnavailableError(cause.message, { cause });
  }
  return new NonRetriableError(cause.message, { cause });
}

/** One HTTP call through the peer's guard; resolves with the 2xx response body as text. */
export async function requestText(
  guard: PeerGuard,
  request: PeerRequest,
  signal?: AbortSignal,
): Promise<{ status: number; headers: Headers; text: string }> {
  return guard.call(async (inner) => {
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    let body: string | URLSearchParams | undefined = request.body;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    }
    let response: Response;
    try {
      response = await fetch(request.url, {
        method: request.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        ...(body === undefined ? {} : { body }),
        signal: inner,
        redirect: 'error',
      });
    } catch (error) {
      if (inner.aborted) throw error;
      throw new PeerUnavailableError(`${guard.name}: ${describeNetworkError(error)}`, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) throw classifyHttpFailure(guard.name, response.status, response.headers, text);
    return { status: response.status, headers: response.headers, text };
  }, signal);
}

/** As requestText, parsing a JSON answer; a 2xx that is not JSON is retriable (a proxy's error page). */
export async function requestJson<T = unknown>(
  guard: PeerGuard,
  request: PeerRequest,
  signal?: AbortSignal,
): Promise<T> {
  const { text } = await requestText(guard, request, signal);
  if (text.trim() === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new PeerUnavailableError(`${guard.name} answered with something that is not JSON`, {
      cause: error,
    });
  }
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return 'network error';
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ? `${error.message} (${cause.code})` : error.message;
}
