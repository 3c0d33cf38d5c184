import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnNameHints, columnNameWords, nameHintFor } from './column-name-hints.ts';

test('normalises snake, camel, Pascal and digits into words', () => {
  assert.deepEqual(columnNameWords('CustomerEMail2'), ['customer', 'e', 'mail', '2']);
  assert.deepEqual(columnNameWords('IPAddress'), ['ip', 'address']);
  assert.deepEqual(columnNameWords('date-of-birth'), ['date', 'of', 'birth']);
  assert.deepEqual(columnNameWords('ZIP5'), ['zip', '5']);
  assert.deepEqual(columnNameWords('client_ip_addr'), ['client', 'ip', 'addr']);
});

test('each tag has its hints', () => {
  const cases: [string, string, 'strong' | 'weak'][] = [
    ['email', 'pii.email', 'strong'],
    ['e_mail', 'pii.email', 'strong'],
    ['EmailAddress', 'pii.email', 'strong'],
    ['mail', 'pii.email', 'weak'],
    ['phone', 'pii.phone', 'strong'],
    ['tel', 'pii.phone', 'strong'],
    ['mobile_number', 'pii.phone', 'strong'],
    ['msisdn', 'pii.phone', 'strong'],
    ['ssn', 'pii.ssn', 'strong'],
    ['social_security_number', 'pii.ssn', 'strong'],
    ['card_number', 'pii.credit_card', 'strong'],
    ['cc', 'pii.credit_card', 'weak'],
    ['pan', 'pii.credit_card', 'strong'],
    ['iban', 'pii.iban', 'strong'],
    ['account', 'pii.iban', 'weak'],
    ['ip', 'pii.ip_address', 'strong'],
    ['ip_addr', 'pii.ip_address', 'strong'],
    ['client_ip', 'pii.ip_address', 'strong'],
    ['full_name', 'pii.name', 'strong'],
    ['first_name', 'pii.name', 'strong'],
    ['surname', 'pii.name', 'strong'],
    ['name', 'pii.name', 'weak'],
    ['dob', 'phi.dob', 'strong'],
    ['birth_date', 'phi.dob', 'strong'],
    ['date_of_birth', 'phi.dob', 'strong'],
    ['zip', 'phi.zip', 'strong'],
    ['zipcode', 'phi.zip', 'strong'],
    ['postal_code', 'phi.zip', 'strong'],
    ['emails', 'pii.email', 'strong'],
  ];
  for (const [name, tag, strength] of cases) {
    const hint = nameHintFor(name, tag as never);
    assert.equal(hint?.strength, strength, `${name} → ${tag}`);
  }
  assert.equal(nameHintFor('date_of_birth', 'phi.dob')?.matched, 'date_of_birth');
});

test('no hint from look-alike words or descriptor names', () => {
  for (const name of [
    'zipper', 'ship_date', 'tip', 'hotel', 'span', 'username', 'user_name', 'product_name', 'file_name',
    'hostname', 'company_name', 'email_count', 'email_opt_in', 'phone_model', 'birth_country', 'card_type',
    'ip_country', 'hashed_email', 'value', 'col_7', 'contact',
  ]) {
    assert.deepEqual(columnNameHints(name), [], name);
  }
});
