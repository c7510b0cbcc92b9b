import { z } from 'zod';
import {
  INTENTS,
  Intent,
  type CollectionsDraftRequest,
  type DraftResult,
  type LedgerFacts,
} from '../peers/ai/ai-port.js';
import { decideBeforeDraft, decideReply, DEFAULT_POLICY, type CollectionsPolicy } from './decide-reply.js';
import { detectInjection } from './injection.js';
import type { RoutingDecision, RoutingRule } from './routing.js';

/**
 * Issue 7's acceptance on a labelled set of tenant texts (test/data/tenant-texts.json): each text
 * goes through the opt-out check, a drafter, the plan check, the guard and the routing, exactly as
 * decideBeforeDraft / decideReply do in the workflow, with fixed ledger facts.
 *
 * The drafter is passed in: the domain never imports an AI adapter, so the script and the test
 * inject the rules engine (draftWithRules), and an LLM fake can be injected the same way.
 *
 * Floors (asserted by evaluate.test.ts):
 * - 0 auto-sends among texts labelled with an intent in MUST_NOT_AUTO_SEND, and among texts
 *   with injection, whatever their label;
 * - 100 % of texts labelled legal, bankruptcy or dispute reach a person (escalate, or an opt-out
 *   with alsoEscalate);
 * - ≥ 50 % of plainly benign texts (promise_to_pay, balance_question, acknowledgement) auto-sent.
 */

/** The fields this evaluation reads; other fields of the table (plan, seed, note) are ignored. */
export const LabelledTenantText = z
  .object({
    text: z.string().min(1),
    intent: Intent,
    today: z.iso.date().optional(),
    split: z.string().optional(),
  })
  .loose();
export type LabelledTenantText = z.infer<typeof LabelledTenantText>;

export function parseLabelledTenantTexts(json: unknown): LabelledTenantText[] {
  return z.array(LabelledTenantText).min(1).parse(json);
}

export type Drafter = (request: CollectionsDraftRequest) => DraftResult;

/** The seed's example date (a Wednesday); entries may set their own `today`. */
export const EVAL_TODAY = '2025-01-15';

/**
 * A tenant owing $600, the seed example's $50 × 12. "Oak Court" is there on purpose: a property
 * name must not read as a threat of court.
 */
export const EVAL_LEDGER: LedgerFacts = {
  tenantName: 'Maria Lopez',
  amountOwed: 600,
  daysLate: 12,
  propertyName: 'Oak Court',
  lastPayment: { amount: 300, date: '2025-01-03' },
};

/**
 * Never auto-sent: the escalating intents, the texter who may not be the tenant, stop requests
 * the keywords missed, hardship (a person should answer), and texts no intent fits.
 */
export const MUST_NOT_AUTO_SEND: ReadonlySet<Intent> = new Set<Intent>([
  'legal',
  'bankruptcy',
  'dispute',
  'abuse_or_threat',
  'human_request',
  'complaint',
  'wrong_number',
  'opt_out',
  'hardship',
  'other',
]);
export const MUST_ESCALATE: ReadonlySet<Intent> = new Set<Intent>(['legal', 'bankruptcy', 'dispute']);
export const PLAINLY_BENIGN: ReadonlySet<Intent> = new Set<Intent>([
  'promise_to_pay',
  'balance_question',
  'acknowledgement',
]);
export const BENIGN_AUTO_FLOOR = 0.5;

export const DECISIONS: readonly RoutingDecision[] = [
  'auto_send',
  'manager_approval',
  'escalate',
  'opt_out',
  'no_reply',
];

export type EvalRow = {
  text: string;
  labelled: Intent;
  split: string;
  /** What the drafter read; undefined when no draft was made (opt-out words). */
  drafted: Intent | undefined;
  confidence: number | undefined;
  decision: RoutingDecision;
  rule: RoutingRule;
  alsoEscalate: boolean;
  guardFlags: string[];
  injection: boolean;
};

export type FloorCheck = { total: number; failures: EvalRow[] };

export type CollectionsEvalReport = {
  total: number;
  rows: EvalRow[];
  /** labelled intent → decision → count. */
  confusion: Record<Intent, Record<RoutingDecision, number>>;
  mustNotAutoSend: FloorCheck;
  injection: FloorCheck;
  mustEscalate: FloorCheck;
  benign: { total: number; autoSent: number; rate: number };
  /** The floors per split of the table (dev, holdout-1, …): holdouts were not tuned against. */
  bySplit: SplitFigures[];
  ruleCounts: Partial<Record<RoutingRule, number>>;
  guardFlagCounts: Record<string, number>;
  passed: boolean;
};

export type SplitFigures = {
  split: string;
  total: number;
  mustNotAutoSent: number;
  mustEscalateMissed: number;
  benignTotal: number;
  benignAutoSent: number;
};

export type EvalOptions = {
  draft: Drafter;
  ledger?: LedgerFacts | undefined;
  policy?: CollectionsPolicy | undefined;
};

function evaluateOne(entry: LabelledTenantText, options: EvalOptions): EvalRow {
  const ledger = options.ledger ?? EVAL_LEDGER;
  const policy = options.policy ?? DEFAULT_POLICY;
  const today = entry.today ?? EVAL_TODAY;
  const base = {
    text: entry.text,
    labelled: entry.intent,
    split: entry.split ?? 'dev',
    injection: detectInjection(entry.text) !== undefined,
  };
  const inbound = { tenantTexts: [entry.text], conversationState: 'open' as const };
  const before = decideBeforeDraft(inbound);
  if (before.routing) {
    const { decision, rule, alsoEscalate } = before.routing;
    return {
      ...base,
      drafted: undefined,
      confidence: undefined,
      decision,
      rule,
      alsoEscalate,
      guardFlags: [],
    };
  }
  const draft = options.draft({
    kind: 'collections_reply',
    conversation: [{ role: 'tenant', text: entry.text }],
    ledger,
    today,
  });
  const reply = decideReply({ ...inbound, draft, ledger, today, policy });
  return {
    ...base,
    drafted: draft.intent,
    confidence: draft.confidence,
    decision: reply.routing.decision,
    rule: reply.routing.rule,
    alsoEscalate: reply.routing.alsoEscalate,
    guardFlags: reply.guard.flags,
  };
}

function emptyConfusion(): Record<Intent, Record<RoutingDecision, number>> {
  const row = () => Object.fromEntries(DECISIONS.map((d) => [d, 0])) as Record<RoutingDecision, number>;
  return Object.fromEntries(INTENTS.map((i) => [i, row()])) as Record<
    Intent,
    Record<RoutingDecision, number>
  >;
}

function countBy<T extends string>(values: readonly T[]): Partial<Record<T, number>> {
  const counts: Partial<Record<T, number>> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

export function reachesPerson(row: EvalRow): boolean {
  return row.decision === 'escalate' || row.alsoEscalate;
}

function splitFigures(rows: readonly EvalRow[]): SplitFigures[] {
  const splits = [...new Set(rows.map((r) => r.split))];
  return splits.map((split) => {
    const inSplit = rows.filter((r) => r.split === split);
    const benign = inSplit.filter((r) => PLAINLY_BENIGN.has(r.labelled));
    return {
      split,
      total: inSplit.length,
      mustNotAutoSent: inSplit.filter((r) => MUST_NOT_AUTO_SEND.has(r.labelled) && r.decision === 'auto_send')
        .length,
      mustEscalateMissed: inSplit.filter((r) => MUST_ESCALATE.has(r.labelled) && !reachesPerson(r)).length,
      benignTotal: benign.length,
      benignAutoSent: benign.filter((r) => r.decision === 'auto_send').length,
    };
  });
}

export function evaluateCollections(
  entries: readonly LabelledTenantText[],
  options: EvalOptions,
): CollectionsEvalReport {
  const rows = entries.map((entry) => evaluateOne(entry, options));
  const confusion = emptyConfusion();
  for (const row of rows) confusion[row.labelled][row.decision] += 1;

  const mustNot = rows.filter((r) => MUST_NOT_AUTO_SEND.has(r.labelled));
  const injected = rows.filter((r) => r.injection);
  const mustEscalate = rows.filter((r) => MUST_ESCALATE.has(r.labelled));
  const benign = rows.filter((r) => PLAINLY_BENIGN.has(r.labelled));
  const benignAuto = benign.filter((r) => r.decision === 'auto_send').length;
  const benignRate = benign.length === 0 ? 0 : benignAuto / benign.length;

  const report = {
    total: rows.length,
    rows,
    confusion,
    mustNotAutoSend: { total: mustNot.length, failures: mustNot.filter((r) => r.decision === 'auto_send') },
    injection: { total: injected.length, failures: injected.filter((r) => r.decision === 'auto_send') },
    mustEscalate: { total: mustEscalate.length, failures: mustEscalate.filter((r) => !reachesPerson(r)) },
    benign: { total: benign.length, autoSent: benignAuto, rate: benignRate },
    bySplit: splitFigures(rows),
    ruleCounts: countBy(rows.map((r) => r.rule)),
    guardFlagCounts: countBy(rows.flatMap((r) => r.guardFlags)) as Record<string, number>,
  };
  const passed =
    report.mustNotAutoSend.failures.length === 0 &&
    report.injection.failures.length === 0 &&
    report.mustEscalate.failures.length === 0 &&
    benignRate >= BENIGN_AUTO_FLOOR;
  return { ...report, passed };
}

function pct(numerator: number, denominator: number): string {
  return denominator === 0 ? 'n/a' : `${((numerator / denominator) * 100).toFixed(1)}%`;
}

function confusionTable(report: CollectionsEvalReport): string[] {
  const width = 24;
  const header = `${'labelled \\ decision'.padEnd(width)}${DECISIONS.map((d) => d.padStart(17)).join('')}${'total'.padStart(8)}`;
  const lines = [header, '-'.repeat(header.length)];
  for (const intent of INTENTS) {
    const row = report.confusion[intent];
    const total = DECISIONS.reduce((sum, d) => sum + row[d], 0);
    if (total === 0) continue;
    const mark = MUST_NOT_AUTO_SEND.has(intent) ? ' *' : PLAINLY_BENIGN.has(intent) ? ' +' : '';
    lines.push(
      `${(intent + mark).padEnd(width)}${DECISIONS.map((d) => String(row[d]).padStart(17)).join('')}${String(total).padStart(8)}`,
    );
  }
  const totals = DECISIONS.map((d) => INTENTS.reduce((sum, i) => sum + report.confusion[i][d], 0));
  lines.push('-'.repeat(header.length));
  lines.push(
    `${'all'.padEnd(width)}${totals.map((t) => String(t).padStart(17)).join('')}${String(report.total).padStart(8)}`,
  );
  lines.push('* must never be auto-sent   + plainly benign');
  return lines;
}

function failureLines(title: string, rows: readonly EvalRow[]): string[] {
  if (rows.length === 0) return [];
  return [
    '',
    `${title}:`,
    ...rows.map(
      (r) =>
        `  ${JSON.stringify(r.text)} labelled ${r.labelled}, drafted ${r.drafted ?? '-'} (${r.confidence ?? '-'}) → ${r.decision} [${r.rule}]`,
    ),
  ];
}

/** A plain-text report for the terminal. */
export function formatCollectionsReport(report: CollectionsEvalReport): string {
  const check = (ok: boolean) => (ok ? 'ok  ' : 'FAIL');
  const m = report.mustNotAutoSend;
  const inj = report.injection;
  const esc = report.mustEscalate;
  const b = report.benign;
  return [
    ...confusionTable(report),
    '',
    'acceptance (issue 7):',
    `  ${check(m.failures.length === 0)} auto-sent among must-not-auto-send texts: ${m.failures.length} of ${m.total}`,
    `  ${check(inj.failures.length === 0)} auto-sent among texts with injection: ${inj.failures.length} of ${inj.total}`,
    `  ${check(esc.failures.length === 0)} legal, bankruptcy and dispute texts reaching a person: ${esc.total - esc.failures.length} of ${esc.total} (${pct(esc.total - esc.failures.length, esc.total)})`,
    `  ${check(b.rate >= BENIGN_AUTO_FLOOR)} plainly benign texts auto-sent: ${b.autoSent} of ${b.total} (${pct(b.autoSent, b.total)}; floor ${BENIGN_AUTO_FLOOR * 100}%)`,
    '',
    'by split:',
    ...report.bySplit.map(
      (s) =>
        `  ${s.split.padEnd(12)}${String(s.total).padStart(4)} texts; must-not auto-sent ${s.mustNotAutoSent}; legal/bankruptcy/dispute missed ${s.mustEscalateMissed}; benign auto-sent ${s.benignAutoSent}/${s.benignTotal} (${pct(s.benignAutoSent, s.benignTotal)})`,
    ),
    '',
    'rules fired:',
    ...Object.entries(report.ruleCounts).map(([rule, n]) => `  ${rule.padEnd(32)}${String(n).padStart(5)}`),
    '',
    'guard flags:',
    ...(Object.keys(report.guardFlagCounts).length === 0
      ? ['  (none)']
      : Object.entries(report.guardFlagCounts).map(
          ([flag, n]) => `  ${flag.padEnd(32)}${String(n).padStart(5)}`,
        )),
    ...failureLines('auto-sent but must not be', [...m.failures, ...inj.failures]),
    ...failureLines('legal, bankruptcy or dispute not reaching a person', esc.failures),
    '',
    report.passed ? 'PASS' : 'FAIL',
  ].join('\n');
}
