import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { collectionsMetrics, type StoredMetrics } from '../../collections/metrics-query.js';
import type { DashboardEnv, PageRegistrar } from '../dashboard-env.js';
import { Layout } from '../layout.js';
import {
  isSeriesWindow,
  metricsSeries,
  SERIES_WINDOWS,
  type MetricsSeries,
  type SeriesWindowKey,
} from '../metrics-series.js';

/**
 * The metrics page: texts per hour, the auto-send rate, how long approvals wait, escalations by
 * type and payment plans, over the last 24 hours (hourly) or 7 days (6-hour buckets). Everything
 * is read from stored rows (metrics-series.ts and the collections metrics query), drawn as SVG on
 * the server: each chart is role="img" with a <title> and <desc>, and its figures are also given
 * as a table. Times are UTC, as in GET /orchestrate/metrics.
 */

export const registerMetricsPages: PageRegistrar = (app, { core }) => {
  app.get('/metrics', async (c) => {
    const requested = c.req.query('window') ?? '24h';
    if (!isSeriesWindow(requested)) {
      c.status(400);
      return c.html(
        <Page c={c}>
          <p role="alert" class="flash bad">
            Unknown time window. Choose <a href="/dashboard/metrics?window=24h">the last 24 hours</a> or{' '}
            <a href="/dashboard/metrics?window=7d">the last 7 days</a>.
          </p>
        </Page>,
      );
    }
    const window = SERIES_WINDOWS[requested];
    const now = core.clock.now();
    const [series, totals] = await Promise.all([
      metricsSeries(core.db, { now, hours: window.hours, bucketHours: window.bucketHours }),
      collectionsMetrics(core.db, { now, hours: window.hours }),
    ]);
    return c.html(
      <Page c={c}>
        <WindowPicker current={requested} />
        <p>
          {window.label}, in buckets of{' '}
          {window.bucketHours === 1 ? 'one hour' : `${window.bucketHours} hours`} (UTC), up to{' '}
          {formatUtc(now)}.
        </p>
        <Summary totals={totals} />
        <Charts series={series} totals={totals} />
      </Page>,
    );
  });
};

function Page(props: { c: Context<DashboardEnv>; children?: Child }) {
  return (
    <Layout title="Metrics" active="metrics" user={props.c.get('user')} csrfToken={props.c.get('csrfToken')}>
      {props.children}
    </Layout>
  );
}

function WindowPicker(props: { current: SeriesWindowKey }) {
  return (
    <nav aria-label="Time window" class="window-picker">
      {(Object.keys(SERIES_WINDOWS) as SeriesWindowKey[]).map((key) => (
        <a
          href={`/dashboard/metrics?window=${key}`}
          aria-current={key === props.current ? 'page' : undefined}
          class={key === props.current ? 'button' : 'button button-secondary'}
        >
          {SERIES_WINDOWS[key].label}
        </a>
      ))}
    </nav>
  );
}

function Summary(props: { totals: StoredMetrics }) {
  const t = props.totals.timeframe;
  const items: [string, string, string][] = [
    ['texts-received', 'Tenant texts received', String(t.sms_metrics.received)],
    ['auto-send-rate', 'Sent without a person', percent(t.approval_metrics.auto_approval_rate)],
    ['approval-time', 'Average approval wait', duration(t.approval_metrics.avg_approval_time_ms)],
    ['escalations', 'Escalations', String(t.escalation_metrics.total)],
    [
      'payment-plans',
      'Payment plans (valid / auto-approvable)',
      `${t.payment_plan_metrics.detected} (${t.payment_plan_metrics.validated} / ${t.payment_plan_metrics.auto_approved})`,
    ],
  ];
  return (
    <section aria-labelledby="summary-heading">
      <h2 id="summary-heading">Summary</h2>
      <dl class="facts">
        {items.map(([key, label, value]) => (
          <div data-figure={key}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function Charts(props: { series: MetricsSeries; totals: StoredMetrics }) {
  const { buckets, bucketHours } = props.series;
  const labels = buckets.map((b) => bucketLabel(b.start));
  const per = bucketHours === 1 ? 'per hour' : `per ${bucketHours} hours`;
  const byType = Object.entries(props.totals.timeframe.escalation_metrics.by_type).sort(
    (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
  );
  return (
    <>
      <BarChart
        id="texts"
        title={`Texts ${per}`}
        description="Texts received from and sent to any number (tenants and the mailbox owner), by the time they were stored."
        labels={labels}
        series={[
          { key: 'in', name: 'Received', values: buckets.map((b) => b.textsIn), fill: '#1f5fa8' },
          { key: 'out', name: 'Sent', values: buckets.map((b) => b.textsOut), fill: '#a34f00' },
        ]}
        format={String}
      />
      <BarChart
        id="auto-send"
        title={`Auto-send rate ${per}`}
        description="Of the tenant turns with a routing decision, the share whose reply went out without a person."
        labels={labels}
        series={[
          {
            key: 'rate',
            name: 'Sent without a person',
            values: buckets.map((b) => (b.turnsDecided > 0 ? b.turnsAutoSent / b.turnsDecided : 0)),
            fill: '#2b6e3f',
            detail: buckets.map((b) => `${b.turnsAutoSent} of ${b.turnsDecided}`),
          },
        ]}
        format={percent}
        max={1}
      />
      <BarChart
        id="approval-time"
        title={`Approval wait ${per}`}
        description="Mean time from a draft queued for a manager to the manager's decision, for drafts queued in each bucket and decided since."
        labels={labels}
        series={[
          {
            key: 'wait',
            name: 'Average wait',
            values: buckets.map((b) => b.avgApprovalMs),
            fill: '#6b3fa0',
            detail: buckets.map((b) => `${b.approvalsDecided} decided`),
          },
        ]}
        format={duration}
      />
      <BarChart
        id="plans"
        title={`Payment plans ${per}`}
        description="Payment plans detected in tenant texts."
        labels={labels}
        series={[
          { key: 'plans', name: 'Detected', values: buckets.map((b) => b.plansDetected), fill: '#00697a' },
        ]}
        format={String}
      />
      <BarChart
        id="escalations-by-type"
        title="Escalations by type"
        description="Escalations created in the window, by type, open or resolved."
        labels={byType.map(([type]) => type)}
        series={[
          { key: 'escalations', name: 'Escalations', values: byType.map(([, n]) => n), fill: '#8e244d' },
        ]}
        format={String}
        horizontal
        empty="No escalations in this window."
      />
    </>
  );
}

type ChartSeries = {
  key: string;
  name: string;
  values: number[];
  /** An SVG presentation attribute (allowed under the CSP, unlike a style attribute). */
  fill: string;
  /** What the table shows beside each value, e.g. "3 of 4". */
  detail?: string[];
};

const W = 640;
const H = 240;
const M = { top: 12, right: 12, bottom: 36, left: 56 };

/** A bar chart as SVG with a table of the same figures; vertical (time) or horizontal (categories). */
function BarChart(props: {
  id: string;
  title: string;
  description: string;
  labels: string[];
  series: ChartSeries[];
  format: (value: number) => string;
  max?: number;
  horizontal?: boolean;
  empty?: string;
}) {
  const { id, labels, series, format } = props;
  const all = series.flatMap((s) => s.values);
  const max = props.max ?? niceMax(Math.max(0, ...all));
  const headingId = `${id}-heading`;
  const legend =
    series.length > 1 ? (
      <ul class="legend">
        {series.map((s) => (
          <li>
            <svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true">
              <rect width="12" height="12" fill={s.fill} />
            </svg>{' '}
            {s.name}
          </li>
        ))}
      </ul>
    ) : null;
  if (labels.length === 0) {
    return (
      <section aria-labelledby={headingId} class="chart" data-chart={id}>
        <h2 id={headingId}>{props.title}</h2>
        <p>{props.empty ?? 'Nothing in this window.'}</p>
      </section>
    );
  }
  return (
    <section aria-labelledby={headingId} class="chart" data-chart={id}>
      <h2 id={headingId}>{props.title}</h2>
      {legend}
      {props.horizontal ? <HorizontalBars {...props} max={max} /> : <VerticalBars {...props} max={max} />}
      <details>
        <summary>{`${props.title}: table`}</summary>
        <div class="table-wrap">
          <table data-table={id}>
            <caption>{props.title}</caption>
            <thead>
              <tr>
                <th scope="col">{props.horizontal ? 'Type' : 'From (UTC)'}</th>
                {series.map((s) => (
                  <th scope="col">{s.name}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {labels.map((label, i) => (
                <tr>
                  <th scope="row">{label}</th>
                  {series.map((s) => (
                    <td data-series={s.key}>
                      {format(s.values[i] ?? 0)}
                      {s.detail ? ` (${s.detail[i] ?? ''})` : ''}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  );
}

type BarsProps = Parameters<typeof BarChart>[0] & { max: number };

function VerticalBars(props: BarsProps) {
  const { id, labels, series, format, max } = props;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const slot = plotW / labels.length;
  const gap = Math.min(4, slot * 0.2);
  const barW = (slot - gap) / series.length;
  const y = (v: number) => M.top + plotH - (max > 0 ? (Math.min(v, max) / max) * plotH : 0);
  // About eight labels fit under the axis at any width.
  const every = Math.ceil(labels.length / 8);
  return (
    <svg
      viewBox={`0 0 ${W} ${H}`}
      width="100%"
      role="img"
      aria-labelledby={`${id}-title ${id}-desc`}
      class="chart-svg"
    >
      <title id={`${id}-title`}>{props.title}</title>
      <desc id={`${id}-desc`}>
        {`${props.description} Highest value ${format(Math.max(0, ...series.flatMap((s) => s.values)))}. The same figures are in the table below.`}
      </desc>
      <line x1={M.left} y1={M.top + plotH} x2={W - M.right} y2={M.top + plotH} stroke="#555" />
      <line x1={M.left} y1={M.top} x2={W - M.right} y2={M.top} stroke="#ddd" />
      <text
        x={M.left - 6}
        y={M.top + plotH}
        text-anchor="end"
        dominant-baseline="middle"
        font-size="12"
        fill="#333"
      >
        {format(0)}
      </text>
      <text x={M.left - 6} y={M.top} text-anchor="end" dominant-baseline="middle" font-size="12" fill="#333">
        {format(max)}
      </text>
      {labels.map((label, i) =>
        series.map((s, k) => {
          const value = s.values[i] ?? 0;
          const top = y(value);
          return (
            <rect
              x={M.left + i * slot + gap / 2 + k * barW}
              y={top}
              width={Math.max(barW, 1)}
              height={M.top + plotH - top}
              fill={s.fill}
              data-series={s.key}
              data-bucket={label}
              data-value={String(value)}
            >
              <title>{`${label}: ${s.name} ${format(value)}`}</title>
            </rect>
          );
        }),
      )}
      {labels.map((label, i) =>
        i % every === 0 ? (
          <text
            x={M.left + i * slot + slot / 2}
            y={H - M.bottom + 16}
            text-anchor="middle"
            font-size="12"
            fill="#333"
          >
            {shortLabel(label)}
          </text>
        ) : null,
      )}
    </svg>
  );
}

function HorizontalBars(props: BarsProps) {
  const { id, labels, series, format, max } = props;
  const row = 28;
  const left = 150;
  const height = M.top + labels.length * row + 8;
  const plotW = W - left - 60;
  const s = series[0];
  if (!s) return null;
  return (
    <svg
      viewBox={`0 0 ${W} ${height}`}
      width="100%"
      role="img"
      aria-labelledby={`${id}-title ${id}-desc`}
      class="chart-svg"
    >
      <title id={`${id}-title`}>{props.title}</title>
      <desc id={`${id}-desc`}>
        {`${props.description} ${labels.map((l, i) => `${l}: ${format(s.values[i] ?? 0)}`).join('; ')}.`}
      </desc>
      {labels.map((label, i) => {
        const value = s.values[i] ?? 0;
        const yTop = M.top + i * row;
        const width = max > 0 ? (value / max) * plotW : 0;
        return (
          <g>
            <text
              x={left - 8}
              y={yTop + row / 2}
              text-anchor="end"
              dominant-baseline="middle"
              font-size="13"
              fill="#333"
            >
              {label}
            </text>
            <rect
              x={left}
              y={yTop + 4}
              width={Math.max(width, 1)}
              height={row - 8}
              fill={s.fill}
              data-series={s.key}
              data-bucket={label}
              data-value={String(value)}
            />
            <text
              x={left + width + 6}
              y={yTop + row / 2}
              dominant-baseline="middle"
              font-size="13"
              fill="#333"
            >
              {format(value)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** A round upper bound for an axis: 1, 2, 5 × 10ⁿ. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

function percent(value: number): string {
  return `${Math.round(value * 1000) / 10}%`;
}

function duration(ms: number): string {
  if (ms <= 0) return '0 s';
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 6_000) / 10} min`;
  return `${Math.round(ms / 360_000) / 10} h`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** "2026-12-05 14:00", the bucket's start in UTC. */
function bucketLabel(start: Date): string {
  const date = `${start.getUTCFullYear()}-${pad(start.getUTCMonth() + 1)}-${pad(start.getUTCDate())}`;
  return `${date} ${pad(start.getUTCHours())}:00`;
}

/** Under the axis: the hour, or the date at midnight. */
function shortLabel(label: string): string {
  const [date, time] = label.split(' ');
  return time === '00:00' ? (date?.slice(5) ?? label) : (time ?? label);
}

function formatUtc(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
