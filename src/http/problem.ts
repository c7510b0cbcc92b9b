import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { currentCorrelationId } from '../core/runtime.js';

/**
 * RFC 9457 problem details for every error response. Only messages written for the client
 * leave the service; a 5xx says nothing about internals and carries the correlation id.
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export type ProblemBody = {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  correlation_id?: string;
  errors?: { pointer: string; detail: string }[];
  [extension: string]: unknown;
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Throw from a handler to answer with a problem. */
export class HttpProblem extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly detail: string,
    readonly extra: {
      type?: string;
      title?: string;
      headers?: Record<string, string>;
      [k: string]: unknown;
    } = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

export function problemResponse(
  c: Context,
  status: ContentfulStatusCode,
  detail: string | undefined,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  const { type, title, ...rest } = extra;
  const body: ProblemBody = {
    type: (type as string | undefined) ?? 'about:blank',
    title: (title as string | undefined) ?? TITLES[status] ?? 'Error',
    status,
    ...(detail === undefined ? {} : { detail }),
    instance: c.req.path,
    ...rest,
  };
  const correlationId = currentCorrelationId();
  if (correlationId) body.correlation_id = correlationId;
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...headers },
  });
}

/** zod issues → problem errors, with JSON pointers into the request part that was wrong. */
export function zodProblemErrors(error: ZodError, part: string): { pointer: string; detail: string }[] {
  return error.issues.map((issue) => ({
    pointer: `/${[part, ...issue.path.map(String)].filter(Boolean).join('/')}`.replace(/^\/body/, ''),
    detail: issue.message,
  }));
}

export function validationProblem(c: Context, error: ZodError, part: string): Response {
  const errors = zodProblemErrors(error, part === 'json' || part === 'form' ? 'body' : part);
  const summary = errors.map((e) => `${e.pointer || '/'}: ${e.detail}`).join('; ');
  return problemResponse(c, 400, `The request ${part === 'json' ? 'body' : part} is invalid: ${summary}`, {
    type: 'https://countersign.dev/problems/validation',
    errors,
  });
}

export function errorMapper(logger: Logger) {
  return (error: Error, c: Context): Response => {
    if (error instanceof HttpProblem) {
      const { headers, ...extra } = error.extra;
      return problemResponse(c, error.status, error.detail, extra, headers ?? {});
    }
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      if (status < 500) {
        const detail =
          status === 415
            ? `Content-Type ${c.req.header('content-type') ?? '(none)'} is not accepted here; send application/json.`
            : status === 400 && /JSON/i.test(error.message)
              ? 'The request body is not valid JSON.'
              : error.message || TITLES[status];
        return problemResponse(c, status, detail);
      }
    }
    if (error instanceof ZodError) return validationProblem(c, error, 'json');
    const dataError = inputDataError(error);
    if (dataError) {
      logger.warn(
        { err: error, path: c.req.path, method: c.req.method },
        'request data refused by the database',
      );
      return problemResponse(c, 400, dataError);
    }
    if (databaseBusy(error)) {
      // No connection in time, or the server went away mid-request: nothing was done; retry.
      logger.warn({ err: error, path: c.req.path, method: c.req.method }, 'database unavailable');
      return problemResponse(
        c,
        503,
        'The service is busy; nothing was done. Try again shortly.',
        {},
        {
          'Retry-After': '1',
        },
      );
    }
    if (clientWentAway(error)) {
      // The client closed the connection mid-body; nobody reads this answer, and it is no fault of ours.
      logger.info({ path: c.req.path, method: c.req.method }, 'client aborted the request body');
      return problemResponse(c, 400, 'The request body ended before its Content-Length.');
    }
    logger.error({ err: error, path: c.req.path, method: c.req.method }, 'unhandled error');
    return problemResponse(
      c,
      500,
      'Something went wrong on our side. Quote the correlation id when you report it.',
    );
  };
}

/**
 * PostgreSQL data exceptions that only a request's own values cause (a NUL character, a number
 * out of range, a value too large to index): the client's fault, so a 400, never a 500. The
 * statement failed, so its transaction wrote nothing.
 */
const INPUT_DATA_ERRORS: Record<string, string> = {
  '22021': 'The request contains a character that cannot be stored (such as NUL, \\u0000).',
  '22P05': 'The request contains a character that cannot be stored (such as NUL, \\u0000).',
  '22003': 'A number in the request is out of range.',
  '22P02': 'A value in the request does not have the expected form.',
  '22007': 'A date or time in the request is invalid.',
  '22008': 'A date or time in the request is out of range.',
  '54000': 'A value in the request is too large to store.',
};

/** The client-facing sentence for a database refusal the request's own values caused, if it is one. */
export function inputDataError(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && INPUT_DATA_ERRORS[code]) return INPUT_DATA_ERRORS[code];
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function clientWentAway(error: Error): boolean {
  return error.message === 'aborted' && (error as { code?: unknown }).code === 'ECONNRESET';
}

/**
 * The database could not be reached for this request, through no fault of its own: the pool gave
 * no connection within connectionTimeoutMillis (src/core/db/database.ts), or the server went away
 * mid-request (a restart or failover: 57P01–57P03, connection exceptions 08xxx). The transaction
 * rolled back, so a retry is safe.
 */
function databaseBusy(error: Error): boolean {
  // Drizzle wraps the driver's error ("Failed query: …") with the original as its cause.
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (
      current.message === 'timeout exceeded when trying to connect' ||
      current.message === 'Connection terminated unexpectedly' ||
      (typeof code === 'string' && (/^57P0[123]$/.test(code) || code.startsWith('08')))
    ) {
      return true;
    }
    current = current.cause;
  }
  return false;
}
