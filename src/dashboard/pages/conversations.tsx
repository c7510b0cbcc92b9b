import type { Escalation } from '../../collections/collections-store.js';
import type { PlanRow } from '../../collections/plans-store.js';
import { readTurn } from '../../collections/turn.js';
import type { Workflow } from '../../core/workflow/workflow-store.js';
import type { PageRegistrar } from '../dashboard-env.js';
import { registerCollectionsAssets } from '../collections/collections-assets.js';
import {
  FilterSelect,
  words,
  Badge,
  centsToDollars,
  CollectionsPage,
  errorPage,
  When,
} from '../collections/collections-components.js';
import {
  CONVERSATION_STATES,
  conversationDetail,
  listConversations,
  type AuditRow,
  type ConversationListItem,
  type SmsRow,
} from '../collections/collections-queries.js';
import type { Approval } from '../../collections/collections-store.js';

/**
 * Conversations: the list (/dashboard/conversations, newest activity first, filtered by state or
 * a search on id, tenant or phone) and one conversation (/dashboard/conversations/:id): every
 * text in and out with its delivery state, then the audit trail of every decision on its turns,
 * its queue items, escalations and payment plans.
 */

const LIST_LIMIT = 200;
const ID = /^[\x21-\x7e]{1,200}$/;

export const registerConversationsPages: PageRegistrar = (app, { core }) => {
  registerCollectionsAssets(app);

  app.get('/conversations', async (c) => {
    const rawState = c.req.query('state') ?? '';
    const q = (c.req.query('q') ?? '').trim();
    const state = (CONVERSATION_STATES as readonly string[]).includes(rawState) ? rawState : undefined;
    if ((rawState !== '' && !state) || q.length > 200) {
      return errorPage(c, 400, {
        title: 'Conversations',
        active: 'conversations',
        message:
          rawState !== '' && !state
            ? `There is no conversation state "${rawState}"; choose one of ${CONVERSATION_STATES.join(', ')}.`
            : 'The search is too long (200 characters at most).',
        back: { href: '/dashboard/conversations', label: 'All conversations' },
      });
    }
    const rows = await listConversations(core.db, { state, q: q || undefined, limit: LIST_LIMIT });
    return c.html(
      <CollectionsPage title="Conversations" active="conversations" c={c}>
        <form method="get" action="/dashboard/conversations" class="cs-filters" role="search">
          <div class="cs-field">
            <label for="conv-q">Conversation, tenant or phone</label>
            <input id="conv-q" name="q" type="search" value={q} maxlength={200} />
          </div>
          <FilterSelect
            id="conv-state"
            name="state"
            label="State"
            values={CONVERSATION_STATES}
            selected={state}
            any="any"
            show={words}
          />
          <button type="submit" class="cs-primary">
            Filter
          </button>
        </form>
        <ConversationTable rows={rows} />
        {rows.length === LIST_LIMIT ? (
          <p class="cs-muted">The newest {LIST_LIMIT} are shown; narrow the search to see others.</p>
        ) : null}
      </CollectionsPage>,
    );
  });

  app.get('/conversations/:id', async (c) => {
    const id = c.req.param('id');
    const detail = ID.test(id) ? await conversationDetail(core.db, id) : undefined;
    if (!detail) {
      return errorPage(c, 404, {
        title: 'Conversation not found',
        active: 'conversations',
        message: `There is no conversation ${id}.`,
        back: { href: '/dashboard/conversations', label: 'All conversations' },
      });
    }
    const { conversation: conv, messages, turns, audit, approvals, escalations, plans } = detail;
    return c.html(
      <CollectionsPage title={`Conversation ${conv.conversationId}`} active="conversations" c={c}>
        <p>
          <a href="/dashboard/conversations">All conversations</a>
        </p>
        <dl class="cs-facts">
          <dt>Tenant</dt>
          <dd>{conv.tenantId ?? 'unknown'}</dd>
          <dt>Phone</dt>
          <dd>{conv.phone}</dd>
          <dt>State</dt>
          <dd>
            <Badge value={conv.state} />
          </dd>
          <dt>Timezone</dt>
          <dd>{conv.timezone ?? 'not known yet'}</dd>
          <dt>Last tenant text</dt>
          <dd>
            <When at={conv.lastInboundAt} />
          </dd>
          <dt>Last text from us</dt>
          <dd>
            <When at={conv.lastOutboundAt} />
          </dd>
        </dl>
        <section aria-labelledby="texts-title">
          <h2 id="texts-title">Texts ({messages.length})</h2>
          <Messages messages={messages} />
        </section>
        <section aria-labelledby="audit-title">
          <h2 id="audit-title">Decisions (audit trail)</h2>
          <AuditTrail audit={audit} turns={turns} />
        </section>
        <section aria-labelledby="approvals-title">
          <h2 id="approvals-title">Approval queue items ({approvals.length})</h2>
          <Approvals approvals={approvals} />
        </section>
        <section aria-labelledby="escalations-title">
          <h2 id="escalations-title">Escalations ({escalations.length})</h2>
          <Escalations escalations={escalations} />
        </section>
        <section aria-labelledby="plans-title">
          <h2 id="plans-title">Payment plans ({plans.length})</h2>
          <Plans plans={plans} />
        </section>
      </CollectionsPage>,
    );
  });
};

const conversationHref = (id: string) => `/dashboard/conversations/${encodeURIComponent(id)}`;

function ConversationTable(props: { rows: ConversationListItem[] }) {
  if (props.rows.length === 0) return <p>No conversations match.</p>;
  return (
    <div class="cs-scroll">
      <table class="cs-table">
        <thead>
          <tr>
            <th scope="col">Conversation</th>
            <th scope="col">Tenant</th>
            <th scope="col">Phone</th>
            <th scope="col">State</th>
            <th scope="col">Latest turn</th>
            <th scope="col">Last activity</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr>
              <td>
                <a href={conversationHref(r.conversationId)}>{r.conversationId}</a>
              </td>
              <td>{r.tenantId ?? '—'}</td>
              <td>{r.phone}</td>
              <td>
                <Badge value={r.state} />
              </td>
              <td>{r.latestStatus ? <Badge value={r.latestStatus} /> : '—'}</td>
              <td>
                <When at={r.updatedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Messages(props: { messages: SmsRow[] }) {
  if (props.messages.length === 0) return <p>No texts yet.</p>;
  return (
    <ol class="cs-messages">
      {props.messages.map((m) => (
        <li
          class={`cs-message ${m.direction === 'out' ? 'cs-message-out' : 'cs-message-in'}`}
          data-message-id={String(m.id)}
        >
          <p>
            <span class="cs-muted">{m.direction === 'out' ? 'To the tenant: ' : 'From the tenant: '}</span>
            {m.body}
          </p>
          <footer>
            <When at={m.createdAt} />
            <Badge value={m.state} />
            {m.errorCode ? <span>error {m.errorCode}</span> : null}
            <span class="cs-muted">via {m.provider}</span>
          </footer>
        </li>
      ))}
    </ol>
  );
}

/** The facts of an audit row a person looks for first; the rest is one click away. */
const KEY_DETAILS = [
  'action',
  'status',
  'confidence',
  'intent',
  'rule',
  'decision',
  'notes',
  'type',
  'severity',
  'escalation_id',
  'response_queue_id',
  'resolution',
  'scheduled_for',
  'error',
] as const;

function AuditTrail(props: { audit: AuditRow[]; turns: Workflow[] }) {
  if (props.audit.length === 0) return <p>No decisions yet.</p>;
  const turnNumber = new Map(props.turns.map((t, i) => [t.id, i + 1]));
  return (
    <div class="cs-scroll">
      <table class="cs-table">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Turn</th>
            <th scope="col">Change</th>
            <th scope="col">Why</th>
            <th scope="col">Who</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {props.audit.map((a) => (
            <tr>
              <td>
                <When at={a.at} />
              </td>
              <td>{turnNumber.get(a.workflowId) ?? '?'}</td>
              <td>
                {a.fromState ? (
                  <>
                    <Badge value={a.fromState} /> →{' '}
                  </>
                ) : null}
                <Badge value={a.toState} />
              </td>
              <td>{a.reason}</td>
              <td>{a.actor}</td>
              <td class="cs-wrap">
                <Details details={a.details} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <TurnSummary turns={props.turns} />
    </div>
  );
}

function Details(props: { details: Record<string, unknown> }) {
  const shown = KEY_DETAILS.filter((k) => props.details[k] !== undefined && props.details[k] !== null);
  const rest = Object.keys(props.details).length > shown.length;
  return (
    <>
      {shown.length > 0 ? (
        <ul>
          {shown.map((k) => (
            <li>
              {k.replace(/_/g, ' ')}: {format(props.details[k])}
            </li>
          ))}
        </ul>
      ) : null}
      {rest ? (
        <details>
          <summary>All details</summary>
          <pre class="cs-text">{JSON.stringify(props.details, null, 2)}</pre>
        </details>
      ) : null}
    </>
  );
}

function format(value: unknown): string {
  if (typeof value === 'number')
    return value > 0 && value < 1 ? `${Math.round(value * 100)}%` : String(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function TurnSummary(props: { turns: Workflow[] }) {
  return (
    <p class="cs-muted">
      {props.turns.length} turn{props.turns.length === 1 ? '' : 's'}:{' '}
      {props.turns.map((t, i) => {
        const turn = readTurn(t.data);
        return (
          <span>
            {i > 0 ? '; ' : ''}
            {i + 1}. {t.state.replace(/_/g, ' ')} at step {turn.step.replace(/_/g, ' ')}
          </span>
        );
      })}
    </p>
  );
}

function Approvals(props: { approvals: Approval[] }) {
  if (props.approvals.length === 0) return <p>None.</p>;
  return (
    <div class="cs-scroll">
      <table class="cs-table">
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col">Status</th>
            <th scope="col">Decided</th>
            <th scope="col">Draft</th>
            <th scope="col">Sent</th>
          </tr>
        </thead>
        <tbody>
          {props.approvals.map((a) => (
            <tr>
              <td>{a.status === 'pending' ? <a href={`/dashboard#item-${a.id}`}>{a.id}</a> : a.id}</td>
              <td>
                <Badge value={a.status} />
                {a.obsoleteReason ? ` (${a.obsoleteReason.replace(/_/g, ' ')})` : ''}
              </td>
              <td>
                {a.decidedBy ? `${a.decidedBy}, ` : ''}
                <When at={a.decidedAt} />
                {a.notes ? <p class="cs-muted">Note: {a.notes}</p> : null}
              </td>
              <td class="cs-text">{a.draft}</td>
              <td class="cs-text">{a.sentText ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Escalations(props: { escalations: Escalation[] }) {
  if (props.escalations.length === 0) return <p>None.</p>;
  return (
    <ul>
      {props.escalations.map((e) => (
        <li>
          <a
            href={`/dashboard/escalations?status=any&conversation=${encodeURIComponent(e.conversationId)}#esc-${e.id}`}
          >
            {e.id}
          </a>{' '}
          <Badge value={e.status} /> <Badge value={e.severity} /> {e.type.replace(/_/g, ' ')}: {e.reason}{' '}
          (assigned to {e.assignedTo}
          {e.resolvedBy ? `; resolved by ${e.resolvedBy}` : ''})
        </li>
      ))}
    </ul>
  );
}

function Plans(props: { plans: PlanRow[] }) {
  if (props.plans.length === 0) return <p>None.</p>;
  return (
    <ul>
      {props.plans.map((p) => (
        <li>
          <a href={`/dashboard/plans/${encodeURIComponent(p.id)}`}>
            {centsToDollars(p.weeklyAmountCents)} a week × {p.weeks} from {p.startDate}
          </a>{' '}
          <Badge value={p.status} />
        </li>
      ))}
    </ul>
  );
}
