/**
 * Prints how well the built-in rules engine does on the labelled tenant texts:
 *   npx tsx scripts/eval-rules.ts [path/to/table.json]
 * Exits 1 when the table cannot be loaded or is malformed; the floors are asserted in
 * src/peers/ai/rules/evaluate.test.ts, not here, so this script always shows the figures.
 */
import { fileURLToPath } from 'node:url';
import { evaluateRules, formatReport, loadLabelledTexts } from '../src/peers/ai/rules/evaluate.js';

const DEFAULT_TABLE = fileURLToPath(new URL('../test/data/tenant-texts.json', import.meta.url));

async function main(): Promise<number> {
  const path = process.argv[2] ?? DEFAULT_TABLE;
  let entries;
  try {
    entries = await loadLabelledTexts(path);
  } catch (error) {
    console.error(
      `eval-rules: cannot load ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  }
  console.log(`rules engine evaluation: ${entries.length} labelled texts from ${path}\n`);
  console.log(formatReport(evaluateRules(entries)));
  return 0;
}

process.exitCode = await main();
