import { randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { DashboardEnv } from '../dashboard-env.js';
import { errorPage } from '../error-page.js';
import { CsrfField, Layout } from '../layout.js';
import {
  clientAddress,
  cookieBase,
  LOGIN_COOKIE,
  safeNext,
  SESSION_COOKIE,
  sessionToken,
  type AuthDeps,
} from './auth-deps.js';
import { crossSiteProblem, sameToken } from './csrf.js';
import { MAX_PASSWORD_LENGTH, passwordProblem, verifyAgainstDummy, verifyPassword } from './password.js';
import {
  createSession,
  deleteEndedSessions,
  deleteSession,
  findSession,
  hashSessionToken,
} from './session-store.js';
import { findUserByUsername, normalizeUsername, setDashboardPassword, USERNAME } from './user-store.js';

/** Sign-in, sign-out and changing one's own password. */

const LOGIN_COOKIE_MAX_AGE_S = 3600;

function LoginPage(props: { token: string; next: string; username?: string; error?: string }) {
  return (
    <Layout title="Sign in" active={undefined} user={undefined} csrfToken={undefined}>
      <div class="card login">
        {props.error ? (
          <p class="flash bad" role="alert" id="login-error">
            {props.error}
          </p>
        ) : null}
        <form
          method="post"
          action="/dashboard/login"
          aria-describedby={props.error ? 'login-error' : undefined}
        >
          <CsrfField token={props.token} />
          <input type="hidden" name="next" value={props.next} />
          <label for="username">Username</label>
          <input
            type="text"
            id="username"
            name="username"
            autocomplete="username"
            autocapitalize="none"
            spellcheck={false}
            required
            maxlength={64}
            value={props.username ?? ''}
            autofocus
          />
          <label for="password">Password</label>
          <input
            type="password"
            id="password"
            name="password"
            autocomplete="current-password"
            required
            maxlength={MAX_PASSWORD_LENGTH}
          />
          <div class="actions">
            <button type="submit">Sign in</button>
          </div>
        </form>
      </div>
    </Layout>
  );
}

function PasswordPage(props: { c: Context<DashboardEnv>; error?: string }) {
  const user = props.c.get('user');
  return (
    <Layout title="Change your password" active={undefined} user={user} csrfToken={props.c.get('csrfToken')}>
      <div class="card login">
        {user.mustChangePassword ? (
          <p class="flash">
            Choose your own password before you go on: the one you signed in with was generated.
          </p>
        ) : null}
        {props.error ? (
          <p class="flash bad" role="alert">
            {props.error}
          </p>
        ) : null}
        <form method="post" action="/dashboard/password">
          <CsrfField token={props.c.get('csrfToken')} />
          <input
            type="text"
            class="visually-hidden"
            name="username"
            autocomplete="username"
            value={user.username}
            readonly
            tabindex={-1}
            aria-hidden="true"
          />
          <label for="current">Current password</label>
          <input
            type="password"
            id="current"
            name="current"
            autocomplete="current-password"
            required
            maxlength={MAX_PASSWORD_LENGTH}
          />
          <label for="new-password">New password</label>
          <input
            type="password"
            id="new-password"
            name="password"
            autocomplete="new-password"
            required
            minlength={12}
            maxlength={MAX_PASSWORD_LENGTH}
            aria-describedby="password-hint"
          />
          <p class="muted" id="password-hint">
            At least 12 characters, not containing your username.
          </p>
          <label for="confirm">New password again</label>
          <input
            type="password"
            id="confirm"
            name="confirm"
            autocomplete="new-password"
            required
            maxlength={MAX_PASSWORD_LENGTH}
          />
          <div class="actions">
            <button type="submit">Change password</button>
          </div>
        </form>
      </div>
    </Layout>
  );
}

const field = (body: Record<string, unknown>, name: string, max: number): string | undefined => {
  const value = body[name];
  return typeof value === 'string' && value.length <= max ? value : undefined;
};

async function formBody(c: Context): Promise<Record<string, unknown> | undefined> {
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return undefined;
  try {
    return await c.req.parseBody();
  } catch {
    return undefined;
  }
}

export function registerSignInRoutes(app: Hono<DashboardEnv>, deps: AuthDeps): void {
  const loginForm = (
    c: Context<DashboardEnv>,
    status: 200 | 400 | 401 | 403 | 429,
    extra: { next: string; username?: string; error?: string },
  ) => {
    const token = randomBytes(32).toString('base64url');
    setCookie(c, LOGIN_COOKIE, token, { ...cookieBase, sameSite: 'Strict', maxAge: LOGIN_COOKIE_MAX_AGE_S });
    return c.html(<LoginPage token={token} {...extra} />, status);
  };

  app.get('/login', async (c) => {
    const next = safeNext(c.req.query('next'));
    const token = sessionToken(c);
    if (token && (await findSession(deps.db, { token, now: deps.clock.now(), policy: deps.policy }))) {
      return c.redirect(next, 303);
    }
    return loginForm(c, 200, { next });
  });

  app.post('/login', async (c) => {
    const body = await formBody(c);
    if (!body) return loginForm(c, 400, { next: '/dashboard', error: 'Send the sign-in form.' });
    const next = safeNext(field(body, 'next', 2000));
    const crossSite = crossSiteProblem(c, deps.publicBaseUrl);
    if (crossSite) return errorPage(c, 403, crossSite);
    const expected = getCookie(c, LOGIN_COOKIE);
    if (!expected || !sameToken(expected, field(body, '_csrf', 200))) {
      return loginForm(c, 403, {
        next,
        error: 'The sign-in form had expired or was not ours. Please sign in again.',
      });
    }
    const rawUsername = field(body, 'username', 64) ?? '';
    const password = field(body, 'password', MAX_PASSWORD_LENGTH) ?? '';
    const username = normalizeUsername(rawUsername);
    const now = deps.clock.now();
    const address = clientAddress(c);
    const waitMs = deps.throttle.retryAfterMs(username, address, now);
    if (waitMs > 0) {
      const minutes = Math.ceil(waitMs / 60_000);
      c.header('Retry-After', String(Math.ceil(waitMs / 1000)));
      return loginForm(c, 429, {
        next,
        username: rawUsername,
        error: `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
      });
    }
    const user =
      USERNAME.test(username) && password ? await findUserByUsername(deps.db, username) : undefined;
    const ok = user ? await verifyPassword(user.passwordHash, password) : await verifyAgainstDummy(password);
    if (!user || !ok) {
      deps.throttle.recordFailure(username, address, now);
      return loginForm(c, 401, { next, username: rawUsername, error: 'The username or password is wrong.' });
    }
    deps.throttle.recordSuccess(username);
    await deleteEndedSessions(deps.db, now, deps.policy);
    const session = await createSession(deps.db, { userId: user.id, now, policy: deps.policy });
    deleteCookie(c, LOGIN_COOKIE, cookieBase);
    setCookie(c, SESSION_COOKIE, session.token, {
      ...cookieBase,
      sameSite: 'Lax',
      // A session cookie for the browser (gone when it closes); the server ends it by time too.
    });
    return c.redirect(user.mustChangePassword ? '/dashboard/password' : next, 303);
  });

  app.post('/logout', async (c) => {
    const token = sessionToken(c);
    if (token) await deleteSession(deps.db, token);
    deleteCookie(c, SESSION_COOKIE, cookieBase);
    if (c.req.header('hx-request') === 'true')
      return c.body(null, 200, { 'HX-Redirect': '/dashboard/login' });
    return c.redirect('/dashboard/login', 303);
  });

  app.get('/password', (c) => c.html(<PasswordPage c={c} />));

  app.post('/password', async (c) => {
    const body = (await formBody(c)) ?? {};
    const user = c.get('user');
    const current = field(body, 'current', MAX_PASSWORD_LENGTH) ?? '';
    const password = field(body, 'password', MAX_PASSWORD_LENGTH);
    const confirm = field(body, 'confirm', MAX_PASSWORD_LENGTH);
    const stored = await findUserByUsername(deps.db, user.username);
    if (!stored) return errorPage(c, 403, 'Your account is no longer active.');
    if (!(await verifyPassword(stored.passwordHash, current))) {
      return c.html(<PasswordPage c={c} error="The current password is wrong." />, 400);
    }
    if (password === undefined) {
      return c.html(<PasswordPage c={c} error={`Use at most ${MAX_PASSWORD_LENGTH} characters.`} />, 400);
    }
    const problem = passwordProblem(password, user.username);
    if (problem) return c.html(<PasswordPage c={c} error={problem} />, 400);
    if (password !== confirm)
      return c.html(<PasswordPage c={c} error="The two new passwords differ." />, 400);
    if (password === current) {
      return c.html(<PasswordPage c={c} error="Choose a password different from the current one." />, 400);
    }
    const token = sessionToken(c);
    await setDashboardPassword(deps.db, {
      userId: user.id,
      password,
      mustChangePassword: false,
      now: deps.clock.now(),
      ...(token ? { keepSessionHash: hashSessionToken(token) } : {}),
    });
    return c.redirect('/dashboard', 303);
  });
}
