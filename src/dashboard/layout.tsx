import type { Child } from 'hono/jsx';
import { assetUrl } from './assets/dashboard-assets.js';
import { NAV, type DashboardUser, type NavKey } from './dashboard-env.js';

/**
 * htmx settings, read by htmx from a meta tag (the CSP forbids inline script): no inline indicator
 * styles (app.css has them), no eval (hx-on needs it and the CSP forbids it), no scripts run from
 * swapped content, requests to this origin only.
 */
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  selfRequestsOnly: true,
});

/**
 * The page shell every dashboard page renders into. Owned by the dashboard shell; pages only pass
 * their title, section and content. hono/jsx escapes every interpolated value.
 */
export function Layout(props: {
  title: string;
  active: NavKey | undefined;
  user: DashboardUser | undefined;
  csrfToken: string | undefined;
  children?: Child;
}) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${props.title} · Countersign`}</title>
        <link rel="icon" href={assetUrl('favicon.svg')} type="image/svg+xml" />
        <link rel="stylesheet" href={assetUrl('app.css')} />
        <script src={assetUrl('htmx.min.js')} defer></script>
        <script src={assetUrl('app.js')} defer></script>
      </head>
      <body hx-headers={props.csrfToken ? JSON.stringify({ 'X-CSRF-Token': props.csrfToken }) : undefined}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="site">
          <div class="bar">
            <a class="brand" href="/dashboard">
              Countersign
            </a>
            {props.user ? (
              <form method="post" action="/dashboard/logout">
                <CsrfField token={props.csrfToken ?? ''} />
                <span class="who">
                  Signed in as {props.user.username} ({props.user.role})
                </span>
                <button type="submit">Sign out</button>
              </form>
            ) : null}
          </div>
          {props.user && !props.user.mustChangePassword ? (
            <nav class="sections" aria-label="Sections">
              <ul>
                {NAV.map((item) => (
                  <li>
                    <a href={item.path} aria-current={item.key === props.active ? 'page' : undefined}>
                      {item.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          ) : null}
        </header>
        <main id="main" tabindex={-1}>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** The hidden CSRF field every dashboard form carries. */
export function CsrfField(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}
