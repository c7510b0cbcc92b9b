import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { inTransaction } from '../../core/db/transaction.js';
import type { OwnerCommand } from '../../email-reply/commands.js';
import { EmailWorkflowRejectedError } from '../../email-reply/email-reply-runner.js';
import type { EmailWorkflowStatus } from '../../email-reply/workflow-state.js';
import type { DashboardEnv, PageRegistrar } from '../dashboard-env.js';
import { emailDraftsOverview, type EmailDraftView } from '../email/email-draft-queries.js';
import { CsrfField, Layout } from '../layout.js';
import { errorPage } from '../error-page.js';
import { canAct, readForm } from '../forms.js';

/**
 * Email drafts: what waits on the mailbox owner, with the same send / edit / ignore as by text.
 * Only the draft in awaiting_user can be acted on, and a command names the draft version the page
 * showed, so a page left open never sends a newer draft (commandFromDashboard refuses it: 409).
 * The drafts queued behind it and the recently settled are listed read-only.
 */

const ACTIONS = ['send', 'edit', 'ignore'] as const;
type Action = (typeof ACTIONS)[number];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_INSTRUCTIONS = 2000;

const DONE: Record<Action, string> = {
  send: 'Approved: the reply is being sent.',
  edit: 'Sent back for a redraft; the new draft will be texted to the owner.',
  ignore: 'Ignored: no reply will be sent.',
};

const STATUS_LABEL: Record<EmailWorkflowStatus, string> = {
  pending: 'received',
  ai_generating: 'AI is drafting',
  ai_generated: 'draft ready, waiting its turn',
  sms_sending: 'being texted to the owner',
  awaiting_user: 'waiting for the owner',
  user_approved: 'approved, reply being sent',
  user_edit_requested: 'being redrafted',
  user_ignored: 'ignored',
  reply_sent: 'reply sent',
  failed: 'failed',
  timeout: 'no answer in time',
  skipped: 'skipped',
};

export const canActOnDrafts = canAct;

export const registerEmailDraftPages: PageRegistrar = (app, { core }) => {
  app.get('/email', async (c) => {
    const runner = core.handles.emailReply;
    if (!runner) {
      return c.html(
        <Page c={c}>
          <EmailOff />
        </Page>,
      );
    }
    const overview = await emailDraftsOverview(core.db, runner);
    const done = c.req.query('done');
    const actor = canActOnDrafts(c.get('user'));
    return c.html(
      <Page c={c}>
        {done && isAction(done) ? (
          <p role="status" class="flash ok">
            {DONE[done]}
          </p>
        ) : null}
        <section aria-labelledby="waiting-heading">
          <h2 id="waiting-heading">Waiting for the owner</h2>
          {overview.waiting.length === 0 ? (
            <p>No draft is waiting for the owner.</p>
          ) : (
            overview.waiting.map((v) => <WaitingDraft view={v} canAct={actor} csrf={c.get('csrfToken')} />)
          )}
          {actor ? null : <p class="muted">You can read the drafts; a manager or an admin acts on them.</p>}
        </section>
        <section aria-labelledby="queued-heading">
          <h2 id="queued-heading">In the queue</h2>
          <p>One draft is shown to the owner at a time; these follow, oldest email first.</p>
          <DraftTable views={overview.queued} empty="Nothing queued." when="Received" />
        </section>
        <section aria-labelledby="recent-heading">
          <h2 id="recent-heading">Recently settled</h2>
          <DraftTable views={overview.recent} empty="Nothing settled yet." when="Updated" />
        </section>
      </Page>,
    );
  });

  app.post('/email/:workflowId/:action', async (c) => {
    const { workflowId, action } = c.req.param();
    if (!canActOnDrafts(c.get('user'))) {
      return problem(c, 403, 'Only a manager or an admin can act on drafts.');
    }
    const runner = core.handles.emailReply;
    if (!runner) return problem(c, 404, 'Email auto-reply is off, so there are no drafts to act on.');
    if (!isAction(action) || !UUID.test(workflowId)) return problem(c, 404, 'There is no such draft.');
    const form = await readForm(c);
    const version = form.draft_version ?? '';
    if (!/^\d{1,9}$/.test(version)) {
      return problem(c, 400, 'The form did not say which draft it was for. Reload the page and try again.');
    }
    let command: OwnerCommand;
    if (action === 'edit') {
      const instructions = (form.instructions ?? '').trim();
      if (instructions === '') return problem(c, 400, 'Say what to change in the draft.');
      if (instructions.length > MAX_INSTRUCTIONS) {
        return problem(c, 400, `Keep the instructions under ${MAX_INSTRUCTIONS} characters.`);
      }
      command = { kind: 'edit', instructions };
    } else {
      command = { kind: action };
    }
    try {
      const updated = await inTransaction(core.db, (tx) =>
        runner.commandFromDashboard(tx, {
          workflowId,
          draftVersion: Number(version),
          command,
          actor: `dashboard:${c.get('user').username}`,
        }),
      );
      if (!updated) return problem(c, 404, 'There is no such draft.');
    } catch (error) {
      if (error instanceof EmailWorkflowRejectedError) {
        return problem(c, 409, `Nothing was done: ${error.message}.`);
      }
      throw error;
    }
    core.wakeWorker();
    return c.redirect(`/dashboard/email?done=${action}`, 303);
  });
};

function isAction(value: string): value is Action {
  return (ACTIONS as readonly string[]).includes(value);
}

/** The urlencoded or multipart form's text fields; anything else reads as empty. */

function Page(props: { c: Context<DashboardEnv>; children?: Child }) {
  return (
    <Layout
      title="Email drafts"
      active="email"
      user={props.c.get('user')}
      csrfToken={props.c.get('csrfToken')}
    >
      {props.children}
    </Layout>
  );
}

function EmailOff() {
  return (
    <section aria-labelledby="off-heading">
      <h2 id="off-heading">Email auto-reply is off</h2>
      <p>
        New mail is still stored, but no drafts are written, because no mailbox owner's phone is configured.
      </p>
      <p>To turn it on, set the owner's phone and restart the service:</p>
      <ul>
        <li>
          <code>YOUR_PHONE_NUMBER</code>: the mailbox owner's mobile number in E.164 form, e.g.{' '}
          <code>+14155550123</code> (with <code>EMAIL_ADDRESS</code> and the IMAP/SMTP settings for a real
          mailbox);
        </li>
        <li>
          or <code>EMAIL_MAILBOXES_FILE</code>: a JSON list of mailboxes, each with its{' '}
          <code>owner_phone</code>.
        </li>
      </ul>
      <p>
        See docs/configuration.md. With no SMS provider configured, the owner's texts stay in the dev outbox
        and can be answered from the <a href="/dashboard/sandbox">Sandbox phone</a>.
      </p>
    </section>
  );
}

function WaitingDraft(props: { view: EmailDraftView; canAct: boolean; csrf: string }) {
  const { workflow, state, mailbox } = props.view;
  const id = workflow.id;
  const headingId = `draft-${id}`;
  const version = String(state.draftVersion);
  const sender = state.email.fromName ? `${state.email.fromName} <${state.email.from}>` : state.email.from;
  return (
    <article aria-labelledby={headingId} class="card" data-workflow={id}>
      <h3 id={headingId}>{state.email.subject || '(no subject)'}</h3>
      <dl class="facts">
        <dt>From</dt>
        <dd>{sender}</dd>
        {mailbox ? (
          <>
            <dt>Mailbox</dt>
            <dd>{mailbox}</dd>
          </>
        ) : null}
        <dt>Received</dt>
        <dd>
          <time datetime={state.email.receivedAt}>{utc(state.email.receivedAt)}</time>
        </dd>
        {state.deadline ? (
          <>
            <dt>Answer by</dt>
            <dd>
              <time datetime={state.deadline}>{utc(state.deadline)}</time>
            </dd>
          </>
        ) : null}
        <dt>Draft</dt>
        <dd>
          version {version}
          {state.editIteration > 0
            ? `, after ${state.editIteration} edit${state.editIteration > 1 ? 's' : ''}`
            : ''}
        </dd>
      </dl>
      <details>
        <summary>The email</summary>
        <pre class="message">{state.email.text}</pre>
      </details>
      <h4>Draft reply</h4>
      <pre class="message draft">{state.draft ?? ''}</pre>
      {state.instructions.length > 0 ? (
        <>
          <h4>Instructions so far</h4>
          <ol>
            {state.instructions.map((i) => (
              <li>{i}</li>
            ))}
          </ol>
        </>
      ) : null}
      {props.canAct ? (
        <div class="actions">
          <form method="post" action={`/dashboard/email/${id}/send`}>
            <CsrfField token={props.csrf} />
            <input type="hidden" name="draft_version" value={version} />
            <button type="submit">Send this reply</button>
          </form>
          <form method="post" action={`/dashboard/email/${id}/edit`}>
            <CsrfField token={props.csrf} />
            <input type="hidden" name="draft_version" value={version} />
            <label for={`instructions-${id}`}>What to change</label>
            <textarea
              id={`instructions-${id}`}
              name="instructions"
              rows={3}
              required
              maxlength={MAX_INSTRUCTIONS}
            ></textarea>
            <button type="submit" class="button-secondary">
              Redraft
            </button>
          </form>
          <form method="post" action={`/dashboard/email/${id}/ignore`}>
            <CsrfField token={props.csrf} />
            <input type="hidden" name="draft_version" value={version} />
            <button type="submit" class="button-secondary">
              Ignore this email
            </button>
          </form>
        </div>
      ) : null}
    </article>
  );
}

function DraftTable(props: { views: EmailDraftView[]; empty: string; when: 'Received' | 'Updated' }) {
  if (props.views.length === 0) return <p>{props.empty}</p>;
  const showMailbox = props.views.some((v) => v.mailbox !== undefined);
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Subject</th>
            <th scope="col">From</th>
            {showMailbox ? <th scope="col">Mailbox</th> : null}
            <th scope="col">Status</th>
            <th scope="col">{props.when} (UTC)</th>
          </tr>
        </thead>
        <tbody>
          {props.views.map(({ workflow, state, mailbox }) => (
            <tr data-workflow={workflow.id} data-status={state.status}>
              <th scope="row">{state.email.subject || '(no subject)'}</th>
              <td>{state.email.fromName ?? state.email.from}</td>
              {showMailbox ? <td>{mailbox ?? ''}</td> : null}
              <td>
                {STATUS_LABEL[state.status]}
                {state.status === 'skipped' && state.skipReason ? ` (${state.skipReason})` : ''}
                {state.status === 'failed' && state.lastError ? ` (${state.lastError})` : ''}
              </td>
              <td>
                {utc((props.when === 'Received' ? workflow.createdAt : workflow.updatedAt).toISOString())}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function utc(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')}`;
}

function problem(c: Context<DashboardEnv>, status: 400 | 403 | 404 | 409, message: string) {
  return errorPage(c, status, message, {
    title: 'Email drafts',
    active: 'email',
    back: { href: '/dashboard/email', label: 'Back to the email drafts' },
  });
}
