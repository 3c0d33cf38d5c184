import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidPersonName, matchPersonName } from './person-name-validator.ts';

test('capitalised names with a known given name or surname are strong', () => {
  for (const ok of [
    'Mary',
    'Smith',
    'John Smith',
    'Smith, John',
    'JOHN SMITH',
    'john smith',
    "Siobhan O'Brien",
    'Jean-Luc Dubois',
    'Maria J. Garcia',
    'Dr. Priya Sharma',
    'Martin Luther King Jr.',
    'José García',
    'Anna Müller',
    'Ludwig van Beethoven Smith',
  ]) {
    assert.equal(matchPersonName(ok), 'strong', ok);
  }
});

test('name-shaped values without a known word are weak', () => {
  for (const weak of ['Xochitl Quispe', 'Bartholomew Abernathy', 'Ergonomic Steel Chair', 'Pending', 'Ludwig van Beethoven']) {
    assert.equal(matchPersonName(weak), 'weak', weak);
  }
});

test('rejects values that are not shaped like names', () => {
  for (const bad of [
    '',
    'the shipment arrived late',
    'great service',
    'john quispe', // lower case needs every word known
    'Acme Corp',
    'Johnson Controls',
    'Smith & Sons',
    'jsmith42',
    'John Smith 3rd floor',
    'SKU Widget',
    'iPhone 12',
    'One Two Three Four Five',
    'Smith, John, Jr',
    'J',
    '123 Main St',
  ]) {
    assert.equal(isValidPersonName(bad), false, bad);
  }
});
