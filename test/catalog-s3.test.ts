import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { stringify } from 'yaml';
import { validatePolicy } from '../src/policy/index.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

/**
 * Datasets on an S3-compatible store (a local s3rver): registered through the AWS SDK, read by
 * DuckDB from a local copy validated by ETag before every query, so a changed object is never
 * served stale.
 */
let s3server: S3rver;
let s3: S3Client;
let s: TestServer;
let objects: string;

before(async () => {
  objects = mkdtempSync(path.join(os.tmpdir(), 'veil-s3rver-'));
  s3server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: objects });
  const { port } = (await s3server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
  await put('sales/orders/part-1.csv', 'order_id,amount,customer_email\n1,10.5,a@example.com\n2,20,b@example.com\n');
  await put('sales/orders/part-2.csv', 'order_id,amount,customer_email\n3,7.25,c@example.com\n');
  await put('ref/countries.csv', 'code,name\nDE,Germany\nUS,United States\n');
  s = await startTestServer({
    rows: 100,
    prepareHome: (home) =>
      writeFileSync(
        path.join(home, 'config.yaml'),
        stringify({ s3: { endpoint, region: 'us-east-1', force_path_style: true, access_key_id: 'S3RVER', secret_access_key: 'S3RVER' } }),
      ),
  });
  await s.runtime.policies.apply([
    validatePolicy({ name: 'lake-readers', subjects: { groups: ['data_science', 'stewards'] }, resources: [{ database: 'lake' }], masks: [{ tags: ['pii.email'], transform: 'email_domain' }] }),
  ]);
});
after(async () => {
  await s.close();
  s3.destroy();
  await s3server.close();
  rmSync(objects, { recursive: true, force: true });
});

async function put(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: key, Body: body }));
}

test('an S3 prefix and an S3 object register with inferred schemas and read under policies', async () => {
  const orders = await s.post('erin', '/v1/datasets', { name: 'lake.orders', location: 's3://lake/sales/orders/', format: 'csv', column_tags: { customer_email: ['pii.email'] } });
  assert.equal(orders.status, 201, await orders.clone().text());
  const countries = await s.post('erin', '/v1/datasets', { name: 'lake.countries', location: 's3://lake/ref/countries.csv' });
  assert.equal(countries.status, 201, await countries.clone().text());
  assert.deepEqual(await s.rows('erin', 'SELECT count(*), sum(amount) FROM lake.orders'), [[3, 37.75]]);
  assert.deepEqual(await s.rows('alice', 'SELECT customer_email FROM lake.orders ORDER BY order_id LIMIT 1'), [['XXXXX@example.com']]);
  assert.deepEqual(await s.rows('alice', 'SELECT name FROM lake.countries ORDER BY code'), [['Germany'], ['United States']]);
});

test('changed, added and removed objects are seen by the very next query (ETag-validated copy)', async () => {
  await put('ref/countries.csv', 'code,name\nDE,Deutschland\nFR,France\nUS,United States\n');
  assert.deepEqual(await s.rows('alice', 'SELECT name FROM lake.countries ORDER BY code'), [['Deutschland'], ['France'], ['United States']]);
  await put('sales/orders/part-3.csv', 'order_id,amount,customer_email\n4,1,d@example.com\n');
  assert.deepEqual(await s.rows('erin', 'SELECT count(*) FROM lake.orders'), [[4]]);
  await s3.send(new DeleteObjectCommand({ Bucket: 'lake', Key: 'sales/orders/part-1.csv' }));
  assert.deepEqual(await s.rows('erin', 'SELECT count(*) FROM lake.orders'), [[2]]);
});

test('crawling an S3 prefix registers its datasets with s3:// locations; a re-crawl reports changes', async () => {
  await s.runtime.policies.apply([validatePolicy({ name: 'crawl-readers', subjects: { groups: ['stewards'] }, resources: [{ database: 'crawled' }] })]);
  const first = await s.post('erin', '/v1/catalog/crawl', { prefix: 's3://lake/', database: 'crawled' });
  const report = (await first.json()) as { registered: { dataset: string; location: string }[]; errors: unknown[] };
  assert.equal(first.status, 200, JSON.stringify(report));
  // sales/orders is already registered (as lake.orders): found, not registered twice.
  assert.deepEqual(report.registered.map((r) => [r.dataset, r.location]), [['crawled.ref', 's3://lake/ref']]);
  assert.deepEqual(await s.rows('erin', 'SELECT count(*) FROM crawled.ref'), [[3]]);
  await put('sales/orders/part-4.csv', 'order_id,amount,customer_email\n5,2,e@example.com\n');
  const again = (await (await s.post('erin', '/v1/catalog/crawl', { prefix: 's3://lake/', database: 'crawled' })).json()) as { changed: { dataset: string; files_added: number }[] };
  assert.deepEqual(again.changed.find((c) => c.dataset === 'lake.orders')?.files_added, 1);
  assert.deepEqual(await s.rows('erin', 'SELECT count(*) FROM lake.orders'), [[3]]);
});

test('bad S3 locations are clear errors', async () => {
  const missing = await s.post('erin', '/v1/datasets', { name: 'lake.nothing', location: 's3://lake/nothing/here/', format: 'csv' });
  assert.equal(missing.status, 400);
  assert.match(((await missing.json()) as { error: { message: string } }).error.message, /no objects at s3:\/\/lake\/nothing\/here\//);
  const traversal = await s.post('erin', '/v1/datasets', { name: 'lake.escape', location: 's3://lake/../../etc/passwd', format: 'csv' });
  assert.equal(traversal.status, 400);
  const bucket = await s.post('erin', '/v1/datasets', { name: 'lake.nobucket', location: 's3://no-such-bucket/x.csv' });
  assert.ok([400, 500].includes(bucket.status));
  assert.doesNotMatch(await bucket.text(), /S3RVER/, 'credentials never appear in errors');
});
