import type { Child } from 'hono/jsx';
import { NAV, type DashboardUser, type NavKey } from './dashboard-env.js';

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
        <title>{`${props.title} · Countersign`}</title>
        <link rel="stylesheet" href="/dashboard/assets/app.css" />
        <script src="/dashboard/assets/htmx.min.js" defer></script>
      </head>
      <body hx-headers={props.csrfToken ? JSON.stringify({ 'X-CSRF-Token': props.csrfToken }) : undefined}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        {props.user ? (
          <header>
            <nav aria-label="Sections">
              {NAV.map((item) => (
                <a href={item.path} aria-current={item.key === props.active ? 'page' : undefined}>
                  {item.label}
                </a>
              ))}
            </nav>
            <form method="post" action="/dashboard/logout">
              <CsrfField token={props.csrfToken ?? ''} />
              <span>
                {props.user.username} ({props.user.role})
              </span>{' '}
              <button type="submit">Sign out</button>
            </form>
          </header>
        ) : null}
        <main id="main">
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
