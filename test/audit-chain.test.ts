import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createCheckpoint, parseCheckpoint, verifyAuditStore, verifyCheckpoint } from '../src/audit/index.ts';
import { VeilHome } from '../src/home/index.ts';
import type { SqlExecutor, SqlStore, SqlValue } from '../src/store/index.ts';
import { copyAuditTrail } from './support/audit-trail.ts';
import { copyOfAuditStore, openHomeStores } from './support/stores.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

/**
 * The audit trail is a keyed hash chain: every kind of change to audit.db (edit, delete, insert,
 * reorder, a recomputed chain without the key, a truncated tail against a checkpoint) is found and
 * named by `veil audit verify`.
 */
const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
let s: TestServer;
let scratch: string;
let chainKey: Buffer;

before(async () => {
  s = await startTestServer({ rows: 300 });
  scratch = mkdtempSync(path.join(os.tmpdir(), 'veil-audit-'));
  chainKey = new VeilHome(s.home).loadKeys().auditChain;
  // Allowed, denied, failed, streamed and metadata requests, with hostile text in them.
  await s.rows('alice', 'SELECT count(*) FROM drug_xyz.trial_july2020');
  await s.query('dave', 'SELECT * FROM drug_xyz.trial_july2020');
  await s.query('bob', 'SELECT nonsense FROM nowhere');
  await s.query('alice', "SELECT 'line one\r\nforged: record\u0000 \"quoted\"' AS x");
  await (await s.post('alice', '/v1/scan', { dataset: 'drug_xyz.adverse_events' }, { Accept: 'text/csv' })).text();
  await s.get('carol', '/v1/datasets');
  await s.post(null, '/v1/query', { sql: 'SELECT 1' });
});
after(async () => {
  await s.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** A consistent copy of the live audit store to tamper with. */
function copyOfStore(): Promise<SqlStore> {
  return copyOfAuditStore(s.home, scratch);
}

async function recordSeqs(db: SqlExecutor): Promise<number[]> {
  return (await db.all<{ seq: number }>('SELECT seq FROM audit_log ORDER BY seq')).map((r) => r.seq);
}

describe('an untouched trail verifies', () => {
  test('every request left a chained record; hostile text is data', async () => {
    const db = await copyOfStore();
    try {
      const result = await verifyAuditStore(db, chainKey);
      assert.equal(result.ok, true, JSON.stringify(result.first_break));
      assert.ok(result.records >= 7);
      assert.ok(result.events > result.records, 'begin and finish events');
      assert.equal(result.unchained_records, 0);
      const forged = await db.get<{ statement: string }>("SELECT statement FROM audit_log WHERE statement LIKE '%forged%'");
      // CR/LF and quotes are kept as sent; NUL is recorded as U+FFFD on every backend (PostgreSQL's
      // text cannot hold it), so the record of such a request is never lost.
      assert.equal(forged?.statement, "SELECT 'line one\r\nforged: record\uFFFD \"quoted\"' AS x");
    } finally {
      await db.close();
    }
  });

  test('record_hash is a column of veil_system.audit_log, equal to the chain', async () => {
    // Records of these very queries may still be in progress when they are read: leave them out.
    const sql = "SELECT request_id, record_hash FROM veil_system.audit_log WHERE record_hash IS NOT NULL AND coalesce(statement, '') NOT LIKE '%record_hash%'";
    await s.rows('carol', sql);
    const rows = await s.rows('carol', sql);
    assert.ok(rows.length > 0);
    const db = await copyOfStore();
    try {
      for (const [requestId, hash] of rows) {
        const stored = await db.get<{ record_hash: string }>('SELECT record_hash FROM audit_log WHERE request_id = ?', [String(requestId)]);
        if (stored !== undefined) assert.equal(hash, stored.record_hash);
      }
    } finally {
      await db.close();
    }
  });
});

describe('every kind of change is found and named', () => {
  const cases: [string, (db: SqlStore, seqs: number[]) => Promise<number>, RegExp][] = [
    ['an edited statement', async (db, seqs) => (await db.run("UPDATE audit_log SET statement = 'SELECT 1' WHERE seq = ?", [seqs[0]!]), seqs[0]!), /altered \(statement\)/],
    ['an edited outcome (rows returned)', async (db, seqs) => (await db.run('UPDATE audit_log SET rows_returned = 0 WHERE seq = ?', [seqs[0]!]), seqs[0]!), /altered \(rows_returned\)/],
    ['an edited decision', async (db, seqs) => (await db.run("UPDATE audit_log SET decision = 'allowed' WHERE seq = ?", [seqs[1]!]), seqs[1]!), /altered \(decision\)/],
    ['an edited user', async (db, seqs) => (await db.run('UPDATE audit_log SET "user" = \'erin\' WHERE seq = ?', [seqs[2]!]), seqs[2]!), /altered \(user\)/],
    ['a deleted record', async (db, seqs) => (await db.run('DELETE FROM audit_log WHERE seq = ?', [seqs[3]!]), seqs[3]!), /deleted/],
    [
      'an inserted record',
      async (db) => {
        const row = await db.get<{ seq: number; event_time: string }>('SELECT seq, event_time FROM audit_log ORDER BY seq DESC LIMIT 1');
        const seq = Number(row?.seq) + 1;
        await db.run(
          `INSERT INTO audit_log (seq, event_time, request_id, "user", groups, door, statement_type, datasets, columns, policies, decision)
           VALUES (?, ?, 'forged', 'erin', '[]', 'http', 'query', '[]', '[]', '[]', 'allowed')`,
          [seq, row?.event_time ?? null],
        );
        return seq;
      },
      /not in the chain \(inserted\)/,
    ],
    [
      'an edited chain event',
      async (db, seqs) => {
        const event = await db.get<{ seq: number; payload: string }>("SELECT seq, payload FROM audit_chain WHERE record_seq = ? AND kind = 'begin'", [seqs[1]!]);
        assert.ok(event !== undefined);
        await db.run('UPDATE audit_chain SET payload = ? WHERE seq = ?', [event.payload.replace('"dave"', '"erin"'), event.seq]);
        return seqs[1]!;
      },
      /event was altered/,
    ],
    [
      'a chain event deleted from the middle',
      async (db, seqs) => (await db.run("DELETE FROM audit_chain WHERE record_seq = ? AND kind = 'begin'", [seqs[2]!]), -1),
      /does not follow/,
    ],
    [
      'two chain events swapped',
      async (db) => {
        const [a, b] = await db.all<Record<string, SqlValue>>('SELECT * FROM audit_chain ORDER BY seq LIMIT 2 OFFSET 2');
        assert.ok(a !== undefined && b !== undefined);
        const put = (event: Record<string, SqlValue>, seq: SqlValue) =>
          db.run('UPDATE audit_chain SET kind = ?, record_seq = ?, payload = ?, prev_hash = ?, hash = ? WHERE seq = ?', [
            event['kind']!,
            event['record_seq']!,
            event['payload']!,
            event['prev_hash']!,
            event['hash']!,
            seq,
          ]);
        await put(b, a['seq']!);
        await put(a, b['seq']!);
        return -1;
      },
      /does not follow|altered/,
    ],
    [
      'an edit with the chain recomputed without the key',
      async (db, seqs) => {
        await db.run('UPDATE audit_log SET "user" = \'nobody\' WHERE seq = ?', [seqs[0]!]);
        const events = await db.all<Record<string, string | number>>('SELECT * FROM audit_chain ORDER BY seq');
        const guess = randomBytes(32);
        let prev = '0'.repeat(64);
        for (const e of events) {
          const payload = Number(e['record_seq']) === seqs[0] && e['kind'] === 'begin' ? String(e['payload']).replace(/"user":"[^"]*"/, '"user":"nobody"') : String(e['payload']);
          const hash = createHmac('sha256', guess).update(`veil-audit-chain/1\n${prev}\n${String(e['kind'])}\n${String(e['record_seq'])}\n${payload}`).digest('hex');
          await db.run('UPDATE audit_chain SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?', [payload, prev, hash, e['seq']!]);
          prev = hash;
        }
        return -1;
      },
      /event was altered/,
    ],
  ];
  for (const [name, tamper, reason] of cases) {
    test(name, async () => {
      const db = await copyOfStore();
      try {
        const seqs = await recordSeqs(db);
        const target = await tamper(db, seqs);
        const result = await verifyAuditStore(db, chainKey);
        assert.equal(result.ok, false);
        assert.match(result.first_break?.reason ?? '', reason);
        if (target > 0) assert.equal(result.first_break?.record_seq, target, 'names the record');
      } finally {
        await db.close();
      }
    });
  }
});

describe('checkpoints', () => {
  test('a truncated tail still links, but the checkpoint taken before finds it', async () => {
    const db = await copyOfStore();
    try {
      const key = generateKeyPairSync('ed25519').privateKey;
      const checkpoint = await createCheckpoint(db, key);
      const publicKey = generateKeyPairSync('ed25519').publicKey;
      assert.equal((await verifyCheckpoint(db, checkpoint, key)).ok, true);
      // Drop the newest record and its events: the shorter chain is internally consistent.
      const last = Math.max(...(await recordSeqs(db)));
      await db.run('DELETE FROM audit_chain WHERE record_seq = ?', [last]);
      await db.run('DELETE FROM audit_log WHERE seq = ?', [last]);
      assert.equal((await verifyAuditStore(db, chainKey)).ok, true);
      const truncated = await verifyCheckpoint(db, checkpoint, key);
      assert.equal(truncated.ok, false);
      assert.match(truncated.reason, /truncated/);
      assert.match((await verifyCheckpoint(db, checkpoint, publicKey)).reason, /another key/);
      assert.match((await verifyCheckpoint(db, { ...checkpoint, hash: 'f'.repeat(64) }, key)).reason, /signature is invalid/);
      assert.throws(() => parseCheckpoint('{"format":"something else"}', 'x.json'), /not a veil-audit-checkpoint/);
    } finally {
      await db.close();
    }
  });
});

describe('the CLI', () => {
  const veil = (...args: string[]) => run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT });

  test('audit verify and checkpoint on a live home; a tampered copy exits 1 naming the record', async () => {
    const ok = JSON.parse((await veil('audit', 'verify', '--home', s.home)).stdout) as { ok: boolean; records: number };
    assert.equal(ok.ok, true);
    const checkpointFile = path.join(scratch, 'checkpoint.json');
    await veil('audit', 'checkpoint', '--home', s.home, '--out', checkpointFile);
    const withCheckpoint = JSON.parse((await veil('audit', 'verify', '--home', s.home, '--checkpoint', checkpointFile)).stdout) as { checkpoint: { ok: boolean } };
    assert.equal(withCheckpoint.checkpoint.ok, true);

    // A tampered home: a copy of this one (keys included) with one statement edited.
    const tamperedHome = mkdtempSync(path.join(scratch, 'home-'));
    await run('cp', ['-r', path.join(s.home, 'keys'), tamperedHome]);
    await copyAuditTrail(s.home, tamperedHome);
    const stores = await openHomeStores(tamperedHome);
    let victim: { seq: number; request_id: string } | undefined;
    try {
      victim = await stores.audit.get<{ seq: number; request_id: string }>(`SELECT seq, request_id FROM audit_log WHERE "user" = 'dave' LIMIT 1`);
      assert.ok(victim !== undefined);
      await stores.audit.run("UPDATE audit_log SET decision = 'allowed', error_code = NULL WHERE seq = ?", [victim.seq]);
    } finally {
      await stores.close();
    }
    const { seq, request_id: requestId } = victim;
    await assert.rejects(veil('audit', 'verify', '--home', tamperedHome), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, new RegExp(`AUDIT_TAMPERED: .*record ${seq} \\(request ${requestId}\\)`));
      return true;
    });
    // A checkpoint edited by hand is refused.
    const edited = { ...(JSON.parse(readFileSync(checkpointFile, 'utf8')) as Record<string, unknown>), event_seq: 1 };
    writeFileSync(path.join(scratch, 'edited.json'), JSON.stringify(edited));
    await assert.rejects(veil('audit', 'verify', '--home', s.home, '--checkpoint', path.join(scratch, 'edited.json')), /signature is invalid/);
  });

  test('the CLI and the server append to one chain at the same time without forking it', async () => {
    const cli = Promise.all([1, 2, 3].map(() => veil('query', '--home', s.home, '--user', 'alice', 'SELECT count(*) FROM drug_xyz.adverse_events')));
    await Promise.all(Array.from({ length: 20 }, () => s.rows('bob', 'SELECT count(*) FROM drug_xyz.trial_july2020')));
    await cli;
    const db = await copyOfStore();
    try {
      const result = await verifyAuditStore(db, chainKey);
      assert.equal(result.ok, true, JSON.stringify(result.first_break));
      assert.ok(((await db.get<{ n: number }>("SELECT count(*) AS n FROM audit_log WHERE door = 'cli'"))?.n ?? 0) >= 3);
      // The server's governed view shows what the other process wrote, outcome included.
      const cliRecords = await s.rows('carol', "SELECT decision, rows_returned FROM veil_system.audit_log WHERE door = 'cli'");
      assert.ok(cliRecords.length >= 3);
      assert.ok(cliRecords.every(([decision, rows]) => decision === 'allowed' && rows === 1));
    } finally {
      await db.close();
    }
  });
});
