import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateClassifier, formatEvaluationTable, type LabelledColumn } from './classifier-evaluation.ts';

const NOW = new Date('2025-06-01T00:00:00Z');
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

const LABELLED: LabelledColumn[] = [
  { name: 'email', type: 'VARCHAR', values: times(30, (i) => `u${i}@example.com`), tags: ['pii.email'] },
  // true positive plus an expected tag the classifier cannot see (no values to check): a false negative
  { name: 'contact', type: 'VARCHAR', values: times(30, (i) => `u${i}@example.com`), tags: ['pii.email', 'pii.name'] },
  // expected SSN, values are bare digits under an opaque name: false negative
  { name: 'ref', type: 'VARCHAR', values: times(30, (i) => String(123456700 + i)), tags: ['pii.ssn'] },
  // decoy that fires: email addresses labelled as nothing
  { name: 'sender', type: 'VARCHAR', values: times(30, (i) => `s${i}@example.org`), tags: [] },
  { name: 'notes', type: 'VARCHAR', values: times(30, () => 'no answer'), tags: [] },
];

test('counts true/false positives and negatives per tag and overall', () => {
  const e = evaluateClassifier(LABELLED, { now: NOW });
  assert.equal(e.threshold, 0.5);
  assert.equal(e.columns, 5);
  assert.equal(e.decoys, 2);
  const email = e.perTag.find((s) => s.tag === 'pii.email');
  assert.deepEqual(
    email && [email.truePositives, email.falsePositives, email.falseNegatives, email.support],
    [2, 1, 0, 2],
  );
  assert.equal(email?.precision, 2 / 3);
  assert.equal(email?.recall, 1);
  assert.equal(email?.f1, 0.8);
  const ssn = e.perTag.find((s) => s.tag === 'pii.ssn');
  assert.deepEqual(ssn && [ssn.precision, ssn.recall, ssn.f1], [1, 0, 0]);
  const iban = e.perTag.find((s) => s.tag === 'pii.iban');
  assert.deepEqual(iban && [iban.precision, iban.recall, iban.f1, iban.support], [1, 1, 1, 0]);
  // overall: tp 2, fp 1, fn 2 (pii.name on contact, pii.ssn on ref)
  assert.equal(e.overall.precision, 2 / 3);
  assert.equal(e.overall.recall, 0.5);
  assert.ok(Math.abs(e.overall.f1 - 4 / 7) < 1e-12);
  assert.deepEqual(e.decoyHits.map((m) => [m.column, m.tag]), [['sender', 'pii.email']]);
  assert.deepEqual(e.falseNegatives.map((m) => [m.column, m.tag]).sort(), [['contact', 'pii.name'], ['ref', 'pii.ssn']]);
});

test('the threshold decides which proposals count', () => {
  const strict = evaluateClassifier(LABELLED, { now: NOW, threshold: 1 });
  assert.equal(strict.overall.truePositives, 0);
  assert.equal(strict.overall.falsePositives, 0);
});

test('formats a table with one row per tag and the micro average', () => {
  const table = formatEvaluationTable(evaluateClassifier(LABELLED, { now: NOW }));
  const lines = table.split('\n');
  assert.match(lines[0] ?? '', /^tag\s+support\s+tp\s+fp\s+fn\s+precision\s+recall\s+f1$/);
  assert.equal(lines.length, 2 + 9 + 2);
  assert.match(lines[lines.length - 1] ?? '', /^overall \(micro\)\s+4\s+2\s+1\s+2\s+0\.667\s+0\.500\s+0\.571$/);
});
