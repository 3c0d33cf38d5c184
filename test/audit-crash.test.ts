import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { verifyAuditStore, type AuditVerification } from '../src/audit/index.ts';
import { VeilHome } from '../src/home/index.ts';
import { openHomeStores } from './support/stores.ts';

/**
 * kill -9 of a busy server: every request that returned any data has its audit record, the chain
 * verifies, and a server restarted on the same home goes on appending to the same chain. The home's
 * audit trail is audit.db (WAL) or, on the PostgreSQL backend, the home's schema: either way the
 * trail is read after the crash through a connection of its own, as the next process would.
 */
const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'src/cli/main.ts');
let home: string;

before(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'veil-crash-'));
  await run(process.execPath, ['--import', 'tsx', CLI, 'demo', '--rows', '20000', '--home', home], { cwd: ROOT });
});
after(() => rmSync(home, { recursive: true, force: true }));

async function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--home', home, '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  return { child, port };
}

async function token(user: string): Promise<string> {
  return (await run(process.execPath, ['--import', 'tsx', CLI, 'token', 'issue', '--user', user, '--home', home], { cwd: ROOT })).stdout.trim();
}

interface Outcome {
  requestId: string | null;
  bytes: number;
}

/** Sends a request and notes its request id once any byte of the result has arrived. */
function request(port: number, bearer: string, body: unknown, accept: string, outcomes: Outcome[]): Promise<void> {
  return new Promise((resolve) => {
    const outcome: Outcome = { requestId: null, bytes: 0 };
    const req = http.request(
      { host: '127.0.0.1', port, path: body && typeof body === 'object' && 'dataset' in body ? '/v1/scan' : '/v1/query', method: 'POST', headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json', Accept: accept } },
      (res) => {
        if (res.statusCode === 200) outcome.requestId = String(res.headers['x-request-id']);
        res.on('data', (chunk: Buffer) => {
          outcome.bytes += chunk.length;
          if (outcome.bytes === chunk.length && outcome.requestId !== null) outcomes.push(outcome);
        });
        res.on('end', () => resolve());
        res.on('error', () => resolve());
        res.on('aborted', () => resolve());
      },
    );
    req.on('error', () => resolve());
    req.end(JSON.stringify(body));
  });
}

test('kill -9 under load loses no record of a request that returned data; the chain verifies and continues', async () => {
  const first = await startServer();
  const [alice, bob] = await Promise.all([token('alice'), token('bob')]);
  const outcomes: Outcome[] = [];
  const inFlight: Promise<void>[] = [];
  // A bounded stream of concurrent requests: big CSV scans, JSON queries, denials.
  for (let i = 0; i < 40; i++) {
    const user = i % 2 === 0 ? alice : bob;
    const body = i % 3 === 0 ? { dataset: 'drug_xyz.trial_july2020' } : { sql: `SELECT * FROM drug_xyz.trial_july2020 WHERE dose_mg > ${i}` };
    inFlight.push(request(first.port, user, body, i % 3 === 0 ? 'text/csv' : 'application/json', outcomes));
    if (i === 25) {
      // Kill while requests are streaming: wait until some have returned data.
      for (let wait = 0; wait < 200 && outcomes.length < 5; wait++) await new Promise((r) => setTimeout(r, 25));
      first.child.kill('SIGKILL');
    }
  }
  await Promise.all(inFlight);
  await new Promise((r) => first.child.exitCode !== null || first.child.signalCode !== null ? r(undefined) : first.child.once('exit', r));
  assert.ok(outcomes.length >= 5, `${outcomes.length} requests returned data before the kill`);

  const key = new VeilHome(home).loadKeys().auditChain;
  const check = async (): Promise<AuditVerification> => {
    const stores = await openHomeStores(home);
    try {
      return await stores.audit.snapshot(async (db) => {
        for (const outcome of outcomes) {
          const row = await db.get('SELECT request_id FROM audit_log WHERE request_id = ?', [outcome.requestId]);
          assert.ok(row !== undefined, `request ${outcome.requestId} returned ${outcome.bytes} bytes but has no audit record`);
        }
        const result = await verifyAuditStore(db, key);
        assert.equal(result.ok, true, JSON.stringify(result.first_break));
        return result;
      });
    } finally {
      await stores.close();
    }
  };
  const afterCrash = await check();

  // Restart on the same home: the chain goes on from its head.
  const second = await startServer();
  try {
    await request(second.port, alice, { sql: 'SELECT count(*) FROM drug_xyz.adverse_events' }, 'application/json', outcomes);
  } finally {
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }
  const afterRestart = await check();
  assert.ok(afterRestart.records > afterCrash.records);
});
