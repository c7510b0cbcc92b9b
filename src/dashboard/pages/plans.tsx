import type { PageRegistrar } from '../dashboard-env.js';
import { Layout } from '../layout.js';

/** Placeholder until the page is built: mounted so that navigation and tests can find it. */
export const registerPlansPages: PageRegistrar = (app) => {
  app.get('/plans', (c) =>
    c.html(
      <Layout title="Plans" active="plans" user={c.get('user')} csrfToken={c.get('csrfToken')}>
        <p>Not built yet.</p>
      </Layout>,
    ),
  );
};
