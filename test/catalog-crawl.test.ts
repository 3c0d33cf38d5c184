import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from './support/test-server.ts';
import type { CrawlReport } from '../src/catalog/index.ts';
import { validatePolicy } from '../src/policy/index.ts';

/** Crawling registers what lies under a prefix, then reports changes without touching what people wrote. */
let s: TestServer;
let lake: string;
before(async () => {
  s = await startTestServer({ demo: false });
  await s.runtime.users.put({ name: 'erin', groups: ['stewards'], attributes: {} });
  await s.runtime.users.put({ name: 'alice', groups: ['data_science'], attributes: {} });
  await s.runtime.policies.apply([validatePolicy({ name: 'stewards-read-lake', subjects: { groups: ['stewards'] }, resources: [{ database: 'lake' }] })]);
  lake = path.join(s.home, 'storage', 'lake');
  mkdirSync(path.join(lake, 'sales', 'orders'), { recursive: true });
  writeFileSync(path.join(lake, 'sales', 'orders', 'part-1.csv'), 'order_id,amount,customer_email\n1,10.5,a@example.com\n2,20,b@example.com\n');
  writeFileSync(path.join(lake, 'sales', 'orders', 'part-2.csv'), 'order_id,amount,customer_email\n3,7.25,c@example.com\n');
  for (const region of ['eu', 'us']) {
    mkdirSync(path.join(lake, 'events', `region=${region}`), { recursive: true });
    writeFileSync(path.join(lake, 'events', `region=${region}`, 'data.json'), `{"event":"click","n":1}\n{"event":"view","n":2}\n`);
  }
  writeFileSync(path.join(lake, 'products.csv'), 'sku,name\nA-1,Widget\n');
  writeFileSync(path.join(lake, '.hidden.csv'), 'x\n1\n');
});
after(async () => {
  await s.close();
});

async function crawl(body: Record<string, unknown>): Promise<{ status: number; report: CrawlReport }> {
  const response = await s.post('erin', '/v1/catalog/crawl', body);
  return { status: response.status, report: (await response.json()) as CrawlReport };
}

test('a first crawl registers file, directory and partitioned datasets with inferred schemas', async () => {
  const { status, report } = await crawl({ prefix: 'lake', database: 'lake', owner: 'data-eng' });
  assert.equal(status, 200, JSON.stringify(report));
  assert.deepEqual(report.registered.map((r) => [r.dataset, r.format]).sort(), [
    ['lake.events', 'json'],
    ['lake.products', 'csv'],
    ['lake.sales_orders', 'csv'],
  ]);
  assert.deepEqual(report.errors, []);
  const orders = await s.runtime.catalog.datasets.get('lake.sales_orders');
  assert.deepEqual(orders.columns.map((c) => c.name), ['order_id', 'amount', 'customer_email']);
  assert.equal(orders.owner, 'data-eng');
  const events = await s.runtime.catalog.datasets.get('lake.events');
  assert.ok(events.columns.some((c) => c.name === 'region' && c.partition === true));
  assert.deepEqual(await s.rows('erin', 'SELECT count(*) FROM lake.sales_orders'), [[3]]);
  assert.deepEqual(await s.rows('erin', 'SELECT region, count(*) FROM lake.events GROUP BY ALL ORDER BY ALL'), [['eu', 2], ['us', 2]]);
});

test('a re-crawl reports new, changed, drifted and missing data and never overwrites documentation', async () => {
  await fetch(`${s.url}/v1/datasets/lake.sales_orders`, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${s.token('erin')}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ description: 'Orders, as the shop exports them.', column_descriptions: { amount: 'EUR' } }),
  });
  appendFileSync(path.join(lake, 'sales', 'orders', 'part-2.csv'), '4,1.5,d@example.com\n');
  writeFileSync(path.join(lake, 'products.csv'), 'sku,name,price\nA-1,Widget,9.99\n');
  rmSync(path.join(lake, 'events'), { recursive: true });
  mkdirSync(path.join(lake, 'hr'), { recursive: true });
  writeFileSync(path.join(lake, 'hr', 'people.parquet.csv'), 'id,first_name\n1,Ann\n');
  const { report } = await crawl({ prefix: 'lake', database: 'lake' });
  assert.deepEqual(report.registered.map((r) => r.dataset), ['lake.hr']);
  assert.deepEqual(report.changed.find((c) => c.dataset === 'lake.sales_orders'), { dataset: 'lake.sales_orders', files_added: 0, files_changed: 1, files_removed: 0 });
  assert.deepEqual(report.drift, [{ dataset: 'lake.products', added_columns: ['price'], removed_columns: [], changed_types: [] }]);
  assert.deepEqual(report.missing, ['lake.events']);
  const orders = await s.runtime.catalog.datasets.get('lake.sales_orders');
  assert.equal(orders.description, 'Orders, as the shop exports them.');
  assert.equal(orders.columns.find((c) => c.name === 'amount')?.description, 'EUR');
  assert.deepEqual((await s.runtime.catalog.datasets.get('lake.products')).columns.map((c) => c.name), ['sku', 'name'], 'drift is reported, not applied');
  const again = await crawl({ prefix: 'lake', database: 'lake' });
  assert.ok(again.report.unchanged.includes('lake.sales_orders'));
});

test('only administrators crawl; prefixes stay inside the storage root', async () => {
  assert.equal((await s.post('alice', '/v1/catalog/crawl', { prefix: 'lake', database: 'lake' })).status, 403);
  assert.equal((await crawl({ prefix: '../..', database: 'lake' })).status, 400);
  assert.equal((await crawl({ prefix: 'nowhere', database: 'lake' })).status, 400);
  assert.equal((await crawl({ prefix: 'lake', database: 'Bad-Name' })).status, 400);
});
