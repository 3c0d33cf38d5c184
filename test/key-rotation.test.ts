/**
 * `veil keys rotate` (docs/policies.md, "Rotating the masking key") against a running server on the
 * same home, with real DuckDB, files and the CLI: the server uses the new key from its next query,
 * every token changes and is exactly the new key's, joins on tokens still match, columnar copies
 * and kept results of the old key are never read again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { transformMacros } from '../src/policy/index.ts';
import { startTestServer } from './support/test-server.ts';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const ROWS = 20_000;
const TRIAL = 'drug_xyz.trial_july2020';
const TOKENS = `SELECT participant_id, ssn FROM ${TRIAL} ORDER BY participant_id`;
const JOINED = `SELECT count(*) FROM ${TRIAL} t JOIN drug_xyz.adverse_events a ON a.participant_id = t.participant_id`;
const root = path.resolve(import.meta.dirname, '..');

let server: Server;

before(async () => {
  server = await startTestServer({ rows: ROWS });
});

after(async () => {
  await server.close();
});

function maskingKey(): Buffer {
  return Buffer.from(readFileSync(path.join(server.home, 'keys', 'masking.key'), 'utf8').trim(), 'hex');
}

/** participant_id → tokenize(participant_id) under `key`, by the transform's own macros in a DuckDB of the test's. */
async function tokensUnder(key: Buffer, ids: readonly string[]): Promise<Map<string, string>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run('CREATE SCHEMA veil_internal');
    for (const statement of transformMacros(key, [])) await connection.run(statement);
    const list = ids.map((id) => `'${id}'`).join(', ');
    const reader = await connection.runAndReadAll(`SELECT id, veil_internal.veil_tokenize(id) FROM unnest([${list}]) AS t(id)`);
    return new Map(reader.getRowsJson().map((row) => [String(row[0]), String(row[1])]));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Raw participant ids of the US rows, from the file itself. */
async function rawUsIds(): Promise<string[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const csv = path.join(server.home, 'storage', 'clinical-trials/drug-xyz/trial-july2020/data.csv');
    const reader = await connection.runAndReadAll(`SELECT participant_id FROM read_csv('${csv}', header = true, all_varchar = true) WHERE country = 'US'`);
    return reader.getRowsJson().map((row) => String(row[0]));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

test('after `veil keys rotate`, the running server gives every token under the new key, and joins on tokens still match', async () => {
  const oldKey = maskingKey();
  const ids = await rawUsIds();
  const before = await server.rows('alice', TOKENS);
  for (let i = 0; i < 2; i++) assert.deepEqual(await server.rows('alice', TOKENS), before); // kept from the second run
  const oldTokens = await tokensUnder(oldKey, ids);
  assert.deepEqual(new Set(before.map((r) => String(r[0]))), new Set(oldTokens.values()));
  const joinedBefore = await server.rows('alice', JOINED);

  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'keys', 'rotate', '--home', server.home], { cwd: root });
  const report = JSON.parse(stdout) as { rotated: string; fingerprint: string };
  assert.equal(report.rotated, 'masking');
  const newKey = maskingKey();
  assert.ok(!newKey.equals(oldKey));
  assert.equal(statSync(path.join(server.home, 'keys', 'masking.key')).mode & 0o777, 0o600);
  assert.ok(!stdout.includes(newKey.toString('hex')), 'the key itself is never printed');

  const after = await server.rows('alice', TOKENS);
  const newTokens = await tokensUnder(newKey, ids);
  assert.deepEqual(new Set(after.map((r) => String(r[0]))), new Set(newTokens.values()), 'every token is the new key’s');
  const oldSet = new Set(oldTokens.values());
  assert.ok(after.every((r) => !oldSet.has(String(r[0]))), 'no token of the old key is served');
  assert.equal(after.length, before.length);
  // Masks without a key are unchanged.
  assert.deepEqual(after.map((r) => r[1]).sort(), before.map((r) => r[1]).sort());
  // Tokens of both datasets come from the same new key: the join matches the same rows.
  assert.deepEqual(await server.rows('alice', JOINED), joinedBefore);

  // Once the copy is rebuilt under the new names, the same new tokens come from it.
  for (let i = 0; i < 300; i++) {
    const [status] = await server.runtime.cache.status([TRIAL]);
    if (status?.state === 'fresh') break;
    await server.rows('alice', `SELECT count(*) FROM ${TRIAL}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal((await server.runtime.cache.status([TRIAL]))[0]?.state, 'fresh');
  assert.deepEqual(await server.rows('alice', TOKENS), after);
});
