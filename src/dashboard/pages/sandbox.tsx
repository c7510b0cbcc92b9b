import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { inTransaction } from '../../core/db/transaction.js';
import type { CoreServices } from '../../main.js';
import { LedgerInputError, TenantPhoneTakenError, upsertTenant } from '../../peers/ledger/builtin-ledger.js';
import { fromIngestJson, parseAddressList } from '../../peers/email/parse-email.js';
import { DEV_OUTBOX_PROVIDER } from '../../peers/sms/dev-outbox.js';
import { listMessages, type SmsMessageRow } from '../../peers/sms/sms-store.js';
import type { DashboardEnv, PageRegistrar } from '../dashboard-env.js';
import { CsrfField, Layout } from '../layout.js';
import { errorPage } from '../error-page.js';
import { canAct, readForm } from '../forms.js';
import {
  findPerson,
  sandboxPeople,
  type SandboxPeople,
  type SandboxPerson,
} from '../sandbox/sandbox-people.js';
import { DEFAULT_MAILBOX } from '../../peers/email/email-port.js';
import { ourNumber, sandboxEnabled } from '../sandbox/sandbox-setup.js';

/**
 * The sandbox phone: be a tenant or the mailbox owner against the dev outbox, so that every flow can
 * be tried in the browser with nothing configured. A text typed here takes the same path as a
 * provider's webhook (SmsInbox.receive: claim, store, STOP/START, the workflows' listeners); an
 * email goes into the same inbox as POST /emails. The thread shows the texts stored for that
 * number both ways. On only while the dev outbox carries our texts; acting needs a manager.
 */

const THREAD_LIMIT = 60;
const MAX_TEXT = 1600;
const MAX_SUBJECT = 300;
const MAX_EMAIL_TEXT = 20_000;
const DEFAULT_SENDER = 'Ana Silva <ana@example.net>';

export const registerSandboxPages: PageRegistrar = (app, { core }) => {
  app.get('/sandbox', async (c) => {
    if (!sandboxEnabled(core)) return c.html(<Off c={c} provider={core.peers.sms.sender.name} />);
    const people = await sandboxPeople(core);
    const key = c.req.query('as') ?? people.owners[0]?.key ?? people.tenants[0]?.key;
    const person = key === undefined ? undefined : findPerson(people, key);
    if (key !== undefined && !person) {
      return problem(
        c,
        404,
        'That person is not in the sandbox. Pick a tenant or the mailbox owner from the list.',
      );
    }
    const thread = person ? await threadOf(core, person) : [];
    return c.html(
      <Page c={c}>
        <Notice c={c} />
        <p>
          Texts here go nowhere: our side is the dev outbox. Play a tenant or the mailbox owner; what you type
          takes the path a real text would, and the answers appear below as they are sent.
        </p>
        <PersonPicker people={people} current={person} />
        {person ? (
          <Phone c={c} core={core} person={person} thread={thread} />
        ) : (
          <p>No one to play yet: add a tenant below, or set YOUR_PHONE_NUMBER for the mailbox owner.</p>
        )}
        {canAct(c.get('user')) && core.peers.ledger.name === 'builtin' ? <AddTenant c={c} /> : null}
      </Page>,
    );
  });

  /** The thread alone, polled by htmx while the page is open. */
  app.get('/sandbox/thread', async (c) => {
    if (!sandboxEnabled(core)) return c.body(null, 404);
    const person = findPerson(await sandboxPeople(core), c.req.query('as') ?? '');
    if (!person) return c.body(null, 404);
    return c.html(<ThreadList person={person} rows={await threadOf(core, person)} />);
  });

  app.post('/sandbox/text', async (c) => {
    const guard = await actorGuard(c, core);
    if (guard) return guard;
    const form = await readForm(c);
    const person = findPerson(await sandboxPeople(core), form.as ?? '');
    if (!person) return problem(c, 400, 'Pick a tenant or the mailbox owner to text as.');
    const body = (form.body ?? '').trim();
    if (body === '') return problem(c, 400, 'Type a text to send.', person);
    if (body.length > MAX_TEXT) return problem(c, 400, `Keep a text under ${MAX_TEXT} characters.`, person);
    const now = core.clock.now();
    await inTransaction(core.db, async (tx) => {
      const outcome = await core.peers.sms.inbox.receive(
        tx,
        {
          provider: DEV_OUTBOX_PROVIDER,
          providerMessageId: `SB${randomUUID().replaceAll('-', '')}`,
          from: person.phone,
          to: ourNumber(core.config),
          body,
          receivedAt: now,
        },
        now,
      );
      if (!outcome.accepted) throw new Error('a freshly generated sandbox id was already claimed');
    });
    core.wakeWorker();
    return c.redirect(`/dashboard/sandbox?as=${encodeURIComponent(person.key)}&done=text`, 303);
  });

  app.post('/sandbox/email', async (c) => {
    const guard = await actorGuard(c, core);
    if (guard) return guard;
    const form = await readForm(c);
    const person = findPerson(await sandboxPeople(core), form.as ?? '');
    if (!person || person.kind !== 'owner')
      return problem(c, 400, 'Emails go to a mailbox owner: pick one first.');
    const from = (form.from ?? '').trim();
    const subject = (form.subject ?? '').trim();
    const text = (form.text ?? '').trim();
    const sender = parseAddressList(from)[0];
    if (!sender || !/^[^\s@<>]+@[^\s@<>]+$/.test(sender.address)) {
      return problem(c, 400, 'From must be an email address, e.g. Ana Silva <ana@example.net>.', person);
    }
    if (subject.length > MAX_SUBJECT) {
      return problem(c, 400, `Keep the subject under ${MAX_SUBJECT} characters.`, person);
    }
    if (text === '') return problem(c, 400, 'Write the email.', person);
    if (text.length > MAX_EMAIL_TEXT) {
      return problem(c, 400, `Keep the email under ${MAX_EMAIL_TEXT} characters.`, person);
    }
    const email = fromIngestJson(
      {
        message_id: `<sandbox-${randomUUID()}@countersign.invalid>`,
        from,
        to: person.address ?? undefined,
        subject,
        text,
      },
      core.clock.now(),
    );
    await core.peers.email.inbox.store(
      person.mailbox === DEFAULT_MAILBOX ? email : { ...email, mailbox: person.mailbox },
    );
    core.wakeWorker();
    return c.redirect(`/dashboard/sandbox?as=${encodeURIComponent(person.key)}&done=email`, 303);
  });

  app.post('/sandbox/tenants', async (c) => {
    const guard = await actorGuard(c, core);
    if (guard) return guard;
    if (core.peers.ledger.name !== 'builtin') {
      return problem(c, 404, 'Tenants are added here only to the built-in ledger.');
    }
    const form = await readForm(c);
    const amount = Number(form.amount_owed);
    const days = Number(form.days_late);
    if (form.amount_owed === undefined || form.amount_owed.trim() === '' || !Number.isFinite(amount)) {
      return problem(c, 400, 'Amount owed must be a number of dollars, e.g. 600.');
    }
    if (form.days_late === undefined || form.days_late.trim() === '' || !Number.isFinite(days)) {
      return problem(c, 400, 'Days late must be a whole number of days, e.g. 12.');
    }
    const people = await sandboxPeople(core);
    const phone = (form.phone ?? '').trim();
    if (people.owners.some((o) => o.phone === phone)) {
      return problem(c, 400, "That is the mailbox owner's number; give the tenant another one.");
    }
    try {
      const { tenant } = await upsertTenant(
        core.db,
        {
          tenantId: (form.tenant_id ?? '').trim(),
          name: (form.name ?? '').trim(),
          phone,
          timezone: (form.timezone ?? '').trim(),
          amountOwed: amount,
          daysLate: days,
        },
        core.clock.now(),
        core.peers.sms.defaultRegion,
      );
      return c.redirect(
        `/dashboard/sandbox?as=${encodeURIComponent(`tenant:${tenant.tenantId}`)}&done=tenant`,
        303,
      );
    } catch (error) {
      if (error instanceof LedgerInputError) return problem(c, 400, `Not added: ${error.message}.`);
      if (error instanceof TenantPhoneTakenError) return problem(c, 409, `Not added: ${error.message}.`);
      throw error;
    }
  });
};

/** Undefined when the request may act; else the page that says why not. */
async function actorGuard(c: Context<DashboardEnv>, core: CoreServices): Promise<Response | undefined> {
  if (!canAct(c.get('user'))) return problem(c, 403, 'Only a manager or an admin can use the sandbox phone.');
  if (!sandboxEnabled(core)) {
    return problem(c, 404, 'The sandbox is off: texts go out through a real SMS provider.');
  }
  return undefined;
}

async function threadOf(core: CoreServices, person: SandboxPerson): Promise<SmsMessageRow[]> {
  const rows = await listMessages(core.db, { phone: person.phone, limit: THREAD_LIMIT });
  return rows.reverse();
}

function problem(
  c: Context<DashboardEnv>,
  status: 400 | 403 | 404 | 409,
  message: string,
  person?: SandboxPerson,
) {
  const href = person ? `/dashboard/sandbox?as=${encodeURIComponent(person.key)}` : '/dashboard/sandbox';
  return errorPage(c, status, message, {
    title: 'Sandbox phone',
    active: 'sandbox',
    back: { href, label: 'Back to the sandbox phone' },
  });
}

function Page(props: { c: Context<DashboardEnv>; children?: Child }) {
  return (
    <Layout
      title="Sandbox phone"
      active="sandbox"
      user={props.c.get('user')}
      csrfToken={props.c.get('csrfToken')}
    >
      {props.children}
    </Layout>
  );
}

function Off(props: { c: Context<DashboardEnv>; provider: string }) {
  return (
    <Page c={props.c}>
      <h2>The sandbox is off</h2>
      <p>
        Texts go out through a real SMS provider ({props.provider}), so a text played here could reach a real
        phone. The sandbox phone works only while the dev outbox carries our texts: unset the SMS provider's
        settings (Twilio, SMS Agent, SMS Gateway) on a test instance to use it.
      </p>
    </Page>
  );
}

const NOTICES: Record<string, string> = {
  text: 'Text sent. The answer appears in the thread when it is sent.',
  email: 'Email dropped into the inbox. The draft is texted to the owner when it is ready.',
  tenant: 'Tenant added to the ledger.',
};

function Notice(props: { c: Context<DashboardEnv> }) {
  const message = NOTICES[props.c.req.query('done') ?? ''];
  return message ? (
    <p role="status" class="flash ok">
      {message}
    </p>
  ) : null;
}

function PersonPicker(props: { people: SandboxPeople; current: SandboxPerson | undefined }) {
  const { owners, tenants, ledgerProblem } = props.people;
  return (
    <form method="get" action="/dashboard/sandbox" class="row">
      <label for="sandbox-as">Play as</label>
      <select id="sandbox-as" name="as">
        {owners.length > 0 ? (
          <optgroup label="Mailbox owner">
            {owners.map((p) => (
              <option value={p.key} selected={p.key === props.current?.key}>
                {p.label}
              </option>
            ))}
          </optgroup>
        ) : null}
        {tenants.length > 0 ? (
          <optgroup label="Tenants">
            {tenants.map((p) => (
              <option value={p.key} selected={p.key === props.current?.key}>
                {p.label}
              </option>
            ))}
          </optgroup>
        ) : null}
      </select>
      <button type="submit" class="button-secondary">
        Open
      </button>
      {ledgerProblem ? <p class="muted">{ledgerProblem}</p> : null}
    </form>
  );
}

function Phone(props: {
  c: Context<DashboardEnv>;
  core: CoreServices;
  person: SandboxPerson;
  thread: SmsMessageRow[];
}) {
  const { person, c, core } = props;
  const actor = canAct(c.get('user'));
  const csrf = c.get('csrfToken');
  const threadUrl = `/dashboard/sandbox/thread?as=${encodeURIComponent(person.key)}`;
  return (
    <section aria-labelledby="phone-heading" class="card sandbox-phone" data-person={person.key}>
      <h2 id="phone-heading">{person.label}</h2>
      {person.kind === 'owner' && !core.handles.emailReply ? (
        <p class="flash bad">
          Email auto-reply is off (YOUR_PHONE_NUMBER is not set), so the owner gets no drafts and texts from
          this number are only stored.
        </p>
      ) : null}
      {person.kind === 'owner' ? (
        <p class="muted">
          Answer a draft with 1 (send), 2 and what to change (redraft) or 3 (ignore). The drafts are also on
          the <a href="/dashboard/email">Email drafts</a> page.
        </p>
      ) : (
        <p class="muted">
          A confident answer is texted back at once (inside the tenant's allowed hours); others wait for a
          manager under <a href="/dashboard">Approvals</a>, or are escalated.
        </p>
      )}
      <h3 id="thread-heading">Texts</h3>
      <div id="thread" hx-get={threadUrl} hx-trigger="every 2s" hx-swap="innerHTML">
        <ThreadList person={person} rows={props.thread} />
      </div>
      <p>
        <a href={`/dashboard/sandbox?as=${encodeURIComponent(person.key)}`}>Refresh the thread</a>
      </p>
      {actor ? (
        <form method="post" action="/dashboard/sandbox/text" class="stack">
          <CsrfField token={csrf} />
          <input type="hidden" name="as" value={person.key} />
          <label for="sandbox-body">{`Text from ${person.phone}`}</label>
          <textarea id="sandbox-body" name="body" rows={2} required maxlength={MAX_TEXT}></textarea>
          <button type="submit">Send text</button>
        </form>
      ) : (
        <p class="muted">You can read the thread; a manager or an admin can text from the sandbox.</p>
      )}
      {actor && person.kind === 'owner' ? <DropEmail person={person} csrf={csrf} /> : null}
    </section>
  );
}

function ThreadList(props: { person: SandboxPerson; rows: SmsMessageRow[] }) {
  if (props.rows.length === 0) return <p class="muted">No texts yet.</p>;
  return (
    <ol class="thread" aria-labelledby="thread-heading">
      {props.rows.map((row) => {
        const mine = row.direction === 'in';
        return (
          <li
            class={mine ? 'bubble mine' : 'bubble theirs'}
            data-direction={row.direction}
            data-id={String(row.id)}
          >
            <span class="who">{mine ? 'You' : 'Countersign'}</span>{' '}
            <time class="muted" datetime={row.createdAt.toISOString()}>
              {row.createdAt.toISOString().slice(11, 16)} UTC
            </time>
            {row.direction === 'out' && row.state !== 'delivered' ? (
              <span class="badge warn">{row.state}</span>
            ) : null}
            <p class="body">{row.body}</p>
          </li>
        );
      })}
    </ol>
  );
}

function DropEmail(props: { person: SandboxPerson & { kind: 'owner' }; csrf: string }) {
  return (
    <form method="post" action="/dashboard/sandbox/email" class="stack">
      <h3>Send the owner an email</h3>
      <CsrfField token={props.csrf} />
      <input type="hidden" name="as" value={props.person.key} />
      <label for="email-from">From</label>
      <input id="email-from" name="from" type="text" value={DEFAULT_SENDER} required autocomplete="off" />
      <label for="email-subject">Subject</label>
      <input id="email-subject" name="subject" type="text" maxlength={MAX_SUBJECT} value="Meeting tomorrow" />
      <label for="email-text">Email</label>
      <textarea id="email-text" name="text" rows={4} required maxlength={MAX_EMAIL_TEXT}>
        Are we still on for the meeting tomorrow at 2pm?
      </textarea>
      <button type="submit">Drop into the inbox</button>
    </form>
  );
}

function AddTenant(props: { c: Context<DashboardEnv> }) {
  return (
    <section aria-labelledby="add-tenant-heading" class="card">
      <h2 id="add-tenant-heading">Add a tenant to play</h2>
      <p class="muted">
        Adds (or replaces) a tenant in the built-in ledger, as PUT /ledger/tenants/{'{id}'} does.
      </p>
      <form method="post" action="/dashboard/sandbox/tenants" class="stack">
        <CsrfField token={props.c.get('csrfToken')} />
        <label for="tenant-id">Tenant id</label>
        <input id="tenant-id" name="tenant_id" type="text" value="t1" required />
        <label for="tenant-name">Name</label>
        <input id="tenant-name" name="name" type="text" value="Maria Lopez" required />
        <label for="tenant-phone">Phone</label>
        <input id="tenant-phone" name="phone" type="tel" value="+12125550101" required />
        <label for="tenant-timezone">Time zone</label>
        <input id="tenant-timezone" name="timezone" type="text" value="America/New_York" required />
        <label for="tenant-owed">Amount owed (dollars)</label>
        <input id="tenant-owed" name="amount_owed" type="number" min="0" step="0.01" value="600" required />
        <label for="tenant-late">Days late</label>
        <input id="tenant-late" name="days_late" type="number" min="0" step="1" value="12" required />
        <button type="submit">Add tenant</button>
      </form>
    </section>
  );
}
