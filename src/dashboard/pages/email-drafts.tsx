import type { PageRegistrar } from '../dashboard-env.js';
import { Layout } from '../layout.js';

/** Placeholder until the page is built: mounted so that navigation and tests can find it. */
export const registerEmailDraftPages: PageRegistrar = (app) => {
  app.get('/email', (c) =>
    c.html(
      <Layout title="EmailDraft" active="email" user={c.get('user')} csrfToken={c.get('csrfToken')}>
        <p>Not built yet.</p>
      </Layout>,
    ),
  );
};
