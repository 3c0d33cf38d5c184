import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { pruneAudit, verifyAuditStore } from '../src/audit/index.ts';
import { VeilHome } from '../src/home/index.ts';
import type { SqlStore } from '../src/store/index.ts';
import { copyOfAuditStore, openHomeStores } from './support/stores.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

/** Retention keeps the chain verifiable (signed anchor); exports carry every record and its hash. */
const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const veil = (...args: string[]) => run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT });
let s: TestServer;
let scratch: string;
let cut: Date;
let home: VeilHome;

before(async () => {
  s = await startTestServer({ rows: 200 });
  home = new VeilHome(s.home);
  scratch = mkdtempSync(path.join(os.tmpdir(), 'veil-retention-'));
  for (let i = 0; i < 5; i++) await s.rows('alice', `SELECT count(*) + ${i} FROM drug_xyz.trial_july2020`);
  await new Promise((r) => setTimeout(r, 20));
  cut = new Date();
  await new Promise((r) => setTimeout(r, 20));
  for (let i = 0; i < 3; i++) await s.rows('bob', `SELECT count(*) + ${i} FROM drug_xyz.trial_july2020`);
});
after(async () => {
  await s.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** A consistent copy of the live audit store to prune and tamper with. */
function copyOfStore(): Promise<SqlStore> {
  return copyOfAuditStore(s.home, scratch);
}

async function countBefore(db: SqlStore, instant: Date): Promise<number> {
  const row = await db.get<{ n: number }>('SELECT count(*) AS n FROM audit_log WHERE event_time < ?', [instant.toISOString()]);
  assert.ok(row !== undefined);
  return row.n;
}

test('pruning keeps the rest of the chain verifiable from a signed anchor', async () => {
  const db = await copyOfStore();
  try {
    const before = await countBefore(db, cut);
    const result = await pruneAudit(db, home.loadAuditSigningKey(), cut);
    assert.equal(result.pruned_records, before);
    assert.ok(result.pruned_records >= 5);
    assert.equal(await countBefore(db, cut), 0);
    const verified = await verifyAuditStore(db, home.loadKeys().auditChain, { anchorKey: home.loadAuditSigningKey() });
    assert.equal(verified.ok, true, JSON.stringify(verified.first_break));
    assert.equal(verified.anchor?.signature, 'valid');
    assert.equal(verified.anchor?.pruned_records, result.pruned_records);
    // Pruning again with the same cut changes nothing and still verifies.
    assert.equal((await pruneAudit(db, home.loadAuditSigningKey(), cut)).pruned_records, 0);
    assert.equal((await verifyAuditStore(db, home.loadKeys().auditChain, { anchorKey: home.loadAuditSigningKey() })).ok, true);
  } finally {
    await db.close();
  }
});

test('deleting events right after the anchor, or editing the anchor, is found', async () => {
  const db = await copyOfStore();
  try {
    await pruneAudit(db, home.loadAuditSigningKey(), cut);
    const anchor = await db.get<{ anchor: string }>('SELECT anchor FROM audit_anchor');
    assert.ok(anchor !== undefined);
    const edited = JSON.parse(anchor.anchor) as Record<string, unknown>;
    await db.run('UPDATE audit_anchor SET anchor = ?', [JSON.stringify({ ...edited, pruned_records: 0 })]);
    assert.match((await verifyAuditStore(db, home.loadKeys().auditChain, { anchorKey: home.loadAuditSigningKey() })).first_break?.reason ?? '', /anchor is not signed/);
    await db.run('UPDATE audit_anchor SET anchor = ?', [anchor.anchor]);
    const first = await db.get<{ seq: number }>('SELECT min(seq) AS seq FROM audit_chain');
    assert.ok(first !== undefined);
    await db.run('DELETE FROM audit_chain WHERE seq = ?', [first.seq]);
    assert.match((await verifyAuditStore(db, home.loadKeys().auditChain, { anchorKey: home.loadAuditSigningKey() })).first_break?.reason ?? '', /right after the retention anchor are missing/);
  } finally {
    await db.close();
  }
});

test('export to JSON Lines and Parquet carries every record with its hash; files are never overwritten', async () => {
  const jsonl = path.join(scratch, 'audit.jsonl');
  await veil('audit', 'export', '--home', s.home, '--out', jsonl);
  const lines = readFileSync(jsonl, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const stores = await openHomeStores(s.home);
  let count: number;
  try {
    count = (await stores.audit.get<{ n: number }>('SELECT count(*) AS n FROM audit_log'))?.n ?? 0;
  } finally {
    await stores.close();
  }
  assert.ok(lines.length > 0 && lines.length <= count);
  for (const line of lines) {
    assert.match(String(line['record_hash']), /^[0-9a-f]{64}$/);
    assert.ok(Array.isArray(line['datasets']));
  }
  const since = path.join(scratch, 'since.jsonl');
  await veil('audit', 'export', '--home', s.home, '--out', since, '--since', cut.toISOString());
  const recent = readFileSync(since, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { user: string });
  assert.ok(recent.length >= 3 && recent.every((r) => r.user !== 'alice'));

  const parquet = path.join(scratch, 'audit.parquet');
  await veil('audit', 'export', '--home', s.home, '--out', parquet);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll(`SELECT count(*), count(DISTINCT record_hash), typeof(any_value(datasets)), typeof(any_value(event_time)) FROM read_parquet('${parquet}')`);
  const [rows, hashes, listType, timeType] = reader.getRowsJson()[0] as [string, string, string, string];
  assert.ok(Number(rows) >= lines.length);
  assert.equal(Number(hashes), Number(rows));
  assert.equal(listType, 'VARCHAR[]');
  assert.equal(timeType, 'TIMESTAMP');
  connection.closeSync();
  instance.closeSync();
  await assert.rejects(veil('audit', 'export', '--home', s.home, '--out', jsonl), /EEXIST|exists/);
});

test('audit prune on the live home: the chain verifies before and after, and new records chain on', async () => {
  const exported = path.join(scratch, 'pruned.jsonl');
  const pruned = JSON.parse((await veil('audit', 'prune', '--home', s.home, '--before', cut.toISOString(), '--export', exported)).stdout) as { pruned_records: number };
  assert.ok(pruned.pruned_records >= 5);
  assert.ok(readFileSync(exported, 'utf8').trimEnd().split('\n').length >= pruned.pruned_records);
  await s.rows('bob', 'SELECT 1 AS after_prune');
  const verified = JSON.parse((await veil('audit', 'verify', '--home', s.home)).stdout) as { ok: boolean; anchor: { signature: string } };
  assert.equal(verified.ok, true);
  assert.equal(verified.anchor.signature, 'valid');
});
