import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidSsn, matchSsn } from './ssn-validator.ts';

test('separated SSNs are strong, nine bare digits weak', () => {
  assert.equal(matchSsn('123-45-6789'), 'strong');
  assert.equal(matchSsn('123 45 6789'), 'strong');
  assert.equal(matchSsn(' 078-05-1121 '), 'strong');
  assert.equal(matchSsn('123456789'), 'weak');
  assert.equal(matchSsn('899-99-9999'), 'strong');
});

test('never-issued areas, groups and serials are invalid', () => {
  for (const bad of [
    '000-12-3456', // area 000
    '666-12-3456', // area 666
    '900-12-3456', // area 9xx (ITIN range)
    '987-65-4321',
    '999-99-9999',
    '123-00-4567', // group 00
    '123-45-0000', // serial 0000
    '000123456',
    '666123456',
    '912345678',
  ]) {
    assert.equal(isValidSsn(bad), false, bad);
  }
});

test('rejects other shapes', () => {
  for (const bad of ['123-456789', '123-45 6789', '12-345-6789', '12345678', '1234567890', '123-45-678', 'abc-de-fghi', '']) {
    assert.equal(matchSsn(bad), 'invalid', bad);
  }
});
