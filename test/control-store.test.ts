import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AuditLog, verifyAuditStore, type AuditRecord } from '../src/audit/index.ts';
import { DuckDbEngine } from '../src/engine/index.ts';
import { VeilHome } from '../src/home/index.ts';
import { numbered } from '../src/postgres/postgres-store.ts';
import { openControlStore, type ControlStore } from '../src/runtime/control-store.ts';
import { bumpGeneration, readGeneration } from '../src/store/index.ts';
import { auditRecord } from './support/audit-records.ts';
import { testBackend } from './support/stores.ts';

/**
 * The control store on this run's backend (SQLite files, or PostgreSQL in the postgres pass):
 * transactions, the generation, and the audit chain written by several writers at once, each with
 * its own connections, as replicas (or a server and the CLI) do.
 */
const run = promisify(execFile);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'veil-store-'));
const home = new VeilHome(scratch);
let stores: ControlStore[] = [];
let engine: DuckDbEngine;

before(async () => {
  home.ensure();
  // Two independent openings of one home: two writers, as two processes would be.
  stores = [await openControlStore(home, home.loadSettings()), await openControlStore(home, home.loadSettings())];
  engine = await DuckDbEngine.open({ allowedDirectories: [scratch], threads: 1, memoryLimit: '512MB' });
});

after(async () => {
  for (const store of stores) await store.close();
  await engine.close();
  rmSync(scratch, { recursive: true, force: true });
});

function record(i: number): AuditRecord {
  return auditRecord({
    request_id: `r-${i}-${randomBytes(4).toString('hex')}`,
    user: i % 2 === 0 ? 'alice' : 'bob',
    groups: ['g'],
    client_application: 'store-test',
    statement: `SELECT ${i} -- it's "quoted" ? with a question mark`,
    datasets: ['db.t'],
  });
}

describe(`control store (${testBackend()})`, () => {
  test('the backend is the one this run selected', () => {
    assert.equal(stores[0]?.backend, testBackend());
  });

  test('a failed transaction changes nothing; the generation moves once per committed change', async () => {
    const [a, b] = stores as [ControlStore, ControlStore];
    const before = await readGeneration(b.control);
    await assert.rejects(
      a.control.transaction(async (tx) => {
        await bumpGeneration(tx);
        throw new Error('abandoned');
      }),
      /abandoned/,
    );
    assert.equal(await readGeneration(b.control), before);
    await a.users.put({ name: 'zed', groups: [], attributes: { region: 'US' } });
    assert.equal(await readGeneration(b.control), before + 1, 'the other writer sees the change at once');
    assert.deepEqual((await b.users.get('zed')).attributes, { region: 'US' });
  });

  test('concurrent writers of policies never lose or duplicate one', async () => {
    const [a, b] = stores as [ControlStore, ControlStore];
    const policy = (name: string) => ({ name, subjects: { everyone: true }, resources: [{ database: 'db' }] });
    const { validatePolicy } = await import('../src/policy/index.ts');
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).policies.apply([validatePolicy(policy(`p${i % 5}`))])));
    const names = (await a.policies.list()).map((p) => p.name).filter((n) => /^p\d$/.test(n));
    assert.deepEqual(names, ['p0', 'p1', 'p2', 'p3', 'p4']);
    const history = await b.policies.history({ limit: 1000 });
    assert.equal(history.filter((h) => /^p\d$/.test(h.policy) && h.change === 'created').length, 5, 'each policy created once');
  });

  test('two audit writers at once keep one unforked chain, and it verifies', async () => {
    const key = home.loadKeys().auditChain;
    const logs = stores.map((s) => new AuditLog(s.audit, engine, key));
    const seqs = await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const log = logs[i % logs.length]!;
        const seq = await log.begin(record(i));
        await log.finish(seq, { decision: 'allowed', rows_returned: i, bytes_returned: i * 10, duration_ms: 1.5, error_code: null });
        return seq;
      }),
    );
    assert.equal(new Set(seqs).size, 120);
    const audit = stores[0]!.audit;
    const events = await audit.all<{ seq: number; prev_hash: string; hash: string }>('SELECT seq, prev_hash, hash FROM audit_chain ORDER BY seq');
    assert.equal(events.length, 240);
    for (let i = 1; i < events.length; i++) assert.equal(events[i]!.prev_hash, events[i - 1]!.hash, `event ${events[i]!.seq} follows the one before it`);
    const verification = await audit.snapshot((view) => verifyAuditStore(view, key));
    assert.equal(verification.ok, true, JSON.stringify(verification.first_break));
    assert.equal(verification.records, 120);
    const odd = await audit.get<{ statement: string }>('SELECT statement FROM audit_log WHERE request_id LIKE ?', ['r-7-%']);
    assert.equal(odd?.statement, 'SELECT 7 -- it\'s "quoted" ? with a question mark', 'question marks in values are data');
    for (const log of logs) log.close();
  });
});

test('a writer in another process and this one extend one chain', async () => {
  const key = home.loadKeys().auditChain;
  const log = new AuditLog(stores[0]!.audit, engine, key);
  const child = run(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'audit-writer.ts'), scratch, '150', 'other-process'], { cwd: path.resolve(import.meta.dirname, '..') });
  for (let i = 0; i < 150; i++) {
    const seq = await log.begin(record(1000 + i));
    await log.finish(seq, { decision: 'allowed', rows_returned: 0, bytes_returned: 0, duration_ms: 1, error_code: null });
  }
  assert.match((await child).stdout, /done 150/);
  log.close();
  const audit = stores[0]!.audit;
  const verification = await audit.snapshot((view) => verifyAuditStore(view, key));
  assert.equal(verification.ok, true, JSON.stringify(verification.first_break));
  const writers = await audit.all<{ client_application: string; n: number }>('SELECT client_application, count(*) AS n FROM audit_log GROUP BY client_application ORDER BY client_application');
  assert.deepEqual(
    writers.filter((w) => w.client_application === 'audit-writer').map((w) => w.n),
    [150],
  );
  const events = await audit.all<{ prev_hash: string; hash: string }>('SELECT prev_hash, hash FROM audit_chain ORDER BY seq');
  for (let i = 1; i < events.length; i++) assert.equal(events[i]!.prev_hash, events[i - 1]!.hash);
});

test('a PostgreSQL connection broken mid-transaction fails that transaction, not the process', { skip: testBackend() !== 'postgres' ? 'PostgreSQL only' : false }, async () => {
  const store = stores[0]!.control;
  // Its outcome is taken at once: it may fail before this test awaits it.
  const victim = store
    .transaction(async (tx) => {
      await tx.get('SELECT pg_sleep(30)');
    })
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  // The server ends the backend holding the transaction (as a restart or failover would).
  await new Promise((resolve) => setTimeout(resolve, 300));
  const ended = await stores[1]!.control.all<{ ended: boolean }>(
    "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND pid <> pg_backend_pid()",
  );
  assert.equal(ended.length, 1);
  assert.match(String(await victim), /terminating connection|Connection terminated/);
  // The pool replaced the connection: the next transaction works.
  await stores[0]!.users.put({ name: 'after-restart', groups: [], attributes: {} });
  assert.equal((await stores[1]!.users.get('after-restart')).name, 'after-restart');
});

test('placeholders become $n outside quoted text only', () => {
  assert.equal(numbered(`SELECT ? , '?', "a?b", ? FROM t WHERE x = 'it''s ?'`), `SELECT $1 , '?', "a?b", $2 FROM t WHERE x = 'it''s ?'`);
});
