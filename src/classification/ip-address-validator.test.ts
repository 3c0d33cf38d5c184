import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipVersion, isValidIpAddress, looksLikeVersionNumber } from './ip-address-validator.ts';

test('IPv4: octets 0-255 without leading zeros', () => {
  for (const ok of ['0.0.0.0', '8.8.8.8', '192.168.1.254', '255.255.255.255', ' 10.0.0.1 ']) {
    assert.equal(ipVersion(ok), 4, ok);
  }
  for (const bad of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '1.2.3.4/24', '1.2.3.4:80', '1. 2.3.4', 'a.b.c.d']) {
    assert.equal(isValidIpAddress(bad), false, bad);
  }
});

test('IPv6: full, compressed, IPv4-mapped, zone ids', () => {
  for (const ok of [
    '2001:0db8:0000:0000:0000:ff00:0042:8329',
    '2001:db8:0:0:0:ff00:42:8329',
    '2001:db8::ff00:42:8329',
    '::1',
    '::',
    'fe80::1ff:fe23:4567:890a',
    'fe80::1%eth0',
    '::ffff:192.0.2.128',
    '64:ff9b::192.0.2.33',
  ]) {
    assert.equal(ipVersion(ok), 6, ok);
  }
  for (const bad of ['1::2::3', '2001:db8:::1', '12345::1', '::ffff:192.0.2.256', '1:2:3:4:5:6:7:8:9', '00:1A:2B:3C:4D:5E', '[::1]', 'g::1']) {
    assert.equal(isValidIpAddress(bad), false, bad);
  }
});

test('dotted quads of small numbers look like version numbers', () => {
  assert.equal(looksLikeVersionNumber('2.1.0.4'), true);
  assert.equal(looksLikeVersionNumber('10.0.0.17'), true);
  assert.equal(looksLikeVersionNumber('192.168.0.1'), false);
  assert.equal(looksLikeVersionNumber('1.2.3'), false);
});
