import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startTestServer, type TestServer } from './support/test-server.ts';

/**
 * Sessions as a pool of BI connections uses them: many at once, each with its own statements and
 * portals, idle sessions closed, long statements stopped by the statement timeout (57014).
 */
let server: TestServer & { internalErrors: unknown[] };

before(async () => {
  server = await startTestServer({
    rows: 3000,
    prepareHome: (home) => writeFileSync(path.join(home, 'config.yaml'), 'pg_idle_timeout_ms: 1500\nstatement_timeout_ms: 2000\n'),
  });
});
after(async () => server.close());

const connect = async (user: string): Promise<pg.Client> => {
  const client = new pg.Client({ host: '127.0.0.1', port: server.pgPort, user, password: server.token(user), database: 'veil' });
  client.on('error', () => undefined);
  await client.connect();
  return client;
};

test('24 concurrent sessions of different users each get their own answers', async () => {
  const users = ['alice', 'bob', 'erin'];
  const expected = new Map<string, string>();
  for (const user of users) expected.set(user, String((await server.rows(user, 'SELECT count(*) FROM drug_xyz.trial_july2020'))[0]![0]));
  const sessions = await Promise.all(Array.from({ length: 24 }, (_, i) => connect(users[i % users.length]!)));
  try {
    const answers = await Promise.all(
      sessions.map(async (client, i) => {
        const user = users[i % users.length]!;
        // The same statement name on every connection: statements are per session.
        const counts: string[] = [];
        for (let round = 0; round < 3; round++) {
          const result = await client.query({ name: 'count', text: 'SELECT count(*) AS n FROM drug_xyz.trial_july2020 WHERE dose_mg >= $1', values: [0], rowMode: 'array' });
          counts.push(String(result.rows[0]![0]));
        }
        return { user, counts };
      }),
    );
    for (const { user, counts } of answers) assert.deepEqual(counts, [expected.get(user), expected.get(user), expected.get(user)], user);
  } finally {
    await Promise.all(sessions.map((s) => s.end()));
  }
  assert.deepEqual(server.internalErrors, []);
});

test('an idle session is closed after pg_idle_timeout_ms with 57P05', async () => {
  const client = await connect('alice');
  const closed = new Promise<unknown>((resolve) => {
    client.on('error', resolve);
    client.on('end', () => resolve('end'));
  });
  const reason = await closed;
  assert.ok(reason === 'end' || String((reason as { code?: string }).code ?? reason).includes('57P05'), String(reason));
  await client.end().catch(() => undefined);
});

test('a statement longer than the statement timeout stops with 57014, and the session goes on', async () => {
  const client = await connect('erin');
  try {
    await assert.rejects(
      client.query('SELECT count(*) FROM drug_xyz.trial_july2020 a, drug_xyz.trial_july2020 b, drug_xyz.trial_july2020 c WHERE a.dose_mg + b.dose_mg > c.dose_mg'),
      (error: { code?: string }) => {
        assert.equal(error.code, '57014');
        return true;
      },
    );
    const again = await client.query({ text: 'SELECT 1 AS one', rowMode: 'array' });
    assert.deepEqual(again.rows, [[1]]);
  } finally {
    await client.end();
  }
});
