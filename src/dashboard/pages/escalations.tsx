import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { resolveEscalation, type Escalation } from '../../collections/collections-store.js';
import { inTransaction } from '../../core/db/transaction.js';
import type { CoreServices } from '../../main.js';
import { requireDashboardRole } from '../auth/role-guard.js';
import type { DashboardEnv, PageRegistrar } from '../dashboard-env.js';
import { readForm } from '../forms.js';
import { CsrfField } from '../layout.js';
import { registerCollectionsAssets } from '../collections/collections-assets.js';
import {
  FilterSelect,
  words,
  Badge,
  canDecide,
  CollectionsPage,
  errorPage,
  formString,
  normalizeNewlines,
  Notice,
  When,
} from '../collections/collections-components.js';
import {
  assignOpenEscalation,
  escalationById,
  escalationFacets,
  listEscalations,
  SEVERITIES,
  type EscalationFilter,
} from '../collections/collections-queries.js';
import type { Child } from 'hono/jsx';

/**
 * Escalations (/dashboard/escalations): newest first, open ones by default, filtered by status,
 * type, severity, assignee and conversation. Managers assign an open one to a person or team and
 * resolve it (the API's POST /escalations/{id}/assign and /resolve, in one transaction each);
 * resolving the last open one lets the conversation take automatic replies again.
 */

const LIST_LIMIT = 200;
const ESC_ID = /^esc_[A-Za-z0-9_-]{1,60}$/;
const TEAMS = ['collections_team', 'supervisor_team', 'legal_team'];
const MAX_TEXT = 2_000;

type Filter = EscalationFilter & { statusParam: 'open' | 'resolved' | 'any' };

/** The filter from a query string; a value outside the choices is an error, never ignored. */
function parseFilter(params: URLSearchParams): { filter: Filter } | { error: string } {
  const status = params.get('status') || 'open';
  if (status !== 'open' && status !== 'resolved' && status !== 'any') {
    return { error: `There is no status "${status}"; choose open, resolved or any.` };
  }
  const severity = params.get('severity') || undefined;
  if (severity !== undefined && !(SEVERITIES as readonly string[]).includes(severity)) {
    return { error: `There is no severity "${severity}"; choose one of ${SEVERITIES.join(', ')}.` };
  }
  const type = params.get('type')?.trim() || undefined;
  const assignee = params.get('assignee')?.trim() || undefined;
  const conversation = params.get('conversation')?.trim() || undefined;
  if ((type?.length ?? 0) > 60 || (assignee?.length ?? 0) > 200 || (conversation?.length ?? 0) > 200) {
    return { error: 'A filter value is too long.' };
  }
  return {
    filter: {
      statusParam: status,
      status: status === 'any' ? undefined : status,
      severity: severity as Filter['severity'],
      type,
      assignee,
      conversation,
      limit: LIST_LIMIT,
    },
  };
}

/** The filter as a query string, for links and the forms' way back. */
function filterQuery(filter: Filter): string {
  const params = new URLSearchParams();
  params.set('status', filter.statusParam);
  if (filter.type) params.set('type', filter.type);
  if (filter.severity) params.set('severity', filter.severity);
  if (filter.assignee) params.set('assignee', filter.assignee);
  if (filter.conversation) params.set('conversation', filter.conversation);
  return params.toString();
}

export const registerEscalationsPages: PageRegistrar = (app, { core }) => {
  registerCollectionsAssets(app);

  app.get('/escalations', async (c) => {
    const parsed = parseFilter(new URL(c.req.url).searchParams);
    if ('error' in parsed) {
      return errorPage(c, 400, {
        title: 'Escalations',
        active: 'escalations',
        message: parsed.error,
        back: { href: '/dashboard/escalations', label: 'Open escalations' },
      });
    }
    const done = c.req.query('done');
    const notice = done && ESC_ID.test(done) ? await doneNotice(core, done) : undefined;
    return listPage(c, core, parsed.filter, 200, notice);
  });

  app.post('/escalations/:id/assign', requireDashboardRole('manager'), async (c) => {
    const id = c.req.param('id');
    const body = await readForm(c);
    const filter = backFilter(formString(body, 'back'));
    const assignee = formString(body, 'assigned_to')?.trim() ?? '';
    const refuse = (status: ContentfulStatusCode, message: string) =>
      listPage(c, core, filter, status, <Notice kind="error">{message}</Notice>);
    if (!ESC_ID.test(id)) return refuse(404, `There is no escalation ${id}.`);
    if (assignee === '' || assignee.length > 200) {
      return refuse(400, 'Say who takes it: a person or team, 1 to 200 characters.');
    }
    const result = await inTransaction(core.db, (tx) => assignOpenEscalation(tx, id, assignee));
    if (!result.escalation) return refuse(404, `There is no escalation ${id}.`);
    if (result.resolved) {
      return refuse(
        409,
        `Escalation ${id} was already resolved by ${result.escalation.resolvedBy ?? 'someone'}; it was not reassigned.`,
      );
    }
    return c.redirect(`/dashboard/escalations?${filterQuery(filter)}&done=${encodeURIComponent(id)}`, 303);
  });

  app.post('/escalations/:id/resolve', requireDashboardRole('manager'), async (c) => {
    const id = c.req.param('id');
    const body = await readForm(c);
    const filter = backFilter(formString(body, 'back'));
    const resolution = normalizeNewlines(formString(body, 'resolution') ?? '').trim() || undefined;
    const refuse = (status: ContentfulStatusCode, message: string) =>
      listPage(c, core, filter, status, <Notice kind="error">{message}</Notice>);
    if (!ESC_ID.test(id)) return refuse(404, `There is no escalation ${id}.`);
    if (resolution !== undefined && resolution.length > MAX_TEXT) {
      return refuse(400, `The resolution is ${resolution.length} characters; at most ${MAX_TEXT} are kept.`);
    }
    const result = await inTransaction(core.db, (tx) =>
      resolveEscalation(
        tx,
        { workflows: core.workflows },
        { escalationId: id, resolvedBy: c.get('user').username, resolution, now: core.clock.now() },
      ),
    );
    if (!result.escalation) return refuse(404, `There is no escalation ${id}.`);
    if (result.alreadyResolved) {
      return refuse(
        409,
        `Escalation ${id} was already resolved by ${result.escalation.resolvedBy ?? 'someone'}.`,
      );
    }
    return c.redirect(`/dashboard/escalations?${filterQuery(filter)}&done=${encodeURIComponent(id)}`, 303);
  });
};

/** The list the form came from; its own filter when the field is missing or altered. */
function backFilter(back: string | undefined): Filter {
  const parsed = parseFilter(new URLSearchParams(back ?? ''));
  if ('filter' in parsed) return parsed.filter;
  return { statusParam: 'open', status: 'open', limit: LIST_LIMIT };
}

async function doneNotice(core: CoreServices, id: string) {
  const escalation = await escalationById(core.db, id);
  if (!escalation) return undefined;
  return (
    <Notice kind="success">
      {escalation.status === 'resolved'
        ? `Escalation ${id} is resolved (by ${escalation.resolvedBy ?? 'someone'}).`
        : `Escalation ${id} is assigned to ${escalation.assignedTo}.`}{' '}
      <a href={`/dashboard/conversations/${encodeURIComponent(escalation.conversationId)}`}>
        Open conversation {escalation.conversationId}
      </a>
    </Notice>
  );
}

async function listPage(
  c: Context<DashboardEnv>,
  core: CoreServices,
  filter: Filter,
  status: ContentfulStatusCode,
  notice: Child,
) {
  const [rows, facets] = await Promise.all([listEscalations(core.db, filter), escalationFacets(core.db)]);
  const assignees = [...new Set([...TEAMS, ...facets.assignees])].sort();
  const now = core.clock.now();
  const decider = canDecide(c.get('user'));
  const back = filterQuery(filter);
  return c.html(
    <CollectionsPage title="Escalations" active="escalations" c={c}>
      {notice}
      <form method="get" action="/dashboard/escalations" class="cs-filters" role="search">
        <FilterSelect
          id="f-status"
          name="status"
          label="Status"
          values={['open', 'resolved', 'any']}
          selected={filter.statusParam}
        />
        <FilterSelect
          id="f-severity"
          name="severity"
          label="Severity"
          values={SEVERITIES}
          selected={filter.severity}
          any="any"
        />
        <FilterSelect
          id="f-type"
          name="type"
          label="Type"
          values={[...new Set([...facets.types, ...(filter.type ? [filter.type] : [])])]}
          selected={filter.type}
          any="any"
          show={words}
        />
        <FilterSelect
          id="f-assignee"
          name="assignee"
          label="Assigned to"
          values={[...new Set([...assignees, ...(filter.assignee ? [filter.assignee] : [])])]}
          selected={filter.assignee}
          any="anyone"
        />
        {filter.conversation ? <input type="hidden" name="conversation" value={filter.conversation} /> : null}
        <button type="submit" class="cs-primary">
          Filter
        </button>
      </form>
      {filter.conversation ? (
        <p>
          Only conversation {filter.conversation}.{' '}
          <a href={`/dashboard/escalations?status=${filter.statusParam}`}>Show every conversation</a>
        </p>
      ) : null}
      <p role="status">
        {rows.length} escalation{rows.length === 1 ? '' : 's'}
        {rows.length === LIST_LIMIT ? ` (the newest ${LIST_LIMIT})` : ''}.
      </p>
      <datalist id="assignees">
        {assignees.map((a) => (
          <option value={a} />
        ))}
      </datalist>
      {rows.length === 0 ? (
        <p>No escalations match.</p>
      ) : (
        <ol class="cs-list" aria-label="Escalations">
          {rows.map((e) => (
            <li>
              <EscalationCard e={e} now={now} decider={decider} csrfToken={c.get('csrfToken')} back={back} />
            </li>
          ))}
        </ol>
      )}
    </CollectionsPage>,
    status,
  );
}

function EscalationCard(props: {
  e: Escalation;
  now: Date;
  decider: boolean;
  csrfToken: string;
  back: string;
}) {
  const { e } = props;
  const overdue = e.status === 'open' && e.expectedResolutionAt.getTime() < props.now.getTime();
  const title = `esc-${e.id}-title`;
  return (
    <article class="cs-card" id={`esc-${e.id}`} aria-labelledby={title}>
      <h2 id={title}>
        {e.type.replace(/_/g, ' ')} <Badge value={e.severity} /> <Badge value={e.status} />
      </h2>
      <p class="cs-text">{e.reason}</p>
      <dl class="cs-facts">
        <dt>Conversation</dt>
        <dd>
          <a href={`/dashboard/conversations/${encodeURIComponent(e.conversationId)}`}>{e.conversationId}</a>
          {e.tenantId ? ` (tenant ${e.tenantId})` : ''}
        </dd>
        <dt>Escalated</dt>
        <dd>
          <When at={e.createdAt} /> by {e.escalatedBy}
          {e.autoDetected ? ' (automatic)' : ''}
        </dd>
        <dt>Assigned to</dt>
        <dd>{e.assignedTo}</dd>
        <dt>Resolve by</dt>
        <dd>
          <When at={e.expectedResolutionAt} />
          {overdue ? (
            <>
              {' '}
              <Badge value="overdue" />
            </>
          ) : null}
        </dd>
        {e.status === 'resolved' ? (
          <>
            <dt>Resolved</dt>
            <dd>
              <When at={e.resolvedAt} /> by {e.resolvedBy ?? 'someone'}
            </dd>
            <dt>Resolution</dt>
            <dd class="cs-text">{e.resolution ?? '—'}</dd>
          </>
        ) : null}
        <dt>Id</dt>
        <dd>{e.id}</dd>
      </dl>
      {props.decider && e.status === 'open' ? (
        <div class="cs-inline-forms">
          <form method="post" action={`/dashboard/escalations/${encodeURIComponent(e.id)}/assign`}>
            <CsrfField token={props.csrfToken} />
            <input type="hidden" name="back" value={props.back} />
            <div class="cs-field">
              <label for={`assign-${e.id}`}>Assign to</label>
              <input
                id={`assign-${e.id}`}
                name="assigned_to"
                type="text"
                list="assignees"
                required
                maxlength={200}
                value={e.assignedTo}
              />
            </div>
            <div class="cs-actions">
              <button type="submit">Assign</button>
            </div>
          </form>
          <form method="post" action={`/dashboard/escalations/${encodeURIComponent(e.id)}/resolve`}>
            <CsrfField token={props.csrfToken} />
            <input type="hidden" name="back" value={props.back} />
            <div class="cs-field">
              <label for={`resolution-${e.id}`}>Resolution (what was done)</label>
              <textarea id={`resolution-${e.id}`} name="resolution" rows={2} maxlength={MAX_TEXT}></textarea>
            </div>
            <div class="cs-actions">
              <button type="submit" class="cs-primary">
                Resolve
              </button>
            </div>
          </form>
        </div>
      ) : null}
    </article>
  );
}
