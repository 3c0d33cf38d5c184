import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from './support/test-server.ts';

/** Documentation, certification, preview and access snippets of a dataset. */
let s: TestServer;
before(async () => {
  s = await startTestServer({ rows: 300 });
});
after(async () => {
  await s.close();
});

async function patch(user: string, dataset: string, body: unknown): Promise<Response> {
  return fetch(`${s.url}/v1/datasets/${dataset}`, { method: 'PATCH', headers: { Authorization: `Bearer ${s.token(user)}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

test('stewards document and certify; everyone who can see the dataset sees who and when', async () => {
  const response = await patch('erin', 'drug_xyz.trial_july2020', {
    description: '**Trial of drug XYZ**, July 2020. One row per participant.',
    steward: 'erin',
    certification: { status: 'validated', note: 'checked against the CRF export' },
    column_descriptions: { dose_mg: 'Daily dose in *milligrams*.' },
  });
  assert.equal(response.status, 200);
  const described = (await (await s.get('bob', '/v1/datasets/drug_xyz.trial_july2020')).json()) as Record<string, unknown>;
  assert.equal(described['steward'], 'erin');
  const certification = described['certification'] as { status: string; by: string; at: string; note: string };
  assert.equal(certification.status, 'validated');
  assert.equal(certification.by, 'erin');
  assert.ok(Date.now() - Date.parse(certification.at) < 60_000);
  const columns = described['columns'] as { name: string; description: string }[];
  assert.equal(columns.find((c) => c.name === 'dose_mg')?.description, 'Daily dose in *milligrams*.');
  assert.equal((await patch('erin', 'drug_xyz.trial_july2020', { certification: { status: 'golden' } })).status, 400);
  assert.equal((await patch('alice', 'drug_xyz.trial_july2020', { certification: { status: 'deprecated' } })).status, 403);
  // Search filters and ranks by certification.
  const validated = (await (await s.get('alice', '/v1/search?q=participant_id&certification=validated')).json()) as { results: { name: string; certification: string }[] };
  assert.deepEqual(validated.results.map((r) => [r.name, r.certification]), [['drug_xyz.trial_july2020', 'validated']]);
  const uncertified = (await (await s.get('alice', '/v1/search?q=participant_id&certification=none')).json()) as { results: { name: string }[] };
  assert.deepEqual(uncertified.results.map((r) => r.name), ['drug_xyz.adverse_events']);
});

test('preview: the first rows under the caller\'s policies, audited as a preview', async () => {
  const response = await s.get('alice', '/v1/datasets/drug_xyz.trial_july2020/preview?limit=5');
  assert.equal(response.status, 200);
  const body = (await response.json()) as { columns: { name: string }[]; rows: unknown[][]; row_count: number };
  assert.equal(body.row_count, 5);
  const country = body.columns.findIndex((c) => c.name === 'country');
  const name = body.columns.findIndex((c) => c.name === 'full_name');
  assert.ok(body.rows.every((row) => row[country] === 'US' && row[name] === null));
  const bob = (await (await s.get('bob', '/v1/datasets/drug_xyz.trial_july2020/preview')).json()) as { columns: { name: string }[]; row_count: number };
  assert.ok(!bob.columns.some((c) => c.name === 'ssn'));
  assert.equal(bob.row_count, 20);
  assert.equal((await s.get('dave', '/v1/datasets/drug_xyz.trial_july2020/preview')).status, 404);
  assert.equal((await s.get('alice', '/v1/datasets/drug_xyz.trial_july2020/preview?limit=5000')).status, 400);
  const audited = await s.rows('alice', "SELECT statement, rows_returned FROM veil_system.audit_log WHERE statement_type = 'preview'");
  assert.deepEqual(audited, [['preview drug_xyz.trial_july2020 (5 rows)', 5]]);
});

test('access snippets name this server and the dataset, and are only for visible datasets', async () => {
  const response = await s.get('alice', '/v1/datasets/drug_xyz.trial_july2020/access');
  const body = (await response.json()) as { snippets: Record<string, string>; readable: boolean };
  const port = new URL(s.url).port;
  assert.equal(body.readable, true);
  assert.match(body.snippets['python'] ?? '', new RegExp(`connect\\(host="127.0.0.1", port=${port}\\)`));
  assert.match(body.snippets['python'] ?? '', /scan_as_pandas\("drug_xyz.trial_july2020"\)/);
  assert.match(body.snippets['typescript'] ?? '', new RegExp(`http://127.0.0.1:${port}`));
  assert.match(body.snippets['curl'] ?? '', /"dataset": "drug_xyz.trial_july2020"/);
  assert.equal(body.snippets['sql'], 'SELECT * FROM drug_xyz.trial_july2020 LIMIT 100;');
  assert.equal((await s.get('dave', '/v1/datasets/drug_xyz.trial_july2020/access')).status, 404);
  // fetch() will not send a made-up Host header; node:http does.
  const url = new URL(s.url);
  const snippetsFor = (host: string) =>
    new Promise<Record<string, string>>((resolve, reject) => {
      const req = http.get({ host: url.hostname, port: url.port, path: '/v1/datasets/drug_xyz.trial_july2020/access', headers: { Authorization: `Bearer ${s.token('alice')}`, Host: host } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve((JSON.parse(text) as { snippets: Record<string, string> }).snippets));
      });
      req.on('error', reject);
    });
  const hostile = await snippetsFor('evil";rm$IFS-rf$IFS~;"');
  assert.ok(!JSON.stringify(hostile).includes('rm$IFS'), 'a hostile Host never reaches a snippet');
  assert.match(hostile['curl'] ?? '', /http:\/\/127\.0\.0\.1/);
  // Reached over plain HTTP by name: the Python client must be told (it defaults to TLS off loopback).
  assert.match((await snippetsFor('veil.example.com:8443'))['python'] ?? '', /connect\(host="veil.example.com", port=8443, tls=False\)/);
  // An impossible port is not copied: the server's own address is used instead.
  const badPort = await snippetsFor('evil.example:99999999');
  assert.ok(!JSON.stringify(badPort).includes('99999999') && !JSON.stringify(badPort).includes('evil.example'));
  assert.match(badPort['python'] ?? '', new RegExp(`connect\\(host="127.0.0.1", port=${port}\\)`));
});

test('with public_url configured, snippets name it whatever Host the caller sent', async () => {
  const proxied = await startTestServer({ rows: 50, prepareHome: (home) => writeFileSync(path.join(home, 'config.yaml'), 'public_url: https://veil.example.com\n') });
  try {
    const body = (await (await proxied.get('alice', '/v1/datasets/drug_xyz.trial_july2020/access')).json()) as { snippets: Record<string, string> };
    assert.match(body.snippets['python'] ?? '', /connect\(host="veil.example.com", port=443\)/);
    assert.match(body.snippets['curl'] ?? '', /https:\/\/veil\.example\.com\/v1\/scan/);
  } finally {
    await proxied.close();
  }
});
