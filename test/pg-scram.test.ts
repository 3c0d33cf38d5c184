import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from './support/test-server.ts';
import { auditLogRows } from './support/audit-trail.ts';

/**
 * SCRAM-SHA-256 against API tokens (pg_auth: scram-sha-256; by default the method of plain
 * connections from other hosts): real psql and psycopg2 prove they hold the token without sending
 * it, the server proves it holds the verifier, and a revoked token stops working at once.
 */
const run = promisify(execFile);
let server: TestServer;
let token: string;
let tokenId: string;

before(async () => {
  server = await startTestServer({ rows: 300, prepareHome: (home) => writeFileSync(path.join(home, 'config.yaml'), 'pg_auth: scram-sha-256\n') });
  const { token: created, info } = await server.runtime.apiTokens.create({ user: 'bob', label: 'scram test', createdBy: 'test' });
  token = created;
  tokenId = info.id;
});
after(async () => server.close());

const psql = (user: string, password: string, sql: string) =>
  run('psql', ['-X', '-A', '-t', '-c', sql], { env: { ...process.env, PGPASSWORD: password, PGHOST: '127.0.0.1', PGPORT: String(server.pgPort), PGUSER: user, PGDATABASE: 'veil', PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '10' }, timeout: 30_000 });

test('psql authenticates with SCRAM-SHA-256 and an API token, and reads as its user', async () => {
  const { stdout } = await psql('bob', token, 'SELECT count(*) FROM drug_xyz.trial_july2020');
  assert.equal(stdout.trim(), '300');
  const rows = await server.rows('bob', 'SELECT count(*) FROM drug_xyz.trial_july2020');
  assert.equal(String(rows[0]![0]), '300');
});

test('psycopg2 authenticates with SCRAM-SHA-256 too', async () => {
  const script = [
    'import psycopg2, sys',
    `conn = psycopg2.connect(host="127.0.0.1", port=${server.pgPort}, user="bob", password=sys.argv[1], dbname="veil", sslmode="disable")`,
    'cur = conn.cursor(); cur.execute("SELECT arm, count(*) FROM drug_xyz.trial_july2020 GROUP BY arm ORDER BY arm"); print(cur.fetchall())',
  ].join('\n');
  const { stdout } = await run('/usr/bin/python3', ['-c', script, token], { timeout: 30_000 });
  assert.match(stdout, /\('placebo', \d+\), \('treatment', \d+\)/);
});

test('a wrong token, a Veil JWT (no verifier) and another user are refused with 28P01, never echoed', async () => {
  for (const [user, password] of [['bob', `${token.slice(0, -3)}xyz`], ['bob', server.token('bob')], ['alice', token]] as const) {
    await assert.rejects(psql(user, password, 'SELECT 1'), (error: { stderr: string }) => {
      assert.match(error.stderr, /password authentication failed/);
      assert.ok(!error.stderr.includes(password.slice(-20)), 'the secret is not echoed');
      return true;
    });
  }
});

test('revoking the token ends its access on the open session’s next statement', async () => {
  const script = [
    'import psycopg2, sys, json',
    `conn = psycopg2.connect(host="127.0.0.1", port=${server.pgPort}, user="bob", password=sys.argv[1], dbname="veil", sslmode="disable")`,
    'conn.autocommit = True',
    'cur = conn.cursor(); cur.execute("SELECT 1"); print(cur.fetchone()[0], flush=True)',
    'sys.stdin.readline()',
    'try:',
    '    cur.execute("SELECT count(*) FROM drug_xyz.trial_july2020"); print("STILL", cur.fetchone()[0])',
    'except psycopg2.Error as e:',
    '    print("REFUSED", e.pgcode)',
  ].join('\n');
  const { spawn } = await import('node:child_process');
  const child = spawn('/usr/bin/python3', ['-c', script, token], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no first answer: ${output}`)), 30_000);
    child.stdout.on('data', () => {
      if (output.includes('1\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await server.runtime.apiTokens.revoke(tokenId);
  child.stdin.end('\n');
  await new Promise((resolve) => child.once('close', resolve));
  assert.match(output, /REFUSED 28P01/, output);
  const records = await auditLogRows(server.home, `door = 'pg' AND "user" = 'bob' AND error_code = 'INVALID_TOKEN'`);
  assert.ok(records.length >= 1, 'the refusal is audited');
});
