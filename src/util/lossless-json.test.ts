import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLosslessJson, stringifyLosslessJson } from './lossless-json.ts';

test('keeps integers beyond 2^53 exact', () => {
  const text = '{"query_location":18446744073709551615,"small":7,"neg":-9223372036854775808}';
  const parsed = parseLosslessJson(text) as Record<string, unknown>;
  assert.equal(parsed['query_location'], 18446744073709551615n);
  assert.equal(parsed['small'], 7);
  assert.equal(stringifyLosslessJson(parsed as never), text);
});

test('round-trips strings with escapes, floats, nesting', () => {
  const value = { a: 'x"y\\z\n\u0001é', b: [true, false, null, { c: [] }] };
  const text = JSON.stringify(value);
  assert.deepEqual(parseLosslessJson(text), value);
  assert.equal(stringifyLosslessJson(parseLosslessJson(text)), text);
});

test('non-integer numbers keep their source text (50.0 stays 50.0)', () => {
  const text = '{"a":50.0,"b":-2e-7,"c":1E+2,"d":0.5}';
  assert.equal(stringifyLosslessJson(parseLosslessJson(text)), text);
  const parsed = parseLosslessJson(text) as Record<string, unknown>;
  assert.equal(Number(parsed['d']), 0.5);
});

test('a __proto__ key stays plain data', () => {
  const parsed = parseLosslessJson('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.deepEqual(Object.keys(parsed), ['__proto__']);
});

test('rejects malformed input', () => {
  for (const bad of ['{', '[1,]', '{"a" 1}', '"abc', '1 2', 'tru']) {
    assert.throws(() => parseLosslessJson(bad), SyntaxError, bad);
  }
});
