import { zonesForPhone } from '../../collections/allowed-hours.js';
import { parseIsoDate, requireIsoDate } from '../../collections/calendar-date.js';
import { getConversation } from '../../collections/collections-store.js';
import {
  describeIssue,
  DEFAULT_PLAN_RULES,
  missedInstalments,
  type Instalment,
  type PlanIssue,
} from '../../collections/payment-plan.js';
import { tenantToday } from '../../collections/plan-jobs.js';
import { latestDateAnywhere } from '../../collections/plan-routes.js';
import {
  asPlanPayments,
  PLAN_STATUSES,
  planSchedule,
  planView,
  type PlanPaymentRow,
  type PlanView,
} from '../../collections/plans-store.js';
import type { PageRegistrar } from '../dashboard-env.js';
import { registerCollectionsAssets } from '../collections/collections-assets.js';
import {
  FilterSelect,
  words,
  Badge,
  centsToDollars,
  CollectionsPage,
  dollars,
  errorPage,
  percent,
  When,
} from '../collections/collections-components.js';
import { listPlans, paymentsForPlans, planWithPayments } from '../collections/collections-queries.js';

/**
 * Payment plans: the list (/dashboard/plans, newest first, by status) and one plan
 * (/dashboard/plans/:id) with its schedule, its payments and the instalments it has missed.
 * Amounts paid and remaining are the API's (payments dated up to the latest date anywhere);
 * an instalment is "missed" as the plan check sees it: unpaid past its grace days on the
 * tenant's own date (the earliest date among the zones plausible for their number).
 */

const LIST_LIMIT = 200;
const PLAN_ID = /^pp_[A-Za-z0-9_-]{1,60}$/;

export const registerPlansPages: PageRegistrar = (app, { core }) => {
  registerCollectionsAssets(app);
  const graceDays = core.config.collections.planGraceDays;
  const rules = {
    ...DEFAULT_PLAN_RULES,
    maxWeeks: core.config.collections.maxPaymentWeeks,
    minWeekly: core.config.collections.minWeeklyPayment,
    maxStartDays: core.config.collections.planMaxStartDays,
  };

  app.get('/plans', async (c) => {
    const raw = c.req.query('status') ?? '';
    const status = (PLAN_STATUSES as readonly string[]).includes(raw) ? raw : undefined;
    if (raw !== '' && !status) {
      return errorPage(c, 400, {
        title: 'Payment plans',
        active: 'plans',
        message: `There is no plan status "${raw}"; choose one of ${PLAN_STATUSES.join(', ')}.`,
        back: { href: '/dashboard/plans', label: 'All payment plans' },
      });
    }
    const plans = await listPlans(core.db, { status, limit: LIST_LIMIT });
    const payments = await paymentsForPlans(
      core.db,
      plans.map((p) => p.id),
    );
    const today = latestDateAnywhere(core.clock.now());
    const views = plans.map((p) => planView(p, payments.get(p.id) ?? [], today));
    return c.html(
      <CollectionsPage title="Payment plans" active="plans" c={c}>
        <form method="get" action="/dashboard/plans" class="cs-filters" role="search">
          <FilterSelect
            id="plan-status"
            name="status"
            label="Status"
            values={PLAN_STATUSES}
            selected={status}
            any="any"
            show={words}
          />
          <button type="submit" class="cs-primary">
            Filter
          </button>
        </form>
        <PlanTable views={views} />
        {plans.length === LIST_LIMIT ? <p class="cs-muted">The newest {LIST_LIMIT} are shown.</p> : null}
      </CollectionsPage>,
    );
  });

  app.get('/plans/:id', async (c) => {
    const id = c.req.param('id');
    const found = PLAN_ID.test(id) ? await planWithPayments(core.db, id) : undefined;
    if (!found) {
      return errorPage(c, 404, {
        title: 'Payment plan not found',
        active: 'plans',
        message: `There is no payment plan ${id}.`,
        back: { href: '/dashboard/plans', label: 'All payment plans' },
      });
    }
    const { plan, payments } = found;
    const now = core.clock.now();
    const view = planView(plan, payments, latestDateAnywhere(now));
    const conversation = await getConversation(core.db, plan.conversationId);
    const tenantDay = tenantToday(now, conversation ? zonesForPhone(conversation.phone) : []);
    const instalments = planSchedule(plan);
    const missed = missedInstalments(instalments, asPlanPayments(payments), tenantDay, graceDays);
    return c.html(
      <CollectionsPage title={`Payment plan ${plan.id}`} active="plans" c={c}>
        <p>
          <a href="/dashboard/plans">All payment plans</a>
        </p>
        <dl class="cs-facts">
          <dt>Status</dt>
          <dd>
            <Badge value={plan.status} />
          </dd>
          <dt>Conversation</dt>
          <dd>
            <a href={`/dashboard/conversations/${encodeURIComponent(plan.conversationId)}`}>
              {plan.conversationId}
            </a>
            {plan.tenantId ? ` (tenant ${plan.tenantId})` : ''}
          </dd>
          <dt>Terms</dt>
          <dd>
            {dollars(view.weekly_amount)} a week × {view.weeks} weeks from {plan.startDate}
          </dd>
          <dt>Owed when agreed</dt>
          <dd>{centsToDollars(plan.amountOwedCents)}</dd>
          <dt>Total</dt>
          <dd>{dollars(view.total_amount)}</dd>
          <dt>Paid</dt>
          <dd>{dollars(view.amount_paid)}</dd>
          <dt>Remaining</dt>
          <dd>{dollars(view.amount_remaining)}</dd>
          <dt>Ends</dt>
          <dd>{view.end_date?.slice(0, 10) ?? '—'}</dd>
          <dt>Read from the text with</dt>
          <dd>
            {plan.confidence === null ? 'no confidence given' : `${percent(plan.confidence)} confidence`}
          </dd>
          <dt>Recorded</dt>
          <dd>
            <When at={plan.createdAt} />
          </dd>
          <dt>Tenant's date today</dt>
          <dd>
            {tenantDay} (an instalment is missed {graceDays} day{graceDays === 1 ? '' : 's'} after it is due)
          </dd>
        </dl>
        <Validation view={view} rules={rules} />
        {plan.messageContent ? (
          <section aria-labelledby="said-title">
            <h2 id="said-title">What the tenant wrote</h2>
            <p class="cs-text">{plan.messageContent}</p>
            {plan.aiResponse ? (
              <>
                <h3>The drafted reply</h3>
                <p class="cs-text">{plan.aiResponse}</p>
              </>
            ) : null}
          </section>
        ) : null}
        <section aria-labelledby="missed-title">
          <h2 id="missed-title">Missed instalments ({missed.length})</h2>
          {missed.length === 0 ? (
            <p>None.</p>
          ) : (
            <ul>
              {missed.map((m) => (
                <li>
                  Instalment {m.number}, due {m.due_date}: {centsToDollars(m.outstanding_cents)} of{' '}
                  {centsToDollars(m.amount_cents)} unpaid, {m.days_overdue} days overdue
                </li>
              ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="schedule-title">
          <h2 id="schedule-title">Schedule</h2>
          <Schedule
            instalments={instalments}
            payments={payments}
            today={tenantDay}
            graceDays={graceDays}
            missed={new Set(missed.map((m) => m.number))}
          />
        </section>
        <section aria-labelledby="payments-title">
          <h2 id="payments-title">Payments ({payments.length})</h2>
          <Payments payments={payments} />
        </section>
      </CollectionsPage>,
    );
  });
};

function PlanTable(props: { views: PlanView[] }) {
  if (props.views.length === 0) return <p>No payment plans match.</p>;
  return (
    <div class="cs-scroll">
      <table class="cs-table">
        <thead>
          <tr>
            <th scope="col">Plan</th>
            <th scope="col">Conversation</th>
            <th scope="col">Status</th>
            <th scope="col" class="cs-num">
              Weekly
            </th>
            <th scope="col" class="cs-num">
              Weeks
            </th>
            <th scope="col">Starts</th>
            <th scope="col" class="cs-num">
              Paid
            </th>
            <th scope="col" class="cs-num">
              Remaining
            </th>
          </tr>
        </thead>
        <tbody>
          {props.views.map((v) => (
            <tr>
              <td>
                <a href={`/dashboard/plans/${encodeURIComponent(v.payment_plan_id)}`}>{v.payment_plan_id}</a>
              </td>
              <td>
                <a href={`/dashboard/conversations/${encodeURIComponent(v.conversation_id)}`}>
                  {v.conversation_id}
                </a>
              </td>
              <td>
                <Badge value={v.status} />
              </td>
              <td class="cs-num">{dollars(v.weekly_amount)}</td>
              <td class="cs-num">{v.weeks}</td>
              <td>{v.start_date.slice(0, 10)}</td>
              <td class="cs-num">{dollars(v.amount_paid)}</td>
              <td class="cs-num">{dollars(v.amount_remaining)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Validation(props: { view: PlanView; rules: typeof DEFAULT_PLAN_RULES }) {
  const { validation_details: v, counter_offer: counter } = props.view;
  if (v.is_valid && !counter) return null;
  return (
    <section aria-labelledby="validation-title">
      <h2 id="validation-title">Against the payment-plan rules</h2>
      {v.issues.length > 0 ? (
        <ul>
          {v.issues.map((issue) => (
            <li>{describeIssue(issue as PlanIssue, props.rules)}</li>
          ))}
        </ul>
      ) : (
        <p>It passes the rules.</p>
      )}
      {counter ? (
        <p>
          Counter-offer: {dollars(counter.weekly_amount)} a week × {counter.weeks} weeks from{' '}
          {counter.start_date.slice(0, 10)} ({dollars(counter.total_amount)} in all).
        </p>
      ) : null}
    </section>
  );
}

/** Each instalment's state on the tenant's date, payments paying the oldest first. */
function Schedule(props: {
  instalments: Instalment[];
  payments: PlanPaymentRow[];
  today: string;
  graceDays: number;
  missed: Set<number>;
}) {
  if (props.instalments.length === 0) return <p>These terms have no schedule (nothing to collect).</p>;
  const day = requireIsoDate(props.today, 'today');
  let unapplied = props.payments
    .filter((p) => (parseIsoDate(p.paidOn) ?? Infinity) <= day)
    .reduce((sum, p) => sum + p.amountCents, 0);
  const rows = props.instalments.map((instalment) => {
    const covered = Math.min(instalment.amount_cents, unapplied);
    unapplied -= covered;
    const due = parseIsoDate(instalment.due_date) ?? Infinity;
    const state =
      covered === instalment.amount_cents
        ? 'paid'
        : props.missed.has(instalment.number)
          ? 'missed'
          : due <= day
            ? 'due'
            : 'upcoming';
    return { instalment, covered, state };
  });
  return (
    <div class="cs-scroll">
      <table class="cs-table">
        <thead>
          <tr>
            <th scope="col" class="cs-num">
              #
            </th>
            <th scope="col">Due</th>
            <th scope="col" class="cs-num">
              Amount
            </th>
            <th scope="col" class="cs-num">
              Paid towards it
            </th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ instalment, covered, state }) => (
            <tr>
              <td class="cs-num">{instalment.number}</td>
              <td>{instalment.due_date}</td>
              <td class="cs-num">{centsToDollars(instalment.amount_cents)}</td>
              <td class="cs-num">{centsToDollars(covered)}</td>
              <td>
                <Badge value={state} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Payments(props: { payments: PlanPaymentRow[] }) {
  if (props.payments.length === 0) return <p>No payments recorded.</p>;
  return (
    <div class="cs-scroll">
      <table class="cs-table">
        <thead>
          <tr>
            <th scope="col">Paid on</th>
            <th scope="col" class="cs-num">
              Amount
            </th>
            <th scope="col">Method</th>
            <th scope="col">Reference</th>
          </tr>
        </thead>
        <tbody>
          {props.payments.map((p) => (
            <tr>
              <td>{p.paidOn}</td>
              <td class="cs-num">{centsToDollars(p.amountCents)}</td>
              <td>{p.method ?? '—'}</td>
              <td>{p.reference ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
