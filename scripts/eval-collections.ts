/**
 * Prints how the collections decisions (opt-out words, guard, routing) handle the labelled tenant
 * texts with the built-in rules engine as the drafter, and checks issue 7's acceptance floors:
 *   npx tsx scripts/eval-collections.ts [path/to/table.json]
 * Exits 1 when the table cannot be loaded or a floor is missed; the same floors are asserted in
 * src/collections/evaluate.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  evaluateCollections,
  formatCollectionsReport,
  parseLabelledTenantTexts,
  type LabelledTenantText,
} from '../src/collections/evaluate.js';
// The script is a composition root, so it may pick an adapter: the rules engine drafts here.
import { draftWithRules } from '../src/peers/ai/rules/index.js';

const DEFAULT_TABLE = fileURLToPath(new URL('../test/data/tenant-texts.json', import.meta.url));

async function main(): Promise<number> {
  const path = process.argv[2] ?? DEFAULT_TABLE;
  let entries: LabelledTenantText[];
  try {
    entries = parseLabelledTenantTexts(JSON.parse(await readFile(path, 'utf8')));
  } catch (error) {
    console.error(
      `eval-collections: cannot load ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  }
  const report = evaluateCollections(entries, { draft: draftWithRules });
  console.log(
    `collections evaluation: ${entries.length} labelled texts from ${path}, rules engine drafting\n`,
  );
  console.log(formatCollectionsReport(report));
  return report.passed ? 0 : 1;
}

process.exitCode = await main();
