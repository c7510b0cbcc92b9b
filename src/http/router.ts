import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './app-env.js';
import { validationProblem } from './problem.js';

/** Every router validates with zod and answers a failed validation with a 400 problem naming each field. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return validationProblem(c, result.error, result.target);
      return undefined;
    },
  });
}

/** OpenAPI fragments shared by routes. */
export const problemContent = {
  'application/problem+json': {
    schema: {
      type: 'object' as const,
      properties: {
        type: { type: 'string' as const },
        title: { type: 'string' as const },
        status: { type: 'integer' as const },
        detail: { type: 'string' as const },
        instance: { type: 'string' as const },
        correlation_id: { type: 'string' as const },
      },
    },
  },
};

export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [s, { description: 'Problem details (RFC 9457)', content: problemContent }]),
  );

export const bearerSecurity = [{ bearerAuth: [] }];
