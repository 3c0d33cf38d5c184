/**
 * Quality of the column classifier on the labelled set (test/fixtures/classification): prints the
 * per-tag precision/recall/F1 table and the misses, and holds the line on overall micro F1 ≥ 0.95 and
 * on decoys (columns with no sensitive data) almost never getting a counted proposal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLASSIFICATION_TAGS,
  COUNTED_CONFIDENCE,
  evaluateClassifier,
  formatEvaluationTable,
} from '../src/classification/index.ts';
import { LABELLED_COLUMNS } from './fixtures/classification/labelled-columns.ts';

/** Fixed clock: the labelled birth dates are judged against the same "today" on every run. */
const NOW = new Date('2025-06-01T00:00:00Z');
const MIN_OVERALL_F1 = 0.95;
const MAX_DECOY_HITS = 2;

test('labelled set: every tag has positives, decoys are plentiful, values are 50-200 per column', () => {
  assert.ok(LABELLED_COLUMNS.length >= 60);
  for (const tag of CLASSIFICATION_TAGS) {
    assert.ok(LABELLED_COLUMNS.filter((c) => c.tags.includes(tag)).length >= 5, tag);
  }
  assert.ok(LABELLED_COLUMNS.filter((c) => c.tags.length === 0).length >= 25);
  for (const c of LABELLED_COLUMNS) assert.ok(c.values.length >= 50 && c.values.length <= 200, c.name);
});

test(`classifier quality: overall F1 ≥ ${MIN_OVERALL_F1}, at most ${MAX_DECOY_HITS} decoy hits`, () => {
  const evaluation = evaluateClassifier(LABELLED_COLUMNS, { now: NOW });
  console.log(
    `\n${evaluation.columns} labelled columns (${evaluation.decoys} decoys), proposals counted at confidence ≥ ${COUNTED_CONFIDENCE}\n`,
  );
  console.log(formatEvaluationTable(evaluation));
  const describe = (m: { column: string; tag: string; confidence: number; evidence: string }): string =>
    `  ${m.column} → ${m.tag} @ ${m.confidence.toFixed(2)}: ${m.evidence}`;
  console.log(`\nfalse positives (${evaluation.falsePositives.length}):`);
  for (const m of evaluation.falsePositives) console.log(describe(m));
  console.log(`false negatives (${evaluation.falseNegatives.length}):`);
  for (const m of evaluation.falseNegatives) console.log(describe(m));

  assert.ok(evaluation.overall.f1 >= MIN_OVERALL_F1, `overall F1 ${evaluation.overall.f1.toFixed(3)}`);
  assert.ok(
    evaluation.decoyHits.length <= MAX_DECOY_HITS,
    `decoys tagged: ${evaluation.decoyHits.map((m) => `${m.column} → ${m.tag}`).join(', ')}`,
  );
});
