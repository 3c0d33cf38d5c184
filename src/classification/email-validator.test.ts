import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidEmail } from './email-validator.ts';

test('accepts dot-atom addresses with a DNS domain', () => {
  for (const ok of [
    'jane.doe@example.com',
    'j@example.io',
    'first.last+tag@mail.example.co.uk',
    "o'brien@example.ie",
    'user_1980@sub-domain.example.org',
    'x@xn--bcher-kva.example',
    '  padded@example.com  ',
    'UPPER@EXAMPLE.COM',
  ]) {
    assert.equal(isValidEmail(ok), true, ok);
  }
});

test('rejects malformed addresses', () => {
  for (const bad of [
    '',
    'plain',
    '@example.com',
    'jane@',
    'jane@example',
    'jane@localhost',
    'jane@10.0.0.1',
    'jane..doe@example.com',
    '.jane@example.com',
    'jane.@example.com',
    'jane doe@example.com',
    'jane@exa_mple.com',
    'jane@-example.com',
    'jane@example.c',
    'mary(at)example.com',
    'John Smith <john@example.com>',
    'contact me at jane@example.com',
    `${'a'.repeat(65)}@example.com`,
  ]) {
    assert.equal(isValidEmail(bad), false, bad);
  }
});
