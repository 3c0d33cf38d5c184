import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidPhone, matchPhone } from './phone-validator.ts';

test('international numbers (E.164 and spaced, + or 00) are strong', () => {
  for (const ok of [
    '+14155550132',
    '+1 415 555 0132',
    '+1 (415) 555-0132',
    '+447700900123',
    '+44 20 7946 0958',
    '+44 (0)20 7946 0958',
    '+49 30 12345678',
    '+33 1 23 45 67 89',
    '+81 3-1234-5678',
    '+919876543210',
    '0044 20 7946 0958',
  ]) {
    assert.equal(matchPhone(ok), 'strong', ok);
  }
});

test('separated NANP numbers are strong, bare ones weak', () => {
  for (const ok of ['(415) 555-0132', '415-555-0132', '415.555.0132', '415 555 0132', '1-800-555-0199', '1 (800) 555-0199', '415-555-0132 x204', '(415) 555-0132 ext. 12']) {
    assert.equal(matchPhone(ok), 'strong', ok);
  }
  assert.equal(matchPhone('4155550132'), 'weak');
  assert.equal(matchPhone('14155550132'), 'weak');
});

test('national trunk-prefixed numbers and E.164 digits without + are weak', () => {
  assert.equal(matchPhone('020 7946 0958'), 'weak');
  assert.equal(matchPhone('030 12345678'), 'weak');
  assert.equal(matchPhone('01 23 45 67 89'), 'weak');
  assert.equal(matchPhone('447700900123'), 'weak');
});

test('digit-count, NANP and shape rules reject look-alikes', () => {
  for (const bad of [
    '12345',
    '555-0132', // 7 digits: no area code
    '+1 415 155 0132', // NANP exchange cannot start with 1
    '(115) 555-0132', // nor the area code
    '+12345', // too short for E.164
    '+1234567890123456', // more than 15 digits
    '+0 123 456 789',
    '310-4471-22', // part number
    '72-1104-9983',
    '555-CALL-NOW',
    '415--555-0132',
    '(415 555-0132',
    '((415)) 555-0132',
    '2024-05-01',
    '1.2.3.4',
    '',
  ]) {
    assert.equal(isValidPhone(bad), false, bad);
  }
});
