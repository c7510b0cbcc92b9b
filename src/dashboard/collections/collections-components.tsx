import type { Child } from 'hono/jsx';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { DashboardEnv, NavKey } from '../dashboard-env.js';
import { Layout } from '../layout.js';
import { errorPage as shellErrorPage } from '../error-page.js';
import { canAct } from '../forms.js';
import { COLLECTIONS_CSS_URL } from './collections-assets.js';

/**
 * Pieces the collections pages share: their stylesheet, times and money as people read them,
 * status badges, notices, the decider check and the error page. hono/jsx escapes every value.
 */

/** Managers and admins decide; viewers read. */
export const canDecide = canAct;

/** A page for a refused request: the message as an alert and a way back; never a 5xx for input. */
export function errorPage(
  c: Context<DashboardEnv>,
  status: ContentfulStatusCode,
  props: {
    title: string;
    active: NavKey | undefined;
    message: string;
    back?: { href: string; label: string };
  },
) {
  return shellErrorPage(c, status, props.message, {
    title: props.title,
    ...(props.active ? { active: props.active } : {}),
    ...(props.back ? { back: props.back } : {}),
  });
}

/** The dashboard's Layout plus the collections stylesheet. */
export function CollectionsPage(props: {
  title: string;
  active: NavKey | undefined;
  c: Context<DashboardEnv>;
  children?: Child;
}) {
  return (
    <Layout
      title={props.title}
      active={props.active}
      user={props.c.get('user')}
      csrfToken={props.c.get('csrfToken')}
    >
      <link rel="stylesheet" href={COLLECTIONS_CSS_URL} />
      {props.children}
    </Layout>
  );
}

export function Notice(props: { kind: 'error' | 'success' | 'info'; children?: Child }) {
  return (
    <div class={`cs-notice cs-notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

/** `2025-01-15 15:30 UTC`, with the exact instant in the datetime attribute. */
export function When(props: { at: Date | null | undefined }) {
  if (!props.at) return <span class="cs-muted">—</span>;
  const iso = props.at.toISOString();
  return <time datetime={iso}>{`${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`}</time>;
}

export const dollars = (amount: number) =>
  amount.toLocaleString('en-US', { style: 'currency', currency: 'USD' });
export const centsToDollars = (cents: number) => dollars(cents / 100);

const BADGE_TONE: Record<string, string> = {
  pending: 'warn',
  awaiting_approval: 'warn',
  pending_approval: 'warn',
  validated: 'warn',
  queued: 'info',
  processing: 'info',
  scheduled: 'info',
  sending: 'info',
  open: 'info',
  approved: 'ok',
  modified: 'ok',
  sent: 'ok',
  delivered: 'ok',
  completed: 'ok',
  active: 'ok',
  resolved: 'ok',
  received: 'neutral',
  rejected: 'bad',
  obsolete: 'neutral',
  failed: 'bad',
  undelivered: 'bad',
  escalated: 'bad',
  opted_out: 'bad',
  defaulted: 'bad',
  critical: 'bad',
  high: 'bad',
  medium: 'warn',
  low: 'neutral',
  paid: 'ok',
  due: 'warn',
  upcoming: 'neutral',
  missed: 'bad',
  overdue: 'bad',
};

/** A status word in a coloured box; the word itself carries the meaning (never colour alone). */
export function Badge(props: { value: string }) {
  return (
    <span class={`cs-badge cs-badge-${BADGE_TONE[props.value] ?? 'neutral'}`}>
      {props.value.replace(/_/g, ' ')}
    </span>
  );
}

export const percent = (confidence: number) => `${Math.round(confidence * 100)}%`;

/** A form field's string, trimmed; undefined when absent, a file, or repeated. */
export function formString(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  return typeof value === 'string' ? value : undefined;
}

/** Browsers send textarea newlines as CRLF; the tenant gets LF like every other reply. */
export const normalizeNewlines = (text: string) => text.replace(/\r\n?/g, '\n');

/**
 * One labelled select of a GET filter form: an optional "any" choice (empty value), then the
 * values, the current one selected. `show` words a value for people (identity by default).
 */
export function FilterSelect(props: {
  id: string;
  name: string;
  label: string;
  values: readonly string[];
  selected: string | undefined;
  any?: string;
  show?: (value: string) => string;
}) {
  const show = props.show ?? ((v: string) => v);
  return (
    <div class="cs-field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name}>
        {props.any !== undefined ? <option value="">{props.any}</option> : null}
        {props.values.map((v) => (
          <option value={v} selected={v === props.selected}>
            {show(v)}
          </option>
        ))}
      </select>
    </div>
  );
}

/** snake_case codes as words: "awaiting_approval" → "awaiting approval". */
export const words = (code: string) => code.replace(/_/g, ' ');
