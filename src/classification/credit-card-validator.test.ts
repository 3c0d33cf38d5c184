import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cardDigits, cardScheme, isValidCreditCard, passesLuhn } from './credit-card-validator.ts';

test('Luhn check', () => {
  assert.equal(passesLuhn('4111111111111111'), true);
  assert.equal(passesLuhn('4111111111111112'), false);
  assert.equal(passesLuhn('79927398713'), true);
  assert.equal(passesLuhn('79927398710'), false);
  assert.equal(passesLuhn('4111x11111111111'), false);
});

test('known test numbers of each scheme are valid', () => {
  const cases: [string, string][] = [
    ['4111111111111111', 'visa'],
    ['4222222222222', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['2223003122003222', 'mastercard'],
    ['378282246310005', 'amex'],
    ['371449635398431', 'amex'],
    ['6011111111111117', 'discover'],
    ['6500000000000002', 'discover'],
    ['3530111333300000', 'jcb'],
    ['30569309025904', 'diners'],
    ['6200000000000005', 'unionpay'],
  ];
  for (const [number, scheme] of cases) {
    assert.equal(cardScheme(number), scheme, number);
    assert.equal(isValidCreditCard(number), true, number);
  }
});

test('spaces and dashes are allowed when used consistently', () => {
  assert.equal(isValidCreditCard('4111 1111 1111 1111'), true);
  assert.equal(isValidCreditCard('4111-1111-1111-1111'), true);
  assert.equal(isValidCreditCard('3782 822463 10005'), true);
  assert.equal(isValidCreditCard('4111 1111-1111 1111'), false);
  assert.equal(isValidCreditCard('4111  1111 1111 1111'), false);
  assert.equal(cardDigits('4111.1111.1111.1111'), null);
});

test('rejects Luhn failures, unknown IINs and wrong lengths', () => {
  for (const bad of [
    '4111111111111112', // Luhn
    '5555555555554445', // Luhn
    '1234567812345670', // Luhn-valid, no scheme starts with 1
    '9111111111111111',
    '411111111111116', // Visa does not issue 15 digits
    '37828224631000', // Amex is 15 digits
    '359999999999999', // IMEI-like: 15 digits under 35
    '************1111',
    '411111111111',
    '41111111111111111111',
    '',
  ]) {
    assert.equal(isValidCreditCard(bad), false, bad);
  }
});
