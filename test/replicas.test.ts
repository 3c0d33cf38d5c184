import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { verifyAuditStore } from '../src/audit/index.ts';
import { VeilHome } from '../src/home/index.ts';
import { LocalTokenIssuer } from '../src/identity/index.ts';
import { openPostgresStore } from '../src/postgres/migrations.ts';
import { testBackend } from './support/stores.ts';

/**
 * Three `veil serve` replicas over one PostgreSQL schema, behind Debian's haproxy (docs/scale-out.md):
 * concurrent clients through the balancer, a policy-relevant change made on one replica mid-run
 * (alice's region), one replica killed with SIGKILL while it streams a result. Checked: no request
 * that started after the change saw the old rows; every client request succeeded (retrying
 * elsewhere after the kill); every answered request has its audit record; the masking key rotated
 * from one home reaches every replica through the shared keys directory; the one audit chain,
 * written by three processes at once, verifies.
 */
const root = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);
const HAPROXY = '/usr/sbin/haproxy';
const TRIAL = 'drug_xyz.trial_july2020';
const PROBE = `SELECT count(*) AS n, min(country) AS lo, max(country) AS hi FROM ${TRIAL}`;
const CLIENTS = 6;
const MAX_ITERATIONS = 300;

const skip = testBackend() !== 'postgres' ? 'replicas share a PostgreSQL control store: this test runs in the postgres pass' : false;

interface Replica {
  readonly name: string;
  readonly home: string;
  readonly process: ChildProcess;
  readonly url: string;
  readonly port: number;
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'veil-replicas-'));
const schema = `veil_replicas_${process.pid}`;
const replicas: Replica[] = [];
let balancer: ChildProcess | undefined;
let balancerUrl = '';
let issuer: LocalTokenIssuer;

function environment(): NodeJS.ProcessEnv {
  return { ...process.env, VEIL_POSTGRES_SCHEMA: schema, VEIL_CONTROL_STORE: 'postgres' };
}

async function startReplica(name: string, home: string, args: readonly string[]): Promise<Replica> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'serve', '--home', home, '--port', '0', '--pg-port', '0', ...args], {
    cwd: root,
    env: environment(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica ${name} did not start:\n${log}`)), 120_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`replica ${name} exited with ${code}:\n${log}`));
    });
  });
  return { name, home, process: child, port, url: `http://127.0.0.1:${port}` };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function until(condition: () => Promise<boolean>, what: string, attempts = 100): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await condition().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Answer {
  readonly status: number;
  readonly requestId: string | null;
  readonly rows: unknown[][];
}

async function query(url: string, user: string, sql: string): Promise<Answer> {
  const response = await fetch(`${url}/v1/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${issuer.issue(user, 600)}` },
    body: JSON.stringify({ sql }),
  });
  const body = (await response.json()) as { rows?: unknown[][] };
  return { status: response.status, requestId: response.headers.get('x-request-id'), rows: body.rows ?? [] };
}

before(async () => {
  if (skip !== false) return;
  // Every replica's home: the one keys directory (configuration), the shared storage, its own caches.
  const keys = path.join(scratch, 'keys');
  const homeOf = (name: string): string => {
    const home = path.join(scratch, name);
    mkdirSync(home);
    writeFileSync(path.join(home, 'config.yaml'), `keys_directory: ${JSON.stringify(keys)}\n`);
    return home;
  };
  const homeA = homeOf('a');
  replicas.push(await startReplica('a', homeA, ['--demo', '--rows', '3000']));
  issuer = new LocalTokenIssuer(new VeilHome(homeA).loadKeys().tokenSigning);
  for (const name of ['b', 'c']) {
    const home = homeOf(name);
    symlinkSync(path.join(homeA, 'storage'), path.join(home, 'storage'));
    replicas.push(await startReplica(name, home, []));
  }
  const port = await freePort();
  const config = path.join(scratch, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'global',
      '  maxconn 256',
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 60s',
      '  timeout server 60s',
      '  retries 3',
      '  option redispatch',
      '  option http-buffer-request',
      '  retry-on conn-failure empty-response response-timeout',
      'frontend veil',
      `  bind 127.0.0.1:${port}`,
      '  default_backend replicas',
      'backend replicas',
      '  balance roundrobin',
      '  option httpchk GET /healthz',
      '  default-server inter 300ms fall 2 rise 2',
      ...replicas.map((r) => `  server ${r.name} 127.0.0.1:${r.port} check`),
      '',
    ].join('\n'),
  );
  balancer = spawn(HAPROXY, ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  balancerUrl = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(`${balancerUrl}/healthz`)).ok, 'haproxy');
});

after(async () => {
  balancer?.kill('SIGTERM');
  for (const replica of replicas) replica.process.kill('SIGTERM');
  const running = replicas.filter((r) => r.process.exitCode === null && r.process.signalCode === null);
  await Promise.all(running.map((r) => new Promise((resolve) => r.process.once('exit', resolve))));
  if (skip === false) {
    const client = new pg.Client({ connectionString: process.env['VEIL_POSTGRES_URL'] });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
  rmSync(scratch, { recursive: true, force: true });
});

interface Sample {
  readonly startedAt: number;
  readonly answer: Answer;
  readonly attempts: number;
}

test('three replicas behind haproxy: a change on one is in force on all at once; a replica killed mid-stream loses no record; the chain verifies', { skip }, async (t) => {
  // Every replica answers alice with US rows, whoever registered the data.
  for (const replica of replicas) {
    const answer = await query(replica.url, 'alice', PROBE);
    assert.equal(answer.status, 200, replica.name);
    assert.deepEqual(answer.rows[0]?.slice(1), ['US', 'US'], replica.name);
  }
  let stop = false;
  const samples: Sample[] = [];
  const failures: string[] = [];
  const client = async (): Promise<void> => {
    for (let i = 0; i < MAX_ITERATIONS && !stop; i++) {
      const startedAt = Date.now();
      let attempts = 0;
      for (;;) {
        attempts++;
        try {
          const answer = await query(balancerUrl, 'alice', PROBE);
          if (answer.status === 200) {
            samples.push({ startedAt, answer, attempts });
            break;
          }
          if (answer.status < 500 || attempts >= 5) throw new Error(`HTTP ${answer.status}`);
        } catch (error) {
          // A connection cut by the killed replica: the client retries, and haproxy sends it elsewhere.
          if (attempts >= 5) {
            failures.push(String(error));
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    }
  };
  const load = Promise.all(Array.from({ length: CLIENTS }, client));
  await new Promise((resolve) => setTimeout(resolve, 1500));

  // The change, made on replica b: alice's region is DE from now on.
  const erin = `Bearer ${issuer.issue('erin', 600)}`;
  const changed = await fetch(`${replicas[1]!.url}/v1/users/alice`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', Authorization: erin },
    body: JSON.stringify({ groups: ['data_science'], attributes: { region: 'DE' } }),
  });
  assert.equal(changed.status, 200);
  const changedAt = Date.now();

  // A long result streaming from replica c, which is killed once the first bytes arrived.
  const victim = replicas[2]!;
  const stream = await fetch(`${victim.url}/v1/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/csv', Authorization: erin },
    body: JSON.stringify({ sql: `SELECT a.participant_id, b.participant_id FROM ${TRIAL} a, ${TRIAL} b` }),
  });
  assert.equal(stream.status, 200);
  const streamedRequest = stream.headers.get('x-request-id');
  const reader = stream.body!.getReader();
  assert.equal((await reader.read()).done, false);
  victim.process.kill('SIGKILL');
  await assert.rejects(async () => {
    for (;;) if ((await reader.read()).done) throw new Error('the stream ended normally: the replica was not killed mid-stream');
  }, /terminated|other side closed|socket/i);

  await new Promise((resolve) => setTimeout(resolve, 2000));
  stop = true;
  await load;

  assert.deepEqual(failures, [], 'every client request succeeded, retrying elsewhere when its replica died');
  const after = samples.filter((s) => s.startedAt > changedAt);
  const before = samples.filter((s) => s.startedAt <= changedAt);
  assert.ok(after.length >= CLIENTS * 5, `load went on after the change (${after.length} requests)`);
  assert.ok(before.length >= CLIENTS, `load ran before the change (${before.length} requests)`);
  const stale = after.filter((s) => s.answer.rows[0]?.[2] !== 'DE' || s.answer.rows[0]?.[1] !== 'DE');
  assert.deepEqual(stale.map((s) => s.answer.rows[0]), [], 'no request that started after the change saw the old policy');
  assert.ok(before.some((s) => s.answer.rows[0]?.[2] === 'US'), 'requests before the change saw US rows');
  // The bound: the change is read by every replica on its next request (the generation is read per
  // decision), so a request that started after the change's answer never saw the old policy.
  const firstNew = Math.min(...samples.filter((s) => s.answer.rows[0]?.[2] === 'DE').map((s) => s.startedAt));
  const lastOld = Math.max(...samples.filter((s) => s.answer.rows[0]?.[2] === 'US').map((s) => s.startedAt));
  t.diagnostic(
    `${samples.length} requests (${before.length} before the change, ${after.length} after); retried: ${samples.filter((s) => s.attempts > 1).length}; ` +
      `first DE answer started ${firstNew - changedAt} ms after the change's answer, last US answer started ${lastOld - changedAt} ms after it`,
  );

  // The masking key rotated from one home: the shared keys directory gets the new key and the
  // generation moves, so every replica's tokens change at once, and agree.
  const tokens = async (replica: Replica): Promise<unknown[] | undefined> => (await query(replica.url, 'alice', `SELECT min(participant_id), max(participant_id) FROM ${TRIAL}`)).rows[0];
  const [a, b] = replicas as [Replica, Replica];
  const old = await tokens(a);
  assert.deepEqual(await tokens(b), old);
  await run(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'keys', 'rotate', '--home', a.home], { cwd: root, env: environment() });
  const rotated = await tokens(b);
  assert.notDeepEqual(rotated, old, 'replica b tokenizes with the new key');
  assert.deepEqual(await tokens(a), rotated, 'both replicas agree');

  // The trail: every answered request is on record, the killed stream too; one chain, verified.
  const settings = new VeilHome(replicas[0]!.home).loadSettings();
  const store = await openPostgresStore({ url: settings.postgresUrl, schema });
  try {
    const ids = new Set((await store.all<{ request_id: string }>('SELECT request_id FROM audit_log')).map((r) => r.request_id));
    const answered = samples.map((s) => s.answer.requestId);
    assert.ok(answered.every((id) => id !== null && ids.has(id)), `${answered.filter((id) => id === null || !ids.has(id)).length} answered requests have no record`);
    assert.ok(streamedRequest !== null && ids.has(streamedRequest), 'the stream cut by the kill was recorded before its first byte');
    const writers = await store.all<{ n: number }>(`SELECT count(*) AS n FROM audit_log WHERE "user" = 'alice'`);
    assert.ok((writers[0]?.n ?? 0) >= samples.length);
    const verification = await store.snapshot((view) => verifyAuditStore(view, new VeilHome(replicas[0]!.home).loadKeys().auditChain));
    assert.equal(verification.ok, true, JSON.stringify(verification.first_break));
    assert.equal(verification.unchained_records, 0);
  } finally {
    await store.close();
  }
});
