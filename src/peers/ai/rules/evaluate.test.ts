import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluateRules, formatReport, loadLabelledTexts, parseLabelledTexts } from './evaluate.js';

const TABLE = fileURLToPath(new URL('../../../../test/data/tenant-texts.json', import.meta.url));

describe('rules engine against the labelled tenant texts', async () => {
  const entries = await loadLabelledTexts(TABLE);
  const report = evaluateRules(entries);

  it('has at least 100 texts, every intent represented', () => {
    expect(entries.length).toBeGreaterThanOrEqual(100);
    expect(report.perIntent.every((s) => s.support > 0)).toBe(true);
  });

  it('extracts every seed phrasing exactly', () => {
    expect(report.seedPlans.total).toBeGreaterThanOrEqual(1);
    expect(entries.some((e) => e.seed && e.text === 'I can pay $50 per week for 3 months')).toBe(true);
    expect(report.seedPlans.exact).toBe(report.seedPlans.total);
  });

  it('extracts plans with accuracy ≥ 0.95', () => {
    expect(report.plan.accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it('classifies with macro recall ≥ 0.85', () => {
    expect(report.macroRecall).toBeGreaterThanOrEqual(0.85);
  });

  it('prints a report', () => {
    expect(formatReport(report)).toMatch(/plan extraction: \d+\.\d%/);
  });
});

describe('evaluateRules', () => {
  it('counts precision, recall, spurious plans and start dates only when labelled', () => {
    const report = evaluateRules(
      parseLabelledTexts([
        {
          text: 'I can pay $50 a week starting friday',
          intent: 'payment_plan',
          plan: { weeklyAmount: 50, weeks: null, frequency: 'weekly' },
        },
        {
          text: 'I can pay $50 a week',
          intent: 'payment_plan',
          plan: { weeklyAmount: 50, weeks: null, frequency: 'weekly', startDate: '2025-01-17' },
        },
        { text: 'I can pay $40 a week', intent: 'hardship' },
        { text: 'how much do I owe', intent: 'balance_question' },
      ]),
    );
    const plan = report.perIntent.find((s) => s.intent === 'payment_plan');
    expect(plan).toMatchObject({ support: 2, predicted: 3, truePositives: 2, recall: 1 });
    expect(plan?.precision).toBeCloseTo(2 / 3);
    expect(report.plan).toMatchObject({ labelled: 2, exact: 1, spurious: 1 });
    expect(report.plan.accuracy).toBeCloseTo(1 / 3);
    expect(report.accuracy).toBe(0.75);
  });

  it('refuses a malformed table', () => {
    expect(() => parseLabelledTexts([{ text: 'x', intent: 'nope' }])).toThrow();
    expect(() => parseLabelledTexts([])).toThrow();
    expect(() => parseLabelledTexts([{ text: 'x', intent: 'other', extra: 1 }])).toThrow();
  });
});
