import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Hono } from 'hono';
import type { DashboardEnv } from '../dashboard-env.js';
import { APP_CSS } from './app-css.js';
import { APP_JS } from './app-js.js';

/**
 * Static assets of the dashboard, from node_modules (htmx) or this package, never a CDN. Their
 * URLs carry a hash of the content, so they are cached for a year and a new release is fetched.
 */

const require = createRequire(import.meta.url);

type Asset = { body: string; type: string; version: string };

const version = (body: string) => createHash('sha256').update(body).digest('hex').slice(0, 12);

function asset(body: string, type: string): Asset {
  return { body, type, version: version(body) };
}

const ASSETS: Record<string, Asset> = {
  'htmx.min.js': asset(
    readFileSync(require.resolve('htmx.org/dist/htmx.min.js'), 'utf8'),
    'text/javascript; charset=utf-8',
  ),
  'app.css': asset(APP_CSS, 'text/css; charset=utf-8'),
  'app.js': asset(APP_JS, 'text/javascript; charset=utf-8'),
  // Linked from every page, so that browsers do not ask for /favicon.ico (an API path that wants a token).
  'favicon.svg': asset(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#16324f"/><path d="M4 8.5l2.5 2.5L12 5" stroke="#fff" stroke-width="2" fill="none"/></svg>',
    'image/svg+xml',
  ),
};

/** The URL of an asset, with its content version. */
export function assetUrl(name: 'htmx.min.js' | 'app.css' | 'app.js' | 'favicon.svg'): string {
  return `/dashboard/assets/${name}?v=${ASSETS[name]?.version ?? '0'}`;
}

export function registerAssets(app: Hono<DashboardEnv>): void {
  app.get('/assets/:name', (c) => {
    const found = ASSETS[c.req.param('name')];
    if (!found) return c.text('There is no such asset.', 404);
    return c.body(found.body, 200, {
      'content-type': found.type,
      'cache-control': 'public, max-age=31536000, immutable',
      etag: `"${found.version}"`,
    });
  });
}
