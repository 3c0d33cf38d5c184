import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import pgTypes from 'pg-types';
import { DuckDbEngine, type ResultColumn, type DuckDBDataChunk } from '../engine/index.ts';
import { FeatureNotSupportedError, InvalidRequestError } from '../errors/index.ts';
import { createRowEncoder, decodeParameter, pgFloat4Text, pgFloat8Text } from './pg-values.ts';
import { pgColumnType } from './pg-types.ts';

/**
 * Expected values are PostgreSQL 15's own output: the text column is what the server printed for
 * the equivalent PostgreSQL expression (its *out functions, psql's defaults), the hex column what
 * its *send function returned (encode(int4send(…), 'hex') and so on).
 */

let engine: DuckDbEngine;

before(async () => {
  engine = await DuckDbEngine.open({ allowedDirectories: ['/tmp'] });
});
after(async () => {
  await engine.close();
});

interface Result {
  readonly columns: readonly ResultColumn[];
  readonly chunks: DuckDBDataChunk[];
}

async function run(sql: string): Promise<Result> {
  const stream = await engine.execute(sql, { timeoutMs: 30_000 });
  const chunks: DuckDBDataChunk[] = [];
  try {
    for (let chunk = await stream.nextChunk(); chunk !== null; chunk = await stream.nextChunk()) chunks.push(chunk);
  } finally {
    stream.close();
  }
  return { columns: stream.columns, chunks };
}

/** Splits consecutive DataRow messages into their values (independently of the encoder). */
function dataRows(buffer: Buffer): (Buffer | null)[][] {
  const rows: (Buffer | null)[][] = [];
  let p = 0;
  while (p < buffer.length) {
    assert.equal(buffer[p], 0x44, 'DataRow type byte');
    const length = buffer.readInt32BE(p + 1);
    const end = p + 1 + length;
    const count = buffer.readInt16BE(p + 5);
    let q = p + 7;
    const values: (Buffer | null)[] = [];
    for (let i = 0; i < count; i++) {
      const size = buffer.readInt32BE(q);
      q += 4;
      if (size === -1) {
        values.push(null);
      } else {
        values.push(buffer.subarray(q, q + size));
        q += size;
      }
    }
    assert.equal(q, end, 'DataRow length matches its values');
    rows.push(values);
    p = end;
  }
  return rows;
}

async function encode(sql: string, format: 0 | 1): Promise<(Buffer | null)[][]> {
  const { columns, chunks } = await run(sql);
  const encoder = createRowEncoder(columns, columns.map(() => format));
  return chunks.flatMap((chunk) => dataRows(encoder(chunk)));
}

async function textOf(expression: string): Promise<string | null> {
  const value = (await encode(`SELECT ${expression} AS v`, 0))[0]?.[0];
  assert.notEqual(value, undefined);
  return value === null || value === undefined ? null : value.toString('utf8');
}

async function binaryOf(expression: string): Promise<Buffer | null> {
  const value = (await encode(`SELECT ${expression} AS v`, 1))[0]?.[0];
  assert.notEqual(value, undefined);
  return value ?? null;
}

// DuckDB expression → PostgreSQL 15 text output of the same value.
const TEXT_CASES: readonly [string, string][] = [
  ["true", "t"],
  ["false", "f"],
  ["(-128)::TINYINT", "-128"],
  ["255::UTINYINT", "255"],
  ["(-32768)::SMALLINT", "-32768"],
  ["65535::USMALLINT", "65535"],
  ["(-2147483648)::INTEGER", "-2147483648"],
  ["4294967295::UINTEGER", "4294967295"],
  ["(-9223372036854775808)::BIGINT", "-9223372036854775808"],
  ["(-1234567890123)::BIGINT", "-1234567890123"],
  ["18446744073709551615::UBIGINT", "18446744073709551615"],
  ["(-170141183460469231731687303715884105728)::HUGEINT", "-170141183460469231731687303715884105728"],
  ["1.5::FLOAT", "1.5"],
  ["'-0'::FLOAT", "-0"],
  ["'nan'::FLOAT", "NaN"],
  ["'-inf'::FLOAT", "-Infinity"],
  ["3.4028235e38::FLOAT", "3.4028235e+38"],
  ["1e-45::FLOAT", "1e-45"],
  ["123456.7::FLOAT", "123456.7"],
  ["1e6::FLOAT", "1e+06"],
  ["0.00001::FLOAT", "1e-05"],
  ["0.1::DOUBLE", "0.1"],
  ["1e20::DOUBLE", "1e+20"],
  ["1.5e-5::DOUBLE", "1.5e-05"],
  ["'inf'::DOUBLE", "Infinity"],
  ["'-0'::DOUBLE", "-0"],
  ["5e-324::DOUBLE", "5e-324"],
  ["123456789012345.6::DOUBLE", "123456789012345.6"],
  ["1e15::DOUBLE", "1e+15"],
  ["0.0001::DOUBLE", "0.0001"],
  ["(-1.7976931348623157e308)::DOUBLE", "-1.7976931348623157e+308"],
  ["217208706944923600::DOUBLE", "2.1720870694492358e+17"],
  ["5::DECIMAL(10,2)", "5.00"],
  ["(-0.05)::DECIMAL(4,2)", "-0.05"],
  ["0::DECIMAL(10,3)", "0.000"],
  ["123456789012345678901234.56789::DECIMAL(38,5)", "123456789012345678901234.56789"],
  ["(-0.00000001)::DECIMAL(18,8)", "-0.00000001"],
  ["(-1234567890.12)::DECIMAL(18,2)", "-1234567890.12"],
  ["DATE '2024-02-29'", "2024-02-29"],
  ["'0044-03-15 (BC)'::DATE", "0044-03-15 BC"],
  ["'0001-01-01 (BC)'::DATE", "0001-01-01 BC"],
  ["'infinity'::DATE", "infinity"],
  ["'-infinity'::DATE", "-infinity"],
  ["DATE '12345-06-07'", "12345-06-07"],
  ["DATE '0009-01-02'", "0009-01-02"],
  ["TIME '04:05:06.5'", "04:05:06.5"],
  ["TIME '00:00:00'", "00:00:00"],
  ["TIME '23:59:59.999999'", "23:59:59.999999"],
  ["TIME '24:00:00'", "24:00:00"],
  ["'04:05:06.123456789'::TIME_NS", "04:05:06.123456"],
  ["TIMESTAMP '2020-01-01 10:00:00.000123'", "2020-01-01 10:00:00.000123"],
  ["TIMESTAMP '1969-12-31 23:59:59.999999'", "1969-12-31 23:59:59.999999"],
  ["'0044-03-15 (BC) 10:00:00.5'::TIMESTAMP", "0044-03-15 10:00:00.5 BC"],
  ["'infinity'::TIMESTAMP", "infinity"],
  ["'-infinity'::TIMESTAMP", "-infinity"],
  ["TIMESTAMP '1500-06-01 12:00:00'", "1500-06-01 12:00:00"],
  ["TIMESTAMP '294246-12-31 23:59:59.999999'", "294246-12-31 23:59:59.999999"],
  ["'2020-01-01 10:00:00'::TIMESTAMP_S", "2020-01-01 10:00:00"],
  ["'2020-01-01 10:00:00.5'::TIMESTAMP_MS", "2020-01-01 10:00:00.5"],
  ["'1960-01-01 10:00:00.1234567'::TIMESTAMP_NS", "1960-01-01 10:00:00.123456"],
  ["'infinity'::TIMESTAMP_NS", "infinity"],
  ["TIMESTAMPTZ '2020-06-01 10:00:00.25+02'", "2020-06-01 08:00:00.25+00"],
  ["'infinity'::TIMESTAMPTZ", "infinity"],
  ["'0044-03-15 (BC) 10:00:00+00'::TIMESTAMPTZ", "0044-03-15 10:00:00+00 BC"],
  ["INTERVAL '1 year 2 months 3 days 04:05:06.5'", "1 year 2 mons 3 days 04:05:06.5"],
  ["INTERVAL '-1 day'", "-1 days"],
  ["INTERVAL '0 seconds'", "00:00:00"],
  ["INTERVAL '-1 year -2 months'", "-1 years -2 mons"],
  ["INTERVAL '1 day' - INTERVAL '2 hours'", "1 day -02:00:00"],
  ["INTERVAL '-1 day -02:00:00.000001'", "-1 days -02:00:00.000001"],
  ["INTERVAL '100 hours'", "100:00:00"],
  ["INTERVAL '-1 year' + INTERVAL '2 months'", "-10 mons"],
  ["INTERVAL '1 month 1 day 1 second'", "1 mon 1 day 00:00:01"],
  ["INTERVAL '-1 day 3 hours'", "-1 days +03:00:00"],
  ["'12:34:56.5+05:30'::TIMETZ", "12:34:56.5+05:30"],
  ["'12:34:56-08'::TIMETZ", "12:34:56-08"],
  ["'01:02:03+05:30:15'::TIMETZ", "01:02:03+05:30:15"],
  ["'39182d71-737a-4eda-bb72-19f908dedf87'::UUID", "39182d71-737a-4eda-bb72-19f908dedf87"],
  ["'ffffffff-ffff-ffff-ffff-ffffffffffff'::UUID", "ffffffff-ffff-ffff-ffff-ffffffffffff"],
  ["'00000000-0000-0000-8000-000000000000'::UUID", "00000000-0000-0000-8000-000000000000"],
  ["'\\x00\\xFFab'::BLOB", "\\x00ff6162"],
  ["''::BLOB", "\\x"],
  ["'héllo wörld ✓ 𝄞'", "héllo wörld ✓ 𝄞"],
  ["'exactly12byt'", "exactly12byt"],
  ["'thirteen byte'", "thirteen byte"],
  ["[1, 2, NULL]", "{1,2,NULL}"],
  ["[]::INTEGER[]", "{}"],
  ["['', 'a b', 'NULL', 'nUlL', 'x\"y', NULL, '{', '}', 'back\\slash', 'a,b', 'é', 'plain']", "{\"\",\"a b\",\"NULL\",\"nUlL\",\"x\\\"y\",NULL,\"{\",\"}\",\"back\\\\slash\",\"a,b\",é,plain}"],
  ["[chr(11), 'a' || chr(10) || 'b', chr(1)]", "{\"\u000b\",\"a\nb\",\u0001}"],
  ["[1.5::DOUBLE, 'nan', '-inf', 1e20]", "{1.5,NaN,-Infinity,1e+20}"],
  ["[DATE '2020-01-01', '0044-03-15 (BC)'::DATE, 'infinity'::DATE]", "{2020-01-01,\"0044-03-15 BC\",infinity}"],
  ["[TIMESTAMP '2020-01-01 10:00:00', NULL]", "{\"2020-01-01 10:00:00\",NULL}"],
  ["[true, false, NULL]", "{t,f,NULL}"],
  ["[1.25::DECIMAL(5,2), -3]", "{1.25,-3.00}"],
  ["['\\x01'::BLOB, ''::BLOB]", "{\"\\\\x01\",\"\\\\x\"}"],
  ["[INTERVAL '1 day', INTERVAL '-2 hours']", "{\"1 day\",-02:00:00}"],
  ["array_value(1, 2, 3)", "{1,2,3}"],
  ["[[1,2],[3]]", "{\"[1, 2]\",[3]}"],
  ["[uuid '39182d71-737a-4eda-bb72-19f908dedf87']", "{39182d71-737a-4eda-bb72-19f908dedf87}"],
];

// DuckDB expression → PostgreSQL 15 binary (send function) output, hex.
const BINARY_CASES: readonly [string, string][] = [
  ["true", '01'],
  ["(-128)::TINYINT", 'ff80'],
  ["255::UTINYINT", '00ff'],
  ["65535::USMALLINT", '0000ffff'],
  ["(-2147483648)::INTEGER", '80000000'],
  ["4294967295::UINTEGER", '00000000ffffffff'],
  ["(-1234567890123)::BIGINT", 'fffffee08e04fb35'],
  ["18446744073709551615::UBIGINT", '000500040000000007341a5802e103bb064f'],
  ["(-170141183460469231731687303715884105728)::HUGEINT", '000a00094000000000aa0583209a01d5090d0c601c871bf620da1660'],
  ["1.5::FLOAT", '3fc00000'],
  ["'nan'::FLOAT", '7fc00000'],
  ["'-0'::DOUBLE", '8000000000000000'],
  ["0.1::DOUBLE", '3fb999999999999a'],
  ["'-inf'::DOUBLE", 'fff0000000000000'],
  ["5::DECIMAL(10,2)", '00010000000000020005'],
  ["(-0.05)::DECIMAL(4,2)", '0001ffff4000000201f4'],
  ["0::DECIMAL(10,3)", '0000000000000003'],
  ["123456789012345678901234.56789::DECIMAL(38,5)", '000800050000000504d2162e23340d801ed204d2162e2328'],
  ["(-0.00000001)::DECIMAL(18,8)", '0001fffe400000080001'],
  ["10000::DECIMAL(9,0)", '00010001000000000001'],
  ["100000000.0001::DECIMAL(18,4)", '00040002000000040001000000000001'],
  ["99.99::DECIMAL(4,2)", '0002000000000002006326ac'],
  ["DATE '2024-02-29'", '00002279'],
  ["'0044-03-15 (BC)'::DATE", 'fff49d7b'],
  ["'infinity'::DATE", '7fffffff'],
  ["'-infinity'::DATE", '80000000'],
  ["DATE '1969-12-31'", 'ffffd532'],
  ["TIME '04:05:06.5'", '000000036c9361a0'],
  ["TIME '24:00:00'", '000000141dd76000'],
  ["TIMESTAMP '2020-01-01 10:00:00.000123'", '00023e0fe886c87b'],
  ["'0044-03-15 (BC) 10:00:00.5'::TIMESTAMP", 'ff1af9e74e272920'],
  ["'infinity'::TIMESTAMP", '7fffffffffffffff'],
  ["'-infinity'::TIMESTAMP", '8000000000000000'],
  ["TIMESTAMP '294246-12-31 23:59:59.999999'", '7ffca2465aa35fff'],
  ["'2020-01-01 10:00:00.1234567'::TIMESTAMP_NS", '00023e0fe888aa40'],
  ["TIMESTAMPTZ '2020-06-01 10:00:00.25+02'", '000249fff3445090'],
  ["'39182d71-737a-4eda-bb72-19f908dedf87'::UUID", '39182d71737a4edabb7219f908dedf87'],
  ["'00000000-0000-0000-8000-000000000000'::UUID", '00000000000000008000000000000000'],
  ["'\\x00\\xFFab'::BLOB", '00ff6162'],
  ["'héllo wörld ✓ 𝄞'", '68c3a96c6c6f2077c3b6726c6420e29c9320f09d849e'],
  ["'a {struct}'", '61207b7374727563747d'],
  ["[1, 2, NULL]", '000000010000000100000017000000030000000100000004000000010000000400000002ffffffff'],
  ["[]::INTEGER[]", '000000000000000000000017'],
  ["['a', NULL, 'long enough string']", '00000001000000010000001900000003000000010000000161ffffffff000000126c6f6e6720656e6f75676820737472696e67'],
  ["[1.25::DECIMAL(5,2), -3]", '0000000100000000000006a400000002000000010000000c0002000000000002000109c40000000a00010000400000020003'],
  ["[DATE '2020-01-01']", '00000001000000000000043a00000001000000010000000400001c89'],
  ["[true, NULL]", '00000001000000010000001000000002000000010000000101ffffffff'],
  ["[TIMESTAMPTZ '2020-01-01 00:00:00+00']", '0000000100000000000004a000000001000000010000000800023e0786c26000'],
  ["[1::SMALLINT]", '0000000100000000000000150000000100000001000000020001'],
  ["[1::BIGINT, -1]", '000000010000000000000014000000020000000100000008000000000000000100000008ffffffffffffffff'],
];

describe('text format is PostgreSQL 15 output', () => {
  for (const [expression, expected] of TEXT_CASES) {
    test(expression, async () => {
      assert.equal(await textOf(expression), expected);
    });
  }

  test('STRUCT, MAP, UNION, BIT and nested lists travel as DuckDB text', async () => {
    assert.equal(await textOf("{'a': 1, 'b': 'x y'}"), "{'a': 1, 'b': 'x y'}");
    assert.equal(await textOf("MAP {'k': 1}"), "{'k': 1}");
    assert.equal(await textOf('union_value(num := 2)::UNION(num INTEGER, s VARCHAR)'), '2');
    assert.equal(await textOf("'0101'::BITSTRING"), '0101');
    assert.equal(await textOf("[{'a': 1}, NULL]"), `{"{'a': 1}",NULL}`);
    assert.equal(await textOf("'b b'::ENUM('a', 'b b')"), 'b b');
    assert.equal(await textOf("['b b'::ENUM('a', 'b b'), NULL]"), '{"b b",NULL}');
  });

  test('NULL in every column kind is SQL NULL (length -1)', async () => {
    const rows = await encode('SELECT NULL::INTEGER, NULL::VARCHAR, NULL::DECIMAL(10,2), NULL::INTEGER[], NULL::STRUCT(a INTEGER), NULL::INTERVAL, NULL::UUID', 0);
    assert.deepEqual(rows, [[null, null, null, null, null, null, null]]);
  });

  test('many rows across chunks: validity bits and strings stay aligned', async () => {
    const rows = await encode(
      `SELECT CASE WHEN i % 3 = 0 THEN NULL ELSE i END AS a, CASE WHEN i % 5 = 0 THEN NULL ELSE 'row ' || i || repeat('x', (i % 20)::INTEGER) END AS b,
              CASE WHEN i % 7 = 0 THEN NULL ELSE i::VARCHAR END AS c FROM range(5000) t(i)`,
      0,
    );
    assert.equal(rows.length, 5000);
    rows.forEach((row, i) => {
      assert.equal(row[0]?.toString() ?? null, i % 3 === 0 ? null : String(i));
      assert.equal(row[1]?.toString() ?? null, i % 5 === 0 ? null : `row ${i}${'x'.repeat(i % 20)}`);
      assert.equal(row[2]?.toString() ?? null, i % 7 === 0 ? null : String(i));
    });
  });

  test('float printing matches PostgreSQL on the cases where JavaScript differs', () => {
    // PostgreSQL's ryu never picks a decimal on the round-trip boundary (acceptBounds = false) and
    // rounds float4 ties to even; exponents switch at 1e15 (float8) and 1e6 (float4).
    assert.equal(pgFloat8Text(217208706944923600), '2.1720870694492358e+17');
    assert.equal(pgFloat8Text(540526448979940000), '5.4052644897993997e+17');
    assert.equal(pgFloat8Text(1e21), '1e+21');
    assert.equal(pgFloat8Text(123456789012345.6), '123456789012345.6');
    assert.equal(pgFloat8Text(-1.5e-7), '-1.5e-07');
    assert.equal(pgFloat8Text(2 ** 60), '1.152921504606847e+18');
    assert.equal(pgFloat4Text(Math.fround(-448398.625)), '-448398.62');
    assert.equal(pgFloat4Text(Math.fround(2616863.25)), '2.6168632e+06');
    assert.equal(pgFloat4Text(Math.fround(143999.125)), '143999.12');
    assert.equal(pgFloat4Text(Math.fround(0.1)), '0.1');
    assert.equal(pgFloat4Text(Math.fround(16777217)), '1.6777216e+07');
    assert.equal(pgFloat4Text(Math.fround(1e-45)), '1e-45');
    assert.equal(pgFloat4Text(999999), '999999');
  });
});

// Values (as exact decimal input) → PostgreSQL 15 float4out / float8out, covering each path of the
// printers: short forms, rounded forms, ties, powers of two, subnormals, large magnitudes.
const FLOAT4_CASES: readonly [string, string][] = [
  ["6551.54004", '6551.54'],
  ["3048.13989", '3048.14'],
  ["6324.83008", '6324.83'],
  ["9958.80957", '9958.81'],
  ["6794.60986", '6794.61'],
  ["6731.22998", '6731.23'],
  ["172.698029", '172.69803'],
  ["883.172058", '883.17206'],
  ["707.273865", '707.27386'],
  ["827.534546", '827.53455'],
  ["739.419312", '739.4193'],
  ["337.741730", '337.74173'],
  ["3.11601401e+22", '3.116014e+22'],
  ["3.01318715e-24", '3.0131872e-24'],
  ["1349913.13", '1.3499131e+06'],
  ["4.66056014e-21", '4.66056e-21'],
  ["5.67985595e-23", '5.679856e-23'],
  ["9.85721428e+21", '9.857214e+21'],
  ["1.02421577e-38", '1.0242158e-38'],
  ["9.92102497e-39", '9.921025e-39'],
  ["1.30877913e-39", '1.308779e-39'],
  ["5.52937801e-39", '5.529378e-39'],
  ["7.31333120e+9", '7.313331e+09'],
  ["3.66013414e+9", '3.6601341e+09'],
  ["2.79317248e+9", '2.7931725e+09'],
  ["3.68255488e+9", '3.682555e+09'],
  ["-448398.625", '-448398.62'],
  ["143999.125", '143999.12'],
  ["2616863.25", '2.6168632e+06'],
  ["16777218.0", '1.6777218e+07'],
  ["9.53674316e-7", '9.536743e-07'],
  ["1.26765060e+30", '1.2676506e+30'],
  ["0.300000012", '0.3'],
  ["0.333333343", '0.33333334'],
  ["123456.789", '123456.79'],
];
const FLOAT8_CASES: readonly [string, string][] = [
  ["91872441768646.234", '91872441768646.23'],
  ["0.00041926896572113038", '0.0004192689657211304'],
  ["8.1970822811126716e-15", '8.197082281112672e-15'],
  ["1.5831127762794495e-9", '1.5831127762794495e-09'],
  ["0.37697893381118774", '0.37697893381118774'],
  ["0.0097297430038452148", '0.009729743003845215'],
  ["6.7869889255178240e+17", '6.786988925517824e+17'],
  ["3.9272968890613760e+21", '3.927296889061376e+21'],
  ["7.3763260842639360e+17", '7.376326084263936e+17'],
  ["4.8260346334412800e+21", '4.82603463344128e+21'],
  ["63070338463825920", '6.307033846382592e+16'],
  ["53074663760199680", '5.307466376019968e+16'],
  ["2.1720870694492358e+17", '2.1720870694492358e+17'],
  ["5.4052644897993997e+17", '5.4052644897993997e+17'],
  ["1.1529215046068470e+18", '1.152921504606847e+18'],
  ["9007199254740994.0", '9.007199254740994e+15'],
  ["9.9999999999999992e+22", '9.999999999999999e+22'],
  ["4.9406564584124654e-324", '5e-324'],
  ["2.2250738585072014e-308", '2.2250738585072014e-308'],
];

describe('float printing', () => {
  test('float4out', () => {
    for (const [input, expected] of FLOAT4_CASES) assert.equal(pgFloat4Text(Math.fround(Number(input))), expected, input);
  });

  test('float8out', () => {
    for (const [input, expected] of FLOAT8_CASES) assert.equal(pgFloat8Text(Number(input)), expected, input);
    // Shorter decimals lie on the bounds of its interval, which PostgreSQL never picks.
    assert.equal(pgFloat8Text(-50666177367358700), '-5.0666177367358704e+16');
    assert.equal(pgFloat8Text(Number.MAX_VALUE), '1.7976931348623157e+308');
  });

  test('every output reads back as the same value, in at most 17 (float8) or 9 (float4) digits', () => {
    const digits = (text: string): number => text.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').length;
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const text = pgFloat8Text(value);
        assert.ok(Object.is(Number(text), value), `${value} → ${text}`);
        assert.ok(digits(text) <= 17, `${value} → ${text}`);
      }),
      { numRuns: 20_000 },
    );
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const text = pgFloat4Text(value);
        assert.ok(Object.is(Math.fround(Number(text)), value), `${value} → ${text}`);
        assert.ok(digits(text) <= 9, `${value} → ${text}`);
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('binary format is PostgreSQL 15 send output', () => {
  for (const [expression, hex] of BINARY_CASES) {
    test(expression, async () => {
      assert.equal((await binaryOf(expression))?.toString('hex'), hex);
    });
  }

  test('the binary width follows the announced OID', async () => {
    const { columns } = await run('SELECT 1::TINYINT a, 1::UTINYINT b, 1::USMALLINT c, 1::UINTEGER d, 1::UBIGINT e');
    assert.deepEqual(columns.map((c) => pgColumnType(c).type.name), ['int2', 'int2', 'int4', 'int8', 'numeric']);
    const row = (await encode('SELECT 1::TINYINT a, 1::UTINYINT b, 1::USMALLINT c, 1::UINTEGER d, 1::UBIGINT e', 1))[0];
    assert.deepEqual(row?.map((v) => v?.length), [2, 2, 4, 8, 10]);
  });
});

describe('binary values read back with the pg driver (pg-types)', () => {
  const binary = (oid: number): ((value: Buffer) => unknown) => pgTypes.getTypeParser(oid, 'binary') as (value: Buffer) => unknown;
  const read = async (expression: string, oid: number): Promise<unknown> => {
    const value = await binaryOf(expression);
    assert.ok(value !== null);
    return binary(oid)(value);
  };

  test('integers, floats, booleans and text', async () => {
    assert.equal(await read('(-12345)::SMALLINT', 21), -12345);
    assert.equal(await read('(-2147483648)::INTEGER', 23), -2147483648);
    assert.equal(await read('9007199254740993::BIGINT', 20), '9007199254740993');
    assert.equal(await read('(-42)::BIGINT', 20), '-42');
    assert.equal(await read('0.25::FLOAT', 700), 0.25);
    assert.equal(await read('(-1.5e300)::DOUBLE', 701), -1.5e300);
    assert.equal(await read('true', 16), true);
    assert.equal(await read("'ünïcode ✓'", 25), 'ünïcode ✓');
  });

  test('numeric', async () => {
    // pg-types reads the weight as unsigned and the value through a float: only values of at
    // least 1 with few digits survive its parser (the exact bytes are checked against PostgreSQL above).
    assert.equal(await read('1234.5678::DECIMAL(10,4)', 1700), 1234.5678);
    assert.equal(await read('(-12.5)::DECIMAL(4,1)', 1700), -12.5);
    assert.equal(await read('12345678::HUGEINT', 1700), 12345678);
  });

  test('timestamps', async () => {
    const ts = (await read("TIMESTAMPTZ '2021-03-04 05:06:07.123456+00'", 1184)) as Date & { usec: number };
    assert.equal(ts.toISOString(), '2021-03-04T05:06:07.123Z');
    assert.equal(ts.usec, 456);
    // pg-types reads timestamp as local time and mishandles values before 2000 (no sign extension).
    const local = (await read("TIMESTAMP '2001-12-31 23:59:59.5'", 1114)) as Date;
    assert.equal(local.getFullYear(), 2001);
    assert.equal(local.getMilliseconds(), 500);
  });

  test('arrays of int4, int8 and text', async () => {
    assert.deepEqual(await read('[1, 2, 3]', 1007), [1, 2, 3]);
    assert.deepEqual(await read('[5::BIGINT, 6]', 1016), [5, 6]);
    assert.deepEqual(await read("['a', NULL, 'long enough string']", 1009), ['a', null, 'long enough string']);
  });

  test('text output reads back with the text parsers', async () => {
    const text = (oid: number): ((value: string) => unknown) => pgTypes.getTypeParser(oid, 'text') as (value: string) => unknown;
    assert.deepEqual(text(1009)((await textOf("['a b', 'x\"y', NULL, '', 'back\\slash']")) ?? ''), ['a b', 'x"y', null, '', 'back\\slash']);
    assert.deepEqual(text(1022)((await textOf("[1.5::DOUBLE, 'nan', '-inf']")) ?? ''), [1.5, NaN, -Infinity]);
    assert.equal(text(16)((await textOf('false')) ?? ''), false);
    assert.deepEqual(text(17)((await textOf("'\\x00\\x01'::BLOB")) ?? ''), Buffer.from([0, 1]));
  });
});

describe('createRowEncoder', () => {
  test('encodes a row range of a chunk and re-binds each new chunk', async () => {
    const { columns, chunks } = await run("SELECT i, 'v' || i AS s FROM range(3000) t(i)");
    assert.ok(chunks.length >= 2);
    const encoder = createRowEncoder(columns, [0, 1]);
    const first = chunks[0];
    const second = chunks[1];
    assert.ok(first !== undefined && second !== undefined);
    const page = dataRows(encoder(first, 3, 10));
    assert.deepEqual(page.map((r) => r[0]?.toString()), ['10', '11', '12']);
    assert.deepEqual(page.map((r) => r[1]?.toString()), ['v10', 'v11', 'v12']);
    const tail = dataRows(encoder(first, 1000, first.rowCount - 2));
    assert.equal(tail.length, 2);
    assert.equal(dataRows(encoder(second, 1))[0]?.[0]?.toString(), String(first.rowCount));
    assert.equal(encoder(first, 0).length, 0);
    assert.equal(encoder(first, 5, first.rowCount).length, 0);
    assert.equal(dataRows(encoder(first)).length, first.rowCount);
  });

  test('a binary format for a type without one is refused when the encoder is created', async () => {
    const { columns } = await run("SELECT INTERVAL '1 day' AS span, [INTERVAL '1 day'] AS spans, '12:00:00+01'::TIMETZ AS tz, 1 AS n");
    assert.throws(() => createRowEncoder(columns, [1, 0, 0, 0]), (error: unknown) => error instanceof FeatureNotSupportedError && /"span".*INTERVAL/.test(error.message));
    assert.throws(() => createRowEncoder(columns, [0, 1, 0, 0]), FeatureNotSupportedError);
    assert.throws(() => createRowEncoder(columns, [0, 0, 1, 0]), FeatureNotSupportedError);
    assert.doesNotThrow(() => createRowEncoder(columns, [0, 0, 0, 1]));
    assert.throws(() => createRowEncoder(columns, [0]), /formats/);
  });

  test('a large result keeps its bytes: each call returns its own buffer', async () => {
    const { columns, chunks } = await run("SELECT i, repeat('y', 100) AS s FROM range(4096) t(i)");
    const encoder = createRowEncoder(columns, [0, 0]);
    const outputs = chunks.map((chunk) => encoder(chunk));
    const rows = outputs.flatMap(dataRows);
    assert.equal(rows.length, 4096);
    assert.equal(rows[0]?.[0]?.toString(), '0');
    assert.equal(rows[4095]?.[1]?.toString(), 'y'.repeat(100));
  });
});

describe('decodeParameter', () => {
  const text = (value: string, oid: number): unknown => decodeParameter(Buffer.from(value, 'utf8'), 0, oid);
  const binary = (hex: string, oid: number): unknown => decodeParameter(Buffer.from(hex, 'hex'), 1, oid);
  const invalid = (work: () => unknown, pattern?: RegExp): void => {
    assert.throws(work, (error: unknown) => error instanceof InvalidRequestError && (pattern === undefined || pattern.test(error.message)));
  };

  test('NULL and strings of unspecified or string type pass through', () => {
    assert.equal(decodeParameter(null, 0, 23), null);
    assert.equal(decodeParameter(null, 1, 23), null);
    assert.equal(text(' 42 ', 0), ' 42 ');
    assert.equal(text('héllo', 25), 'héllo');
    assert.equal(text('x', 1043), 'x');
    assert.equal(text('10:00', 1083), '10:00');
  });

  test('text numbers and booleans are parsed like PostgreSQL input functions', () => {
    assert.equal(text(' -32768 ', 21), -32768);
    assert.equal(text('+2147483647', 23), 2147483647);
    assert.equal(text('-9223372036854775808', 20), -9223372036854775808n);
    assert.equal(text('1.5e3', 701), 1500);
    assert.ok(Number.isNaN(text('NaN', 701)));
    assert.equal(text('-Infinity', 700), -Infinity);
    assert.equal(text('inf', 701), Infinity);
    assert.equal(text(' 123.4500 ', 1700), '123.4500');
    assert.equal(text('-1e-3', 1700), '-1e-3');
    for (const yes of ['t', 'TRUE', 'tr', 'y', 'yes', 'on', '1', ' true ']) assert.equal(text(yes, 16), true, yes);
    for (const no of ['f', 'false', 'n', 'no', 'off', 'of', '0']) assert.equal(text(no, 16), false, no);
  });

  test('malformed text is an InvalidRequestError that quotes at most 64 characters', () => {
    invalid(() => text('32768', 21), /out of range for type smallint/);
    invalid(() => text('12a', 23), /invalid input syntax for type integer: "12a"/);
    invalid(() => text('9223372036854775808', 20), /out of range/);
    invalid(() => text('1e400', 701), /out of range/);
    invalid(() => text('1e-50', 700), /out of range/);
    invalid(() => text('maybe', 16), /boolean/);
    invalid(() => text('o', 16));
    invalid(() => text('1.2.3', 1700), /numeric/);
    const long = `${'9'.repeat(100)}SECRET`;
    assert.throws(
      () => text(long, 23),
      (error: unknown) => error instanceof InvalidRequestError && !error.message.includes('SECRET') && error.message.includes('9'.repeat(64)) && !error.message.includes('9'.repeat(65)),
    );
    invalid(() => decodeParameter(Buffer.from([0xc3, 0x28]), 0, 25), /UTF8/);
    invalid(() => decodeParameter(Buffer.from('a\u0000b'), 0, 25), /0x00/);
  });

  test('bytea text: hex and escape formats', () => {
    assert.deepEqual(text('\\x00ff10', 17), new Uint8Array([0, 255, 16]));
    assert.deepEqual(text('a\\\\b\\001', 17), new Uint8Array([97, 92, 98, 1]));
    invalid(() => text('\\x0', 17));
    invalid(() => text('\\9', 17));
  });

  test('BC dates become the form DuckDB reads', () => {
    assert.equal(text('0044-03-15 BC', 1082), '0044-03-15 (BC)');
    assert.equal(text('0044-03-15 10:00:00.5 BC', 1114), '0044-03-15 (BC) 10:00:00.5');
    assert.equal(text('2020-01-01', 1082), '2020-01-01');
  });

  test('binary values of every supported type', () => {
    assert.equal(binary('01', 16), true);
    assert.equal(binary('ff80', 21), -128);
    assert.equal(binary('80000000', 23), -2147483648);
    assert.equal(binary('fffffee08e04fb35', 20), -1234567890123n);
    assert.equal(binary('3fc00000', 700), 1.5);
    assert.equal(binary('3fb999999999999a', 701), 0.1);
    assert.equal(binary('68c3a96c6c6f', 25), 'héllo');
    assert.equal(binary('68c3a96c6c6f', 1043), 'héllo');
    assert.deepEqual(binary('00ff6162', 17), new Uint8Array([0, 255, 97, 98]));
    assert.equal(binary('00002279', 1082), '2024-02-29');
    assert.equal(binary('fff49d7b', 1082), '0044-03-15 (BC)');
    assert.equal(binary('ffffd532', 1082), '1969-12-31');
    assert.equal(binary('7fffffff', 1082), 'infinity');
    assert.equal(binary('80000000', 1082), '-infinity');
    assert.equal(binary('000000036c9361a0', 1083), '04:05:06.5');
    assert.equal(binary('000000141dd76000', 1083), '24:00:00');
    assert.equal(binary('00023e0fe886c87b', 1114), '2020-01-01 10:00:00.000123');
    assert.equal(binary('000249fff3445090', 1184), '2020-06-01 08:00:00.25+00');
    assert.equal(binary('ff1af9e74e272920', 1114), '0044-03-15 (BC) 10:00:00.5');
    assert.equal(binary('7ffca2465aa35fff', 1114), '294246-12-31 23:59:59.999999');
    assert.equal(binary('7fffffffffffffff', 1114), 'infinity');
    assert.equal(binary('8000000000000000', 1184), '-infinity');
    assert.equal(binary('39182d71737a4edabb7219f908dedf87', 2950), '39182d71-737a-4eda-bb72-19f908dedf87');
  });

  test('binary numeric back to exact decimal text', () => {
    // The hex is numeric_send's output for these values.
    const cases: [string, string][] = [
      ['000500040000000007341a5802e103bb064f', '18446744073709551615'],
      ['000a00094000000000aa0583209a01d5090d0c601c871bf620da1660', '-170141183460469231731687303715884105728'],
      ['00010000000000020005', '5.00'],
      ['0001ffff4000000201f4', '-0.05'],
      ['0000000000000003', '0.000'],
      ['000800050000000504d2162e23340d801ed204d2162e2328', '123456789012345678901234.56789'],
      ['0001fffe400000080001', '-0.00000001'],
      ['00010001000000000001', '10000'],
      ['00040002000000040001000000000001', '100000000.0001'],
      ['0002000000000002006326ac', '99.99'],
      ['00000000c0000000', 'NaN'],
      ['00000000d0000000', 'Infinity'],
      ['00000000f0000000', '-Infinity'],
      // dscale hides digits: they are truncated, as numeric_recv does.
      ['0002000000000001000104d2', '1.1'],
    ];
    for (const [hex, expected] of cases) assert.equal(binary(hex, 1700), expected, hex);
  });

  test('wrong binary lengths and unknown binary types are refused', () => {
    invalid(() => binary('0001', 23), /expected 4 bytes, got 2/);
    invalid(() => binary('00', 20));
    invalid(() => binary('0001', 2950));
    invalid(() => binary('0001000000000000', 1700), /numeric/);
    invalid(() => binary('000100000000000027100000', 1700), /numeric/);
    invalid(() => binary('ffffffffffffffff', 1083), /time/);
    assert.throws(() => binary('00', 1186), FeatureNotSupportedError);
  });

  test('what the encoder sends in binary, decodeParameter reads back', async () => {
    const cases: [string, number, unknown][] = [
      ['(-7)::INTEGER', 23, -7],
      ['1234567890123::BIGINT', 20, 1234567890123n],
      ["DATE '1999-12-31'", 1082, '1999-12-31'],
      ["'0044-03-15 (BC)'::DATE", 1082, '0044-03-15 (BC)'],
      ["TIMESTAMP '2000-01-01 00:00:00.000001'", 1114, '2000-01-01 00:00:00.000001'],
      ["TIMESTAMPTZ '1969-07-20 20:17:40+00'", 1184, '1969-07-20 20:17:40+00'],
      ['123456789012345678901234.56789::DECIMAL(38,5)', 1700, '123456789012345678901234.56789'],
      ['(-0.05)::DECIMAL(4,2)', 1700, '-0.05'],
      ['0::DECIMAL(10,3)', 1700, '0.000'],
      ['18446744073709551615::UBIGINT', 1700, '18446744073709551615'],
      ["'39182d71-737a-4eda-bb72-19f908dedf87'::UUID", 2950, '39182d71-737a-4eda-bb72-19f908dedf87'],
      ["TIME '23:59:59.999999'", 1083, '23:59:59.999999'],
    ];
    for (const [expression, oid, expected] of cases) {
      const bytes = await binaryOf(expression);
      assert.ok(bytes !== null);
      assert.equal(decodeParameter(bytes, 1, oid), expected, expression);
    }
  });
});
