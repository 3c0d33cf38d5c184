import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDbEngine } from '../engine/index.ts';
import { bindPolicyPredicate } from './policy-expression-compiler.ts';
import { printTrinoExpression } from './trino-printer.ts';

let engine: DuckDbEngine;
before(async () => {
  engine = await DuckDbEngine.open({ allowedDirectories: ['/tmp'] });
});
after(async () => {
  await engine.close();
});

const alice = { user: 'alice', groups: ['data_science'], attributes: { region: ['US'], sites: ['S1', 'S2'] } };
const columns = new Set(['country', 'site', 'score', 'dob', 'consent', 'name']);

async function trino(predicate: string): Promise<string> {
  return printTrinoExpression(await bindPolicyPredicate(engine, predicate, alice, columns, { policy: 'p', dataset: 'db.t' }));
}

test('policy predicates in Trino\'s dialect: identity functions as constants, same operators and literals', async () => {
  const golden: [string, string][] = [
    ["country = user_attribute('region')", `("country" = 'US')`],
    ["site IN ('S1', 'O''Brien') AND NOT consent", `(("site" IN ('S1', 'O''Brien')) AND (NOT "consent"))`],
    ['score BETWEEN 1.5 AND 10 OR score IS NULL', `(("score" BETWEEN 1.5 AND 10) OR ("score" IS NULL))`],
    ["list_contains(user_attribute_values('sites'), site)", `contains(ARRAY['S1', 'S2'], "site")`],
    ["user_in_group('data_science') AND consent = true", `(TRUE AND ("consent" = TRUE))`],
    ["dob >= DATE '1950-01-01' AND lower(name) LIKE 'a%'", `(("dob" >= CAST('1950-01-01' AS date)) AND (lower("name") LIKE 'a%'))`],
    ['score * 2 - 1 > -3', `((("score" * 2) - 1) > (-3))`],
    ["current_user_name() = 'alice' AND coalesce(site, '') <> ''", `(('alice' = 'alice') AND (coalesce("site", '') <> ''))`],
    ["user_attribute('missing') IS NULL", `(CAST(NULL AS varchar) IS NULL)`],
  ];
  for (const [policy, expected] of golden) assert.equal(await trino(policy), expected, policy);
});

test('constructs whose meaning differs between DuckDB and Trino are refused, never approximated', async () => {
  for (const policy of [
    'score / 2 > 1', // DuckDB divides integers to a double, Trino truncates
    "regexp_matches(name, '^a')",
    "name ILIKE 'a%'",
    "strftime(dob, '%Y') = '1950'",
    'score // 2 = 1',
  ]) {
    await assert.rejects(trino(policy), { code: 'POLICY_NOT_APPLICABLE' }, policy);
  }
});
