import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ibanCompact, ibanMod97, isValidIban } from './iban-validator.ts';

test('valid IBANs in electronic and print form, any case', () => {
  for (const ok of [
    'GB82WEST12345698765432',
    'GB82 WEST 1234 5698 7654 32',
    'gb82west12345698765432',
    'DE89370400440532013000',
    'DE89 3704 0044 0532 0130 00',
    'FR1420041010050500013M02606',
    'NL91ABNA0417164300',
    'BE68539007547034',
    'CH9300762011623852957',
    'NO9386011117947',
    'MT84MALT011000012345MTLCAST001S',
  ]) {
    assert.equal(isValidIban(ok), true, ok);
  }
});

test('an altered digit or swapped pair fails mod-97', () => {
  assert.equal(isValidIban('GB82WEST12345698765431'), false);
  assert.equal(isValidIban('GB82WEST12345698765423'), false);
  assert.equal(isValidIban('GB83WEST12345698765432'), false);
  assert.equal(isValidIban('DE89370400440532013001'), false);
  assert.equal(ibanMod97('GB82WEST12345698765432'), 1);
});

test('wrong length for the country, bad grouping, bad check digits', () => {
  for (const bad of [
    'GB82WEST1234569876543', // GB is 22 characters
    'DE8937040044053201300',
    'NO938601111794', // NO is 15
    'GB82 WEST 12345698765432', // groups must be of four
    'GB82  WEST 1234 5698 7654 32',
    'DE00 0000 0000 0000 0000 00',
    '82GBWEST12345698765432',
    'GB82WEST-1234-5698-7654-32',
    'XX12',
    '',
  ]) {
    assert.equal(isValidIban(bad), false, bad);
  }
  assert.equal(ibanCompact('gb82 west 1234 5698 7654 32'), 'GB82WEST12345698765432');
});
