import type { Principal } from '../core/auth/token-store.js';

/** Hono's per-request variables for this service. */
export type AppEnv = { Variables: { principal: Principal } };
