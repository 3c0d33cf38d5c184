import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from './support/test-server.ts';

/** Catalog and policy management over HTTP, and datasets in every supported layout and format. */
let s: TestServer;

before(async () => {
  s = await startTestServer({ rows: 200 });
  const storage = path.join(s.home, 'storage', 'shop');
  mkdirSync(path.join(storage, 'orders'), { recursive: true });
  writeFileSync(path.join(storage, 'customers.json'), '{"id": 1, "email": "a@x.org", "tier": "gold"}\n{"id": 2, "email": "b@y.org", "tier": "basic"}\n');
  writeFileSync(path.join(storage, 'orders', 'part-1.csv'), 'order_id;customer_id;amount\n10;1;9.5\n11;2;NA\n');
  writeFileSync(path.join(storage, 'orders', 'part-2.csv'), 'order_id;customer_id;amount\n12;1;20\n');
  await s.runtime.engine.runInternal(`COPY (SELECT 1 AS customer_id, DATE '2026-01-02' AS since) TO '${path.join(storage, 'loyalty.parquet')}' (FORMAT parquet)`);
});
after(async () => {
  await s.close();
});

async function register(user: string, body: Record<string, unknown>): Promise<Response> {
  return s.post(user, '/v1/datasets', body);
}

test('only admins may register datasets', async () => {
  const response = await register('alice', { name: 'shop.customers', location: 'shop/customers.json' });
  assert.equal(response.status, 403);
});

test('JSON, a CSV glob with options, and Parquet register with inferred schemas', async () => {
  let response = await register('erin', { name: 'shop.customers', location: 'shop/customers.json', column_tags: { email: ['pii.email'] }, description: 'Customers' });
  assert.equal(response.status, 201, await response.clone().text());
  response = await register('erin', { name: 'shop.orders', location: 'shop/orders/*.csv', format: 'csv', csv: { delimiter: ';', null_string: 'NA' } });
  assert.equal(response.status, 201, await response.clone().text());
  const orders = (await response.json()) as { columns: { name: string; type: string }[] };
  assert.deepEqual(orders.columns.map((c) => [c.name, c.type]), [['order_id', 'BIGINT'], ['customer_id', 'BIGINT'], ['amount', 'DOUBLE']]);
  response = await register('erin', { name: 'shop.loyalty', location: 'shop/loyalty.parquet' });
  assert.equal(response.status, 201, await response.clone().text());
  response = await register('erin', { name: 'shop.orders', location: 'shop/orders/*.csv', format: 'csv' });
  assert.equal(response.status, 409);
});

test('policies apply over HTTP as YAML and take effect at once', async () => {
  const yaml = `policies:
  - name: shop-analysts
    subjects: { groups: [data_science] }
    resources: [{ database: shop }]
    masks: [{ tags: [pii.email], transform: email_domain }]
`;
  const response = await s.post('erin', '/v1/policies', yaml, { 'Content-Type': 'application/yaml' });
  assert.equal(response.status, 200, await response.clone().text());
  assert.deepEqual(((await response.json()) as { created: string[] }).created, ['shop-analysts']);
  const rows = await s.rows('alice', 'SELECT c.email, sum(o.amount), count(*) FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id LEFT JOIN shop.loyalty l USING (customer_id) GROUP BY ALL ORDER BY 1');
  assert.deepEqual(rows, [['XXXXX@x.org', 29.5, 2], ['XXXXX@y.org', null, 1]]);
  const exported = await s.get('erin', '/v1/policies', { Accept: 'application/yaml' });
  assert.match(await exported.text(), /name: shop-analysts/);
});

test('tagging a column changes what policies do, immediately', async () => {
  const response = await s.post('erin', '/v1/datasets/shop.customers/tags', { columns: { tier: { add: ['pii.email'] } } });
  assert.equal(response.status, 200);
  const rows = await s.rows('alice', 'SELECT tier FROM shop.customers ORDER BY id');
  assert.deepEqual(rows, [['XXXXX'], ['XXXXX']]);
});

test('users are managed over HTTP; a removed user\'s token stops working', async () => {
  let response = await fetch(`${s.url}/v1/users/zed`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${s.token('erin')}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ groups: ['data_science'], attributes: { region: 'DE' } }),
  });
  assert.equal(response.status, 200);
  const token = s.token('zed');
  const me = await fetch(`${s.url}/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
  assert.deepEqual(await me.json(), { user: 'zed', groups: ['data_science'], attributes: { region: ['DE'] }, authenticated_by: { method: 'local', via: null }, admin: false });
  const countries = await fetch(`${s.url}/v1/query`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql: 'SELECT DISTINCT country FROM drug_xyz.trial_july2020' }),
  });
  assert.deepEqual(((await countries.json()) as { rows: unknown[][] }).rows, [['DE']]);
  response = await fetch(`${s.url}/v1/users/zed`, { method: 'DELETE', headers: { Authorization: `Bearer ${s.token('erin')}` } });
  assert.equal(response.status, 200);
  const after = await fetch(`${s.url}/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(after.status, 401);
});

test('drop removes the dataset from every door', async () => {
  const response = await fetch(`${s.url}/v1/datasets/shop.loyalty`, { method: 'DELETE', headers: { Authorization: `Bearer ${s.token('erin')}` } });
  assert.equal(response.status, 200);
  const { status } = await s.query('alice', 'SELECT * FROM shop.loyalty');
  assert.equal(status, 404);
});

test('the OpenAPI document describes the API', async () => {
  const response = await s.get(null, '/openapi.json');
  const doc = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
  assert.equal(doc.openapi, '3.1.0');
  for (const route of ['/v1/query', '/v1/scan', '/v1/explain', '/v1/datasets', '/v1/datasets/{name}', '/healthz']) assert.ok(doc.paths[route], route);
});

test('a location outside the storage roots is refused the same way whether it exists or not', async () => {
  const answers = [];
  for (const location of ['/etc/passwd', '/etc/no-such-file-veil', '/etc/*.conf', '/no-such-dir/*.csv', '../../../etc/passwd']) {
    const response = await register('erin', { name: 'x.probe', location, format: 'csv' });
    const body = (await response.json()) as { error: { code: string; message: string } };
    answers.push([response.status, body.error.code, body.error.message.replace(location, '<location>')]);
  }
  // ".." is refused before anything else; every other outside path gets one and the same answer.
  assert.deepEqual(new Set(answers.slice(0, 4).map((a) => JSON.stringify(a))).size, 1, JSON.stringify(answers));
  assert.deepEqual(answers[0], [400, 'INVALID_DATASET', 'location <location> is outside the storage roots']);
});
