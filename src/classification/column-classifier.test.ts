import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyColumn, classifyColumns } from './column-classifier.ts';
import type { ClassificationProposal, ColumnSample } from './classification-types.ts';

const NOW = new Date('2025-06-01T00:00:00Z');
const classify = (name: string, values: readonly (string | null)[], type = 'VARCHAR'): ClassificationProposal[] =>
  classifyColumn({ name, type, values }, { now: NOW });
const tagsOf = (proposals: readonly ClassificationProposal[], min = 0.5): string[] =>
  proposals.filter((p) => p.confidence >= min).map((p) => p.tag);
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

const IBANS = ['GB82WEST12345698765432', 'DE89370400440532013000', 'FR1420041010050500013M02606', 'NL91ABNA0417164300'];

test('IBANs under an account name: evidence gives counts and reasons', () => {
  const values = [...times(97, (i) => IBANS[i % 4] ?? ''), 'DE89370400440532013001', 'tbd', '12345678'];
  const [proposal, ...rest] = classify('account', values);
  assert.equal(rest.length, 0);
  assert.equal(proposal?.tag, 'pii.iban');
  assert.equal(proposal?.column, 'account');
  assert.ok((proposal?.confidence ?? 0) >= 0.95);
  assert.equal(
    proposal?.evidence,
    '97 of 100 sampled values are valid IBANs (country length, mod-97); name may suggest an account number',
  );
});

test('evidence never contains a sampled value', () => {
  const samples: ColumnSample[] = [
    { name: 'email', type: 'VARCHAR', values: times(30, (i) => `person${i}@example.com`) },
    { name: 'ssn', type: 'VARCHAR', values: times(30, (i) => `${100 + i}-45-6789`) },
    { name: 'iban', type: 'VARCHAR', values: times(30, (i) => IBANS[i % 4] ?? null) },
    { name: 'full_name', type: 'VARCHAR', values: times(30, (i) => (i % 2 ? 'Maria Garcia' : 'Xochitl Quispe')) },
    { name: 'dob', type: 'DATE', values: times(30, (i) => `19${50 + i}-03-04`) },
  ];
  for (const sample of samples) {
    for (const p of classifyColumn(sample, { now: NOW })) {
      for (const v of sample.values) if (v !== null) assert.ok(!p.evidence.includes(v), `${sample.name}: ${p.evidence}`);
    }
  }
  fc.assert(
    fc.property(
      fc.constantFrom('email', 'phone', 'ssn', 'card_number', 'iban', 'ip', 'full_name', 'dob', 'zip', 'col_1'),
      fc.array(fc.oneof(fc.string({ minLength: 6 }), fc.stringMatching(/^[A-Z][a-z]{5,8} [A-Z][a-z]{5,8}$/), fc.constant(null)), {
        minLength: 1,
        maxLength: 40,
      }),
      (name, values) => {
        for (const p of classify(name, values)) {
          assert.ok(p.confidence >= 0 && p.confidence <= 1);
          assert.equal(Math.round(p.confidence * 100) / 100, p.confidence);
          for (const v of values) if (v !== null && v.trim().length >= 6) assert.ok(!p.evidence.includes(v.trim()));
        }
      },
    ),
  );
});

test('weak forms need the name: bare 9 digits, 5 digits, dates', () => {
  const nineDigits = times(50, (i) => String(123456700 + i * 13));
  assert.deepEqual(tagsOf(classify('col_1', nineDigits)), []);
  assert.deepEqual(tagsOf(classify('ssn', nineDigits)), ['pii.ssn']);

  const fiveDigits = times(50, (i) => String(10001 + i * 37).padStart(5, '0'));
  assert.deepEqual(tagsOf(classify('quantity', fiveDigits)), []);
  assert.deepEqual(tagsOf(classify('zip', fiveDigits)), ['phi.zip']);
  assert.deepEqual(tagsOf(classify('col_2', fiveDigits.map((z) => `${z}-1234`))), ['phi.zip']);

  const birthDates = times(50, (i) => `${1940 + i}-0${1 + (i % 9)}-1${i % 10}`);
  assert.deepEqual(tagsOf(classify('col_3', birthDates, 'DATE')), []);
  assert.deepEqual(tagsOf(classify('col_3', birthDates, 'DATE'), 0.3), ['phi.dob'], 'a low-confidence suggestion');
  assert.deepEqual(tagsOf(classify('date_of_birth', birthDates, 'DATE')), ['phi.dob']);
  const withTime = birthDates.map((d) => `${d} 14:22:10`);
  assert.deepEqual(tagsOf(classify('birth_ts', withTime, 'TIMESTAMP'), 0), []);
});

test('integer columns: lost leading zeros in SSNs and ZIP codes', () => {
  assert.deepEqual(tagsOf(classify('employee_ssn', times(40, (i) => String(12345678 + i * 1001)), 'BIGINT')), ['pii.ssn']);
  assert.deepEqual(tagsOf(classify('zip', times(40, (i) => String(2139 + i * 7)), 'BIGINT')), ['phi.zip']);
});

test('types that cannot hold a tag are skipped', () => {
  assert.deepEqual(classify('email', times(20, () => 'true'), 'BOOLEAN'), []);
  assert.deepEqual(classify('ip', times(20, () => '10.1.2.3'), 'VARCHAR[]'), []);
  assert.deepEqual(tagsOf(classify('created_at', times(20, (i) => `2024-01-${10 + i} 08:00:00`), 'TIMESTAMP'), 0), []);
});

test('a name hint alone gives at most a low-confidence pii.name proposal', () => {
  const products = times(40, (i) => ['Ergonomic Steel Chair', 'Rustic Lamp', 'Portable Speaker', 'Wooden Desk'][i % 4] ?? '');
  const byName = classify('name', products);
  assert.deepEqual(tagsOf(byName), []);
  assert.ok(byName.every((p) => p.tag === 'pii.name' && p.confidence < 0.5));

  const junk = classify('first_name', times(40, (i) => `id-${i}`));
  assert.equal(junk.length, 1);
  assert.equal(junk[0]?.tag, 'pii.name');
  assert.ok((junk[0]?.confidence ?? 1) < 0.5);
  assert.match(junk[0]?.evidence ?? '', /values alone do not confirm it/);

  assert.deepEqual(classify('ssn', times(40, (i) => `note ${i}`)), [], 'other tags need matching values');
});

test('nulls and placeholders are not counted, and all-null columns get a hint-only proposal', () => {
  const values = [...times(40, (i) => `user${i}@example.com`), null, '', 'N/A', 'null', ' - '];
  const [proposal] = classify('col_4', values);
  assert.equal(proposal?.tag, 'pii.email');
  assert.match(proposal?.evidence ?? '', /^40 of 40 sampled values .*; 5 null or empty values not counted$/);

  const empty = classify('email', [null, null, '']);
  assert.deepEqual(empty.map((p) => [p.tag, p.confidence]), [['pii.email', 0.3]]);
  assert.deepEqual(classify('col_5', [null, null]), []);
});

test('small samples lower confidence', () => {
  const few = classify('col_6', times(3, (i) => `user${i}@example.com`));
  const many = classify('col_6', times(30, (i) => `user${i}@example.com`));
  assert.ok((few[0]?.confidence ?? 0) < (many[0]?.confidence ?? 0));
});

test('dotted quads of small numbers need an IP name', () => {
  const versions = times(40, (i) => `${1 + (i % 3)}.${i % 7}.${i % 11}.${i % 5}`);
  assert.deepEqual(tagsOf(classify('firmware', versions)), []);
  assert.deepEqual(tagsOf(classify('col_7', versions)), []);
  assert.deepEqual(tagsOf(classify('host_ip', times(40, (i) => `10.0.0.${i + 1}`))), ['pii.ip_address']);
  assert.deepEqual(tagsOf(classify('col_8', times(40, (i) => `203.0.113.${i + 1}`))), ['pii.ip_address']);
});

test('classifyColumns returns proposals in column order', () => {
  const proposals = classifyColumns(
    [
      { name: 'email', type: 'VARCHAR', values: times(20, (i) => `u${i}@example.org`) },
      { name: 'notes', type: 'VARCHAR', values: times(20, () => 'called back, no answer') },
      { name: 'card', type: 'VARCHAR', values: times(20, () => '4111 1111 1111 1111') },
    ],
    { now: NOW },
  );
  assert.deepEqual(proposals.map((p) => [p.column, p.tag]), [
    ['email', 'pii.email'],
    ['card', 'pii.credit_card'],
  ]);
});
