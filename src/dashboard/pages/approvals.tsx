import type { Child } from 'hono/jsx';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { CollectionsConflictError, CollectionsInputError } from '../../collections/collections-runner.js';
import type { Approval } from '../../collections/collections-store.js';
import { workflowStatusView } from '../../collections/collections-views.js';
import type { PlanRow } from '../../collections/plans-store.js';
import { inTransaction } from '../../core/db/transaction.js';
import type { CoreServices } from '../../main.js';
import type { Tenant } from '../../peers/ledger/ledger-port.js';
import { requireDashboardRole } from '../auth/role-guard.js';
import type { DashboardEnv, PageRegistrar } from '../dashboard-env.js';
import { readForm } from '../forms.js';
import { CsrfField } from '../layout.js';
import { APPROVALS_JS_URL, registerCollectionsAssets } from '../collections/collections-assets.js';
import {
  Badge,
  canDecide,
  centsToDollars,
  CollectionsPage,
  dollars,
  formString,
  normalizeNewlines,
  Notice,
  percent,
  When,
} from '../collections/collections-components.js';
import {
  approvalById,
  pendingApprovals,
  plansForApprovals,
  queueSignature,
  recentlyClosedApprovals,
} from '../collections/collections-queries.js';

/**
 * The approval queue (/dashboard): every draft waiting for a manager, with what the tenant wrote,
 * the draft (editable), confidence, intent, guard flags, the ledger balance and the payment plan.
 * Approve / reject post a plain form (works without script); an edited draft is sent as a
 * modification. The queue re-renders through htmx polling only when an item joins or leaves it
 * (204 otherwise, so an edit in progress is never replaced), and the keyboard script is an asset.
 */

const CLOSED_WINDOW_MS = 60 * 60_000;
const LEDGER_TIMEOUT_MS = 3_000;
const MAX_TEXT = 2_000;
const ITEM_ID = /^resp_[A-Za-z0-9_-]{1,60}$/;

type Balance = { kind: 'known'; tenant: Tenant } | { kind: 'unknown' } | { kind: 'unavailable' };

type QueueData = {
  pending: Approval[];
  closed: Approval[];
  signature: string;
};

async function loadQueue(core: CoreServices): Promise<QueueData> {
  const since = new Date(core.clock.now().getTime() - CLOSED_WINDOW_MS);
  const [pending, closed] = await Promise.all([
    pendingApprovals(core.db),
    recentlyClosedApprovals(core.db, since),
  ]);
  return { pending, closed, signature: queueSignature(pending, closed) };
}

/**
 * The ledger's balance per item: one batched question for the items with a tenant id when the
 * ledger can answer several at once (the built-in one), else one question per tenant, all at once;
 * a slow or failing ledger says so.
 */
async function balances(core: CoreServices, pending: readonly Approval[]): Promise<Map<string, Balance>> {
  const { ledger } = core.peers;
  const signal = AbortSignal.timeout(LEDGER_TIMEOUT_MS);
  const known = (tenant: Tenant | undefined): Balance =>
    tenant ? { kind: 'known', tenant } : { kind: 'unknown' };
  const unavailable = (): Balance => ({ kind: 'unavailable' });
  const ids = [...new Set(pending.flatMap((a) => (a.tenantId ? [a.tenantId] : [])))];
  const batch = ledger.getTenants && ids.length > 0 ? ledger.getTenants(ids, signal) : undefined;
  const byKey = new Map<string, Promise<Balance>>();
  const lookup = (approval: Approval): Promise<Balance> => {
    const { tenantId } = approval;
    if (tenantId && batch) return batch.then((tenants) => known(tenants.get(tenantId)), unavailable);
    const key = tenantId ? `t:${tenantId}` : `p:${approval.phone}`;
    let balance = byKey.get(key);
    if (!balance) {
      balance = (
        tenantId ? ledger.getTenant(tenantId, signal) : ledger.findTenantByPhone(approval.phone, signal)
      ).then(known, unavailable);
      byKey.set(key, balance);
    }
    return balance;
  };
  const answers = await Promise.all(pending.map(lookup));
  return new Map(pending.map((approval, i) => [approval.id, answers[i] as Balance]));
}

export const registerApprovalsPages: PageRegistrar = (app, { core }) => {
  registerCollectionsAssets(app);

  app.get('/', async (c) => {
    const decided = c.req.query('decided');
    const notice = decided && ITEM_ID.test(decided) ? await decidedNotice(core, decided) : undefined;
    return queuePage(c, core, 200, notice);
  });

  app.get('/approvals/queue', async (c) => {
    const data = await loadQueue(core);
    // Unchanged since the page's copy: nothing to swap (htmx leaves the page alone on 204).
    if (c.req.query('v') === data.signature) return c.body(null, 204);
    return c.html(
      <>
        <Queue c={c} data={data} extras={await queueExtras(core, data.pending)} />
        <QueueStatus count={data.pending.length} oob />
      </>,
    );
  });

  app.post('/approvals/:id', requireDashboardRole('manager'), async (c) => {
    const id = c.req.param('id');
    const body = await readForm(c);
    const action = formString(body, 'action');
    const rawText = formString(body, 'approved_text');
    const notes = formString(body, 'notes')?.trim() || undefined;
    const refuse = (status: ContentfulStatusCode, message: string) =>
      queuePage(c, core, status, <Notice kind="error">{message}</Notice>);
    if (!ITEM_ID.test(id)) return refuse(404, `There is no approval item ${id}.`);
    if (action !== 'approve' && action !== 'modify' && action !== 'reject') {
      return refuse(400, 'Choose Approve or Reject: the form did not say which.');
    }
    const text = rawText === undefined ? undefined : normalizeNewlines(rawText).trim();
    if (text !== undefined && text.length > MAX_TEXT) {
      return refuse(400, `The reply is ${text.length} characters; at most ${MAX_TEXT} may be sent.`);
    }
    if (notes !== undefined && notes.length > MAX_TEXT) {
      return refuse(400, `The note is ${notes.length} characters; at most ${MAX_TEXT} are kept.`);
    }
    if (action !== 'reject' && !text) {
      return refuse(400, 'The reply is empty: write the text to send, or reject the draft.');
    }
    const runner = core.handles.collections;
    if (!runner) return refuse(503, 'The collections workflow is not running in this service.');
    const item = await approvalById(core.db, id);
    if (!item) return refuse(404, `There is no approval item ${id}.`);
    // An edited draft is a modification; the runner records "approved" when the text is unchanged.
    const effective = action === 'reject' ? 'reject' : text === item.draft.trim() ? 'approve' : 'modify';
    try {
      await inTransaction(core.db, (tx) =>
        runner.decideApproval(tx, {
          responseQueueId: id,
          action: effective,
          approvedText: effective === 'reject' ? undefined : text,
          manager: c.get('user').username,
          claimedManagerId: undefined,
          notes,
        }),
      );
    } catch (error) {
      if (error instanceof CollectionsConflictError) {
        return refuse(
          error.code === 'not_found' ? 404 : 409,
          `Item ${id} (conversation ${item.conversationId}) was not decided. ${error.message}`,
        );
      }
      if (error instanceof CollectionsInputError) return refuse(422, error.message);
      throw error;
    }
    core.wakeWorker();
    return c.redirect(`/dashboard?decided=${encodeURIComponent(id)}`, 303);
  });
};

async function queueExtras(core: CoreServices, pending: readonly Approval[]) {
  const [plans, ledger] = await Promise.all([plansForApprovals(core.db, pending), balances(core, pending)]);
  return { plans, ledger };
}

async function queuePage(
  c: Context<DashboardEnv>,
  core: CoreServices,
  status: ContentfulStatusCode,
  notice: Child,
) {
  const data = await loadQueue(core);
  const extras = await queueExtras(core, data.pending);
  return c.html(
    <CollectionsPage title="Approvals" active="approvals" c={c}>
      <script src={APPROVALS_JS_URL} defer></script>
      {notice}
      <p id="queue-alert" class="cs-notice cs-notice-error" role="alert" hidden></p>
      <QueueStatus count={data.pending.length} />
      <Shortcuts decider={canDecide(c.get('user'))} />
      <Queue c={c} data={data} extras={extras} />
    </CollectionsPage>,
    status,
  );
}

async function decidedNotice(core: CoreServices, id: string) {
  const approval = await approvalById(core.db, id);
  if (!approval || approval.status === 'pending') return undefined;
  const workflow = await core.workflows.get(core.db, approval.workflowId);
  const view = workflow ? workflowStatusView(workflow) : undefined;
  const outcome =
    approval.status === 'rejected'
      ? 'rejected; nothing was sent.'
      : approval.status === 'obsolete'
        ? `not sent: it became obsolete (${approval.obsoleteReason ?? 'unknown reason'}).`
        : view?.status === 'scheduled'
          ? `${approval.status}; the reply is held until ${view.metadata.scheduled_for ?? 'the allowed hours'} (allowed hours where the tenant lives).`
          : view?.status === 'opted_out'
            ? `${approval.status}, but the tenant has opted out; nothing was sent.`
            : `${approval.status}; the reply is queued for sending.`;
  return (
    <Notice kind="success">
      Item {approval.id} {outcome}{' '}
      <a href={`/dashboard/conversations/${encodeURIComponent(approval.conversationId)}`}>
        Open conversation {approval.conversationId}
      </a>
    </Notice>
  );
}

function QueueStatus(props: { count: number; oob?: boolean }) {
  return (
    <p id="queue-status" role="status" hx-swap-oob={props.oob ? 'true' : undefined}>
      {props.count === 0
        ? 'No drafts are waiting for a decision.'
        : props.count === 1
          ? '1 draft is waiting for a decision.'
          : `${props.count} drafts are waiting for a decision.`}{' '}
      <span class="cs-muted">The list refreshes by itself.</span>
    </p>
  );
}

function Shortcuts(props: { decider: boolean }) {
  return (
    <details id="shortcuts" class="cs-shortcuts">
      <summary>Keyboard shortcuts</summary>
      <dl>
        <dt>
          <kbd>j</kbd> / <kbd>k</kbd>
        </dt>
        <dd>next / previous draft</dd>
        {props.decider ? (
          <>
            <dt>
              <kbd>e</kbd>
            </dt>
            <dd>edit the selected draft (an edited draft is sent as a modification)</dd>
            <dt>
              <kbd>Esc</kbd>
            </dt>
            <dd>leave the editor (then the shortcuts work again)</dd>
            <dt>
              <kbd>a</kbd>
            </dt>
            <dd>approve and send the selected draft, as it reads in its box</dd>
            <dt>
              <kbd>r</kbd>
            </dt>
            <dd>reject the selected draft (nothing is sent)</dd>
          </>
        ) : null}
        <dt>
          <kbd>?</kbd>
        </dt>
        <dd>show or hide this list</dd>
      </dl>
      <p class="cs-muted">Shortcuts are off while you type in a field.</p>
    </details>
  );
}

type Extras = { plans: Map<string, PlanRow>; ledger: Map<string, Balance> };

function Queue(props: { c: Context<DashboardEnv>; data: QueueData; extras: Extras }) {
  const { data, extras, c } = props;
  const decider = canDecide(c.get('user'));
  return (
    <div
      id="approval-queue"
      hx-get={`/dashboard/approvals/queue?v=${data.signature}`}
      hx-trigger="every 5s"
      hx-swap="outerHTML"
    >
      <h2>Waiting for a decision</h2>
      {data.pending.length === 0 ? (
        <p>Nothing to decide right now.</p>
      ) : (
        <ol class="cs-list" aria-label="Drafts waiting for a decision">
          {data.pending.map((approval) => (
            <li>
              <Item
                approval={approval}
                plan={extras.plans.get(approval.id)}
                balance={extras.ledger.get(approval.id) ?? { kind: 'unavailable' }}
                decider={decider}
                csrfToken={c.get('csrfToken')}
              />
            </li>
          ))}
        </ol>
      )}
      <Closed closed={data.closed} />
    </div>
  );
}

function Item(props: {
  approval: Approval;
  plan: PlanRow | undefined;
  balance: Balance;
  decider: boolean;
  csrfToken: string;
}) {
  const a = props.approval;
  const heading = `item-${a.id}-title`;
  return (
    <article
      class="cs-card"
      id={`item-${a.id}`}
      data-approval-item=""
      tabindex={-1}
      aria-labelledby={heading}
    >
      <h3 id={heading}>
        Draft for{' '}
        <a href={`/dashboard/conversations/${encodeURIComponent(a.conversationId)}`}>{a.conversationId}</a>
        {a.tenantId ? ` (tenant ${a.tenantId})` : ''}
      </h3>
      <p class="cs-muted">
        Item {a.id}, queued <When at={a.createdAt} />
      </p>
      <h4>The tenant wrote</h4>
      <blockquote class="cs-text" data-tenant-text="">
        {a.tenantText}
      </blockquote>
      <dl class="cs-facts">
        <dt>Confidence</dt>
        <dd>{percent(a.confidence)}</dd>
        <dt>Intent</dt>
        <dd>{a.intent.replace(/_/g, ' ')}</dd>
        <dt>Guard flags</dt>
        <dd>{a.flags.length === 0 ? 'none' : a.flags.join(', ')}</dd>
        <dt>Why it waits</dt>
        <dd>{a.rule}</dd>
        <dt>Balance</dt>
        <dd>
          <BalanceText balance={props.balance} />
        </dd>
        <dt>Payment plan</dt>
        <dd>
          <PlanText plan={props.plan} />
        </dd>
      </dl>
      {props.decider ? (
        <form method="post" action={`/dashboard/approvals/${encodeURIComponent(a.id)}`}>
          <CsrfField token={props.csrfToken} />
          <div class="cs-field">
            <label for={`draft-${a.id}`}>Reply to send (edit it to modify the draft)</label>
            <textarea id={`draft-${a.id}`} name="approved_text" rows={5} maxlength={MAX_TEXT} required>
              {a.draft}
            </textarea>
          </div>
          <div class="cs-field">
            <label for={`notes-${a.id}`}>Note for the audit trail (optional)</label>
            <input id={`notes-${a.id}`} name="notes" type="text" maxlength={MAX_TEXT} />
          </div>
          <div class="cs-actions">
            <button type="submit" name="action" value="approve" class="cs-primary">
              Approve and send
            </button>
            <button type="submit" name="action" value="reject" class="cs-danger" formnovalidate>
              Reject
            </button>
          </div>
        </form>
      ) : (
        <>
          <h4>Draft reply</h4>
          <p class="cs-text">{a.draft}</p>
          <p class="cs-muted">Your role may read the queue; a manager decides.</p>
        </>
      )}
    </article>
  );
}

function BalanceText(props: { balance: Balance }) {
  const b = props.balance;
  if (b.kind === 'unknown') return <>not in the ledger</>;
  if (b.kind === 'unavailable') return <>the ledger did not answer; try again shortly</>;
  const t = b.tenant;
  return (
    <>
      {dollars(t.amountOwed)} owed
      {t.tenantPortion !== undefined ? ` (tenant's portion ${dollars(t.tenantPortion)})` : ''}, {t.daysLate}{' '}
      days late
    </>
  );
}

function PlanText(props: { plan: PlanRow | undefined }) {
  const p = props.plan;
  if (!p) return <>none</>;
  return (
    <>
      <a href={`/dashboard/plans/${encodeURIComponent(p.id)}`}>
        {centsToDollars(p.weeklyAmountCents)} a week × {p.weeks} from {p.startDate}
      </a>{' '}
      <Badge value={p.status} />
    </>
  );
}

const OBSOLETE_WORDS: Record<string, string> = {
  newer_text: 'the tenant texted again; a new draft answers every text',
  opted_out: 'the tenant opted out; nothing may be sent',
  escalated: 'the conversation was escalated to a person',
  retried: 'the workflow was retried',
};

function Closed(props: { closed: Approval[] }) {
  if (props.closed.length === 0) return null;
  return (
    <section aria-labelledby="closed-title">
      <h2 id="closed-title">Recently closed (last hour)</h2>
      <div class="cs-scroll">
        <table class="cs-table">
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Conversation</th>
              <th scope="col">Outcome</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {props.closed.map((a) => (
              <tr id={`closed-${a.id}`}>
                <td>{a.id}</td>
                <td>
                  <a href={`/dashboard/conversations/${encodeURIComponent(a.conversationId)}`}>
                    {a.conversationId}
                  </a>
                </td>
                <td class="cs-wrap">
                  <Badge value={a.status} />{' '}
                  {a.status === 'obsolete'
                    ? `Obsolete: ${OBSOLETE_WORDS[a.obsoleteReason ?? ''] ?? 'it can no longer be sent'}.`
                    : `by ${a.decidedBy ?? 'someone'}`}
                </td>
                <td>
                  <When at={a.decidedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
