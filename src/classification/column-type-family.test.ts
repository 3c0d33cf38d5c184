import { test } from 'node:test';
import assert from 'node:assert/strict';
import { typeFamily } from './column-type-family.ts';

test('maps DuckDB type names to families', () => {
  const cases: [string, string][] = [
    ['VARCHAR', 'text'],
    ['varchar', 'text'],
    ["ENUM('a', 'b')", 'text'],
    ['', 'text'],
    ['BIGINT', 'integer'],
    ['UINTEGER', 'integer'],
    ['DECIMAL(12,2)', 'decimal'],
    ['DOUBLE', 'decimal'],
    ['DATE', 'date'],
    ['TIMESTAMP', 'timestamp'],
    ['TIMESTAMP WITH TIME ZONE', 'timestamp'],
    ['TIMESTAMP_NS', 'timestamp'],
    ['BOOLEAN', 'boolean'],
    ['VARCHAR[]', 'other'],
    ['STRUCT(a INTEGER)', 'other'],
    ['BLOB', 'other'],
    ['UUID', 'other'],
  ];
  for (const [type, family] of cases) assert.equal(typeFamily(type), family, type);
});
