import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ageInYears, isValidDateOfBirth, matchDateOfBirth } from './date-of-birth-validator.ts';
import { parseDateValue } from './date-value-parser.ts';

const NOW = new Date('2025-06-01T12:00:00Z');

test('parses the date forms found in data', () => {
  const cases: [string, [number, number, number]][] = [
    ['1980-03-04', [1980, 3, 4]],
    ['1980-03-04 00:00:00', [1980, 3, 4]],
    ['1980-03-04T00:00:00Z', [1980, 3, 4]],
    ['1980/3/4', [1980, 3, 4]],
    ['03/04/1980', [1980, 3, 4]], // US order first
    ['31/12/1980', [1980, 12, 31]], // day > 12: day-first
    ['04.03.1980', [1980, 3, 4]], // dotted: day-first
    ['19800304', [1980, 3, 4]],
    ['March 4, 1980', [1980, 3, 4]],
    ['4 Mar 1980', [1980, 3, 4]],
    ['04-Mar-1980', [1980, 3, 4]],
  ];
  for (const [text, [year, month, day]] of cases) {
    const parsed = parseDateValue(text);
    assert.ok(parsed, text);
    assert.deepEqual([parsed.year, parsed.month, parsed.day], [year, month, day], text);
  }
  for (const bad of ['1980-02-30', '1981-02-29', '1980-13-01', '00/00/0000', '1.2.3', 'yesterday', '12:30:00']) {
    assert.equal(parseDateValue(bad), null, bad);
  }
  assert.ok(parseDateValue('2000-02-29'));
});

test('plausible birth dates: 1900..now, no time of day', () => {
  assert.equal(matchDateOfBirth('1980-03-04', NOW), 'strong');
  assert.equal(matchDateOfBirth('1900-01-01', NOW), 'strong');
  assert.equal(matchDateOfBirth('1980-03-04 00:00:00', NOW), 'strong');
  assert.equal(matchDateOfBirth('19800304', NOW), 'weak');
  for (const bad of ['1899-12-31', '2025-06-02', '2999-01-01', '1980-03-04 14:22:10', '2024-01-01T08:00:00Z', 'unknown']) {
    assert.equal(isValidDateOfBirth(bad, NOW), false, bad);
  }
});

test('age in whole years', () => {
  assert.equal(ageInYears('1980-06-01', NOW), 45);
  assert.equal(ageInYears('1980-06-02', NOW), 44);
  assert.equal(ageInYears('nonsense', NOW), null);
});
