import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidZipCode, isZipPlus4, matchZipCode } from './zip-code-validator.ts';

test('ZIP+4 is strong, five digits weak', () => {
  assert.equal(matchZipCode('02139-4307'), 'strong');
  assert.equal(matchZipCode('02139'), 'weak');
  assert.equal(matchZipCode(' 90210 '), 'weak');
  assert.equal(isZipPlus4('02139-4307'), true);
  assert.equal(isZipPlus4('02139'), false);
});

test('integer columns lose leading zeros', () => {
  assert.equal(matchZipCode('2139', true), 'weak');
  assert.equal(matchZipCode('501', true), 'weak');
  assert.equal(matchZipCode('2139'), 'invalid');
  assert.equal(matchZipCode('42', true), 'invalid');
});

test('rejects other shapes', () => {
  for (const bad of ['00000', '00000-1234', '1234', '123456', '02139-43', '0213-94307', 'SW1A 1AA', 'K1A 0B6', '']) {
    assert.equal(isValidZipCode(bad), false, bad);
  }
});
