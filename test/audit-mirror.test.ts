/**
 * The queryable mirror of the audit trail survives restarts (docs/audit.md, "Cost"): a start reads
 * only what the chain gained since, whoever wrote it; a mirror that no longer matches the trail
 * (audit.db, or the home's PostgreSQL schema) is rebuilt, never served; a second process on the
 * same home (the CLI beside a server) keeps its own mirror in memory.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { verifyAuditStore } from '../src/audit/index.ts';
import type { AuditRecord } from '../src/audit/audit-types.ts';
import { principalOf } from '../src/identity/index.ts';
import { openRuntime, type VeilRuntime } from '../src/runtime/index.ts';
import { copyAuditTrail } from './support/audit-trail.ts';
import { pipelineOutcome } from './support/pipeline.ts';

let home: string;
let runtime: VeilRuntime;

function records(count: number, user: string, offset = 0): AuditRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    event_time: new Date(Date.UTC(2026, 0, 1) + (offset + i) * 1000).toISOString(),
    request_id: `req-${user}-${offset + i}`,
    user,
    groups: ['g'],
    client_application: 'mirror-test',
    client_address: '127.0.0.1',
    door: 'http',
    statement: `SELECT ${offset + i}`,
    statement_type: 'query',
    datasets: ['db.t'],
    columns: ['db.t.a'],
    policies: ['p'],
    decision: 'allowed',
    rows_returned: i,
    bytes_returned: null,
    duration_ms: 1.5,
    error_code: null,
  }));
}

/** Records carol (compliance: the whole trail) reads through veil_system.audit_log. */
async function countFor(rt: VeilRuntime, where = 'true'): Promise<number> {
  const outcome = await pipelineOutcome(rt.queries, principalOf(await rt.users.get('carol')), `SELECT count(*) FROM veil_system.audit_log WHERE ${where}`);
  assert.ok('rows' in outcome, JSON.stringify(outcome));
  return Number(outcome.rows[0]?.[0]);
}

before(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'veil-mirror-'));
  runtime = await openRuntime(home);
  await runtime.users.put({ name: 'carol', groups: ['compliance'], attributes: {} });
});

after(async () => {
  await runtime?.close();
  rmSync(home, { recursive: true, force: true });
});

test('a first start loads the whole trail into the mirror file; a restart reads only what is new', async () => {
  await runtime.audit.recordMany(records(20_000, 'bob'));
  assert.equal(await countFor(runtime, `"user" = 'bob'`), 20_000);
  assert.equal(runtime.audit.mirrorStatus().location, 'file');
  assert.equal(runtime.audit.mirrorStatus().lastCatchUp?.kind, 'full');
  await runtime.close();

  runtime = await openRuntime(home);
  await runtime.audit.recordMany(records(5, 'bob', 20_000));
  assert.equal(await countFor(runtime, `"user" = 'bob'`), 20_005);
  const status = runtime.audit.mirrorStatus();
  assert.equal(status.location, 'file');
  assert.deepEqual([status.lastCatchUp?.kind, status.lastCatchUp?.records], ['incremental', 5]);
});

test('records written while the server was down, by another process, appear at the next start', async () => {
  await runtime.close();
  const cli = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'query', '--home', home, '--user', 'carol', 'SELECT 42'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  runtime = await openRuntime(home);
  // The CLI audits its query: the mirror must follow the CLI's chain events.
  assert.equal(await countFor(runtime, `door = 'cli' AND statement = 'SELECT 42'`), 1);
  assert.equal(runtime.audit.mirrorStatus().lastCatchUp?.kind, 'incremental');
});

test('the CLI beside a running server gets its own mirror in memory and reads the same trail', () => {
  const cli = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'query', '--home', home, '--user', 'carol', `SELECT count(*) FROM veil_system.audit_log WHERE "user" = 'bob'`],
    { encoding: 'utf8' },
  );
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /20005/);
});

test('a mirror that does not belong to this audit trail is rebuilt, not served', async () => {
  await runtime.close();
  // Another home's trail in place of this one: same file names (or tables), a different chain.
  const other = mkdtempSync(path.join(os.tmpdir(), 'veil-mirror-other-'));
  try {
    const rt = await openRuntime(other);
    await rt.audit.recordMany(records(7, 'eve'));
    await rt.close();
    await copyAuditTrail(other, home);
    copyFileSync(path.join(other, 'keys', 'audit-chain.key'), path.join(home, 'keys', 'audit-chain.key'));
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
  runtime = await openRuntime(home);
  await runtime.users.put({ name: 'carol', groups: ['compliance'], attributes: {} });
  assert.equal(await countFor(runtime, `"user" = 'bob'`), 0);
  assert.equal(await countFor(runtime, `"user" = 'eve'`), 7);
  assert.equal(runtime.audit.mirrorStatus().lastCatchUp?.kind, 'full');
});

test('records pruned while the server was down leave the mirror at the next start; the chain verifies', async () => {
  await runtime.audit.recordMany(records(50, 'old', 0));
  await runtime.audit.recordMany(records(10, 'new', 10_000_000));
  assert.equal(await countFor(runtime, `"user" = 'old'`), 50);
  await runtime.close();
  const prune = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'audit', 'prune', '--before', '2026-02-01', '--home', home], { encoding: 'utf8' });
  assert.equal(prune.status, 0, prune.stderr);
  runtime = await openRuntime(home);
  assert.equal(await countFor(runtime, `"user" = 'old'`), 0);
  assert.equal(await countFor(runtime, `"user" = 'new'`), 10);
  const report = await runtime.store.audit.snapshot((view) => verifyAuditStore(view, runtime.home.loadKeys().auditChain));
  assert.equal(report.ok, true, JSON.stringify(report));
});

test('a deleted mirror file is rebuilt from the audit trail', async () => {
  await runtime.close();
  rmSync(path.join(home, 'cache', 'audit-mirror.duckdb'), { force: true });
  rmSync(path.join(home, 'cache', 'audit-mirror.duckdb.wal'), { force: true });
  runtime = await openRuntime(home);
  assert.equal(await countFor(runtime, `"user" = 'new'`), 10);
  assert.equal(runtime.audit.mirrorStatus().lastCatchUp?.kind, 'full');
});
