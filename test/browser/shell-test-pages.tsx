import { requireDashboardRole } from '../../src/dashboard/auth/role-guard.js';
import type { PageRegistrar } from '../../src/dashboard/dashboard-env.js';
import { CsrfField, Layout } from '../../src/dashboard/layout.js';

/** A page only managers may open, with a form that counts, for the shell's guard and CSRF checks. */
let counter = 0;
export const decideCount = () => counter;

export const decidePage: PageRegistrar = (app) => {
  app.get('/test/decide', requireDashboardRole('manager'), (c) =>
    c.html(
      <Layout title="Decide" active={undefined} user={c.get('user')} csrfToken={c.get('csrfToken')}>
        <p id="counter">{String(counter)}</p>
        <form method="post" action="/dashboard/test/decide">
          <CsrfField token={c.get('csrfToken')} />
          <button type="submit">Count</button>
        </form>
      </Layout>,
    ),
  );
  app.post('/test/decide', requireDashboardRole('manager'), (c) => {
    counter += 1;
    return c.redirect('/dashboard/test/decide', 303);
  });
};
