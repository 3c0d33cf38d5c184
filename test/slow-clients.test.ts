/**
 * Slow clients (docs/operations.md, "Slow clients"): a request must arrive whole within its
 * deadline, one address holds a bounded number of connections, and everyone else is served while
 * it tries. Loopback addresses 127.0.0.1 and 127.0.0.2 stand for two client machines. Every
 * trickling socket writes at most 40 bytes and stops when the server closes it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { rawRequest } from './support/raw-http.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

let s: TestServer & { internalErrors: unknown[] };
let port: number;
const LIMIT = 20;

before(async () => {
  s = await startTestServer({
    rows: 500,
    prepareHome: (home) =>
      writeFileSync(path.join(home, 'config.yaml'), `request_timeout_ms: 1500\nrequest_headers_timeout_ms: 1000\nmax_connections_per_client: ${LIMIT}\n`),
  });
  port = Number(new URL(s.url).port);
});

after(async () => {
  await s.close();
});

interface Slow {
  /** The first line of what the server answered, once it closed the connection. */
  readonly answer: Promise<{ statusLine: string; body: string }>;
}

/** A client that sends `head`, then one byte every 100 ms (at most 40), until the server closes it. */
function trickle(head: string): Slow {
  const socket = net.connect({ port, host: '127.0.0.1' });
  let received = '';
  let sent = 0;
  const timer = setInterval(() => {
    if (sent++ >= 40 || socket.destroyed) clearInterval(timer);
    else socket.write('x');
  }, 100);
  socket.on('connect', () => socket.write(head));
  socket.on('data', (chunk) => (received += chunk.toString('utf8')));
  const answer = new Promise<{ statusLine: string; body: string }>((resolve) => {
    const done = (): void => {
      clearInterval(timer);
      const [headers = '', body = ''] = received.split('\r\n\r\n');
      resolve({ statusLine: headers.split('\r\n')[0] ?? '', body });
    };
    socket.on('close', done);
    socket.on('error', () => undefined);
  });
  return { answer };
}

test('trickling clients get 408 at the deadline or 429 beyond their connection share; other clients are served meanwhile', async () => {
  const token = s.token('alice');
  const body = (i: number): string => `POST /v1/query HTTP/1.1\r\nHost: veil\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"sql": "SELECT ${i}`;
  const headersOnly = 'GET /healthz HTTP/1.1\r\nHost: veil\r\nX-Slow: ';
  const slow: Slow[] = [];
  for (let i = 0; i < 30; i++) slow.push(trickle(i % 3 === 0 ? headersOnly : body(i)));

  // Another machine is served at once, queries included, while 127.0.0.1 is saturated.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const other = await rawRequest({
    url: s.url,
    method: 'POST',
    path: '/v1/query',
    localAddress: '127.0.0.2',
    headers: { Authorization: `Bearer ${token}` },
    body: JSON.stringify({ sql: "SELECT count(*) FROM drug_xyz.trial_july2020 WHERE arm = 'placebo'" }),
  });
  assert.equal(other.status, 200, other.body);

  const answers = await Promise.all(slow.map((c) => c.answer));
  const lines = answers.map((a) => a.statusLine);
  const refused = answers.filter((a) => a.statusLine.startsWith('HTTP/1.1 429'));
  const timedOut = answers.filter((a) => a.statusLine.startsWith('HTTP/1.1 408'));
  assert.equal(refused.length, 30 - LIMIT, JSON.stringify(lines));
  assert.equal(timedOut.length, LIMIT, JSON.stringify(lines));
  for (const a of refused) assert.equal(JSON.parse(a.body).error.code, 'TOO_MANY_REQUESTS');
  // A body that never arrives whole is answered with Veil's own error; missing headers by Node.
  assert.ok(timedOut.some((a) => a.body.includes('"REQUEST_TIMEOUT"')), JSON.stringify(answers));

  // Their connections are gone: the address is served again.
  const again = await rawRequest({ url: s.url, path: '/healthz', localAddress: '127.0.0.1' });
  assert.equal(again.status, 200);
});

test('a trickled body is audited as a request timeout, attributed to its user', async () => {
  await s.runtime.audit.syncMirror();
  const rows = await s.rows('alice', `SELECT count(*) FROM veil_system.audit_log WHERE error_code = 'REQUEST_TIMEOUT'`);
  assert.ok(Number(rows[0]?.[0]) > 0);
});

test('no request ended in an internal error', () => {
  assert.deepEqual(s.internalErrors, []);
});
