import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { INTENTS, Intent, type ExtractedPlan } from '../ai-port.js';
import { classifyIntent } from './intent.js';
import { extractPaymentPlan } from './payment-plan.js';

/**
 * Scores the rules engine against a labelled table of tenant texts (test/data/tenant-texts.json):
 * per-intent precision, recall, F1 and support; accuracy; and plan-extraction accuracy, where a
 * plan counts only when weeklyAmount (to the cent), weeks, frequency and — when labelled —
 * startDate all match. Texts without a plan label that yield a plan count against the accuracy.
 */

/** The seed's own example is dated 2025-01-15 (a Wednesday); entries may set their own `today`. */
export const DEFAULT_TODAY = '2025-01-15';

export const LabelledPlan = z
  .object({
    weeklyAmount: z.number().positive(),
    weeks: z.number().int().positive().nullable(),
    frequency: z.enum(['weekly', 'biweekly', 'monthly']),
    /** Compared only when present; null means "the text names no start". */
    startDate: z.iso.date().nullable().optional(),
  })
  .strict();

export const LabelledText = z
  .object({
    text: z.string().min(1),
    intent: Intent,
    plan: LabelledPlan.optional(),
    today: z.iso.date().optional(),
    /** A phrasing copied verbatim from the collections seed README. */
    seed: z.boolean().optional(),
    /** dev (default): written first, the engine was built against it; holdout-*: see docs/rules-engine.md. */
    split: z.string().optional(),
    note: z.string().optional(),
  })
  .strict();
export type LabelledText = z.infer<typeof LabelledText>;

export type IntentStats = {
  intent: Intent;
  support: number;
  predicted: number;
  truePositives: number;
  precision: number;
  recall: number;
  f1: number;
};

export type PlanFailure = {
  text: string;
  expected: z.infer<typeof LabelledPlan> | null;
  got: ExtractedPlan | null;
};

export type EvalReport = {
  total: number;
  accuracy: number;
  perIntent: IntentStats[];
  /** Means over intents with support > 0. */
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  plan: { labelled: number; exact: number; spurious: number; accuracy: number; failures: PlanFailure[] };
  seedPlans: { total: number; exact: number };
  bySplit: { split: string; total: number; correct: number; accuracy: number }[];
  misclassified: { text: string; expected: Intent; got: Intent; confidence: number }[];
};

export function parseLabelledTexts(json: unknown): LabelledText[] {
  return z.array(LabelledText).min(1).parse(json);
}

export async function loadLabelledTexts(path: string): Promise<LabelledText[]> {
  return parseLabelledTexts(JSON.parse(await readFile(path, 'utf8')));
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function planMatches(expected: z.infer<typeof LabelledPlan>, got: ExtractedPlan | undefined): boolean {
  if (!got) return false;
  return (
    Math.round(got.weeklyAmount * 100) === Math.round(expected.weeklyAmount * 100) &&
    got.weeks === expected.weeks &&
    got.frequency === expected.frequency &&
    (expected.startDate === undefined || got.startDate === expected.startDate)
  );
}

function intentStats(rows: readonly { expected: Intent; got: Intent }[]): IntentStats[] {
  return INTENTS.map((intent) => {
    const support = rows.filter((r) => r.expected === intent).length;
    const predicted = rows.filter((r) => r.got === intent).length;
    const truePositives = rows.filter((r) => r.expected === intent && r.got === intent).length;
    const precision = ratio(truePositives, predicted);
    const recall = ratio(truePositives, support);
    return {
      intent,
      support,
      predicted,
      truePositives,
      precision,
      recall,
      f1: ratio(2 * precision * recall, precision + recall),
    };
  });
}

export function evaluateRules(entries: readonly LabelledText[]): EvalReport {
  const rows = entries.map((entry) => {
    const classification = classifyIntent(entry.text);
    const plan = extractPaymentPlan(entry.text, entry.today ?? DEFAULT_TODAY);
    return {
      entry,
      expected: entry.intent,
      got: classification.intent,
      confidence: classification.confidence,
      plan,
    };
  });
  const perIntent = intentStats(rows);
  const supported = perIntent.filter((s) => s.support > 0);
  const mean = (pick: (s: IntentStats) => number) =>
    ratio(
      supported.reduce((sum, s) => sum + pick(s), 0),
      supported.length,
    );

  const labelled = rows.filter((r) => r.entry.plan !== undefined);
  const exactRows = labelled.filter((r) => r.entry.plan && planMatches(r.entry.plan, r.plan));
  const spuriousRows = rows.filter((r) => r.entry.plan === undefined && r.plan !== undefined);
  const seedRows = labelled.filter((r) => r.entry.seed === true);

  const splits = [...new Set(rows.map((r) => r.entry.split ?? 'dev'))];
  return {
    total: rows.length,
    accuracy: ratio(rows.filter((r) => r.expected === r.got).length, rows.length),
    perIntent,
    macroPrecision: mean((s) => s.precision),
    macroRecall: mean((s) => s.recall),
    macroF1: mean((s) => s.f1),
    plan: {
      labelled: labelled.length,
      exact: exactRows.length,
      spurious: spuriousRows.length,
      accuracy: ratio(exactRows.length, labelled.length + spuriousRows.length),
      failures: [...labelled.filter((r) => !exactRows.includes(r)), ...spuriousRows].map((r) => ({
        text: r.entry.text,
        expected: r.entry.plan ?? null,
        got: r.plan ?? null,
      })),
    },
    seedPlans: { total: seedRows.length, exact: seedRows.filter((r) => exactRows.includes(r)).length },
    bySplit: splits.map((split) => {
      const inSplit = rows.filter((r) => (r.entry.split ?? 'dev') === split);
      const correct = inSplit.filter((r) => r.expected === r.got).length;
      return { split, total: inSplit.length, correct, accuracy: ratio(correct, inSplit.length) };
    }),
    misclassified: rows
      .filter((r) => r.expected !== r.got)
      .map((r) => ({ text: r.entry.text, expected: r.expected, got: r.got, confidence: r.confidence })),
  };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** A plain-text report for the terminal. */
export function formatReport(report: EvalReport): string {
  const lines: string[] = [];
  const header = `${'intent'.padEnd(26)}${'support'.padStart(8)}${'precision'.padStart(11)}${'recall'.padStart(9)}${'f1'.padStart(8)}`;
  lines.push(header, '-'.repeat(header.length));
  for (const s of report.perIntent) {
    lines.push(
      `${s.intent.padEnd(26)}${String(s.support).padStart(8)}${s.precision.toFixed(3).padStart(11)}${s.recall.toFixed(3).padStart(9)}${s.f1.toFixed(3).padStart(8)}`,
    );
  }
  lines.push('-'.repeat(header.length));
  lines.push(
    `${'macro (intents with support)'.padEnd(26)}${String(report.total).padStart(8)}${report.macroPrecision.toFixed(3).padStart(11)}${report.macroRecall.toFixed(3).padStart(9)}${report.macroF1.toFixed(3).padStart(8)}`,
    '',
    `intent accuracy: ${pct(report.accuracy)} (${report.total - report.misclassified.length}/${report.total})`,
    ...report.bySplit.map((s) => `  split ${s.split}: ${pct(s.accuracy)} (${s.correct}/${s.total})`),
    `plan extraction: ${pct(report.plan.accuracy)} (${report.plan.exact} exact of ${report.plan.labelled} labelled, ${report.plan.spurious} spurious)`,
    `seed phrasings extracted exactly: ${report.seedPlans.exact}/${report.seedPlans.total}`,
  );
  if (report.misclassified.length > 0) {
    lines.push('', 'misclassified:');
    for (const m of report.misclassified) {
      lines.push(
        `  ${JSON.stringify(m.text)}: expected ${m.expected}, got ${m.got} (${m.confidence.toFixed(2)})`,
      );
    }
  }
  if (report.plan.failures.length > 0) {
    lines.push('', 'plan failures:');
    for (const f of report.plan.failures) {
      lines.push(
        `  ${JSON.stringify(f.text)}: expected ${JSON.stringify(f.expected)}, got ${JSON.stringify(f.got)}`,
      );
    }
  }
  return lines.join('\n');
}
