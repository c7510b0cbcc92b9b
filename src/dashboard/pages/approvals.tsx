import type { PageRegistrar } from '../dashboard-env.js';
import { Layout } from '../layout.js';

/** Placeholder until the page is built: mounted so that navigation and tests can find it. */
export const registerApprovalsPages: PageRegistrar = (app) => {
  app.get('/', (c) =>
    c.html(
      <Layout title="Approvals" active="approvals" user={c.get('user')} csrfToken={c.get('csrfToken')}>
        <p>Not built yet.</p>
      </Layout>,
    ),
  );
};
