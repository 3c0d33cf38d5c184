import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { validatePolicy } from '../src/policy/index.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

/** Registration proposes pii/phi tags; stewards accept or reject; accepted tags drive policies at once. */
const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
let s: TestServer;
interface Proposal { column: string; tag: string; confidence: number; evidence: string; status: string }

before(async () => {
  s = await startTestServer({ rows: 100 });
  mkdirSync(path.join(s.home, 'storage', 'crm'), { recursive: true });
  const lines = ['customer_no,contact,phone,card,last_ip,order_ref,notes'];
  for (let i = 0; i < 60; i++) {
    lines.push(`${1000 + i},user${i}@shop.example,+1 415 555 ${String(1000 + i).slice(-4)},4111111111111111,10.0.${i}.7,ORD-${String(i).padStart(6, '0')},delivered on time`);
  }
  writeFileSync(path.join(s.home, 'storage', 'crm', 'customers.csv'), `${lines.join('\n')}\n`);
  await s.runtime.policies.apply([
    validatePolicy({ name: 'crm-data-science', subjects: { groups: ['data_science'] }, resources: [{ database: 'crm' }], masks: [{ tags: ['pii.email'], transform: 'email_domain' }] }),
  ]);
});
after(async () => {
  await s.close();
});

test('registration returns proposals; nothing is tagged until a steward accepts', async () => {
  const response = await s.post('erin', '/v1/datasets', { name: 'crm.customers', location: 'crm/customers.csv' });
  assert.equal(response.status, 201);
  const body = (await response.json()) as { classification: { proposals: Proposal[] }; columns: { name: string; tags: string[] }[] };
  const proposed = Object.fromEntries(body.classification.proposals.filter((p) => p.confidence >= 0.5).map((p) => [p.column, p.tag]));
  assert.deepEqual(proposed, { contact: 'pii.email', phone: 'pii.phone', card: 'pii.credit_card', last_ip: 'pii.ip_address' });
  assert.ok(body.classification.proposals.every((p) => p.status === 'proposed'));
  for (const p of body.classification.proposals) assert.ok(!/user\d+@|4111|10\.0\./.test(p.evidence), 'evidence never quotes values');
  assert.ok(body.columns.every((c) => c.tags.length === 0));
  const before = await s.rows('alice', 'SELECT contact FROM crm.customers LIMIT 1');
  assert.match(String(before[0]?.[0]), /^user\d+@shop\.example$/);
});

test('accepting tags the column and the policy applies at once; rejecting is remembered', async () => {
  const response = await s.post('erin', '/v1/datasets/crm.customers/classification', {
    accept: [{ column: 'contact', tag: 'pii.email' }, { column: 'card', tag: 'pii.credit_card' }],
    reject: [{ column: 'last_ip', tag: 'pii.ip_address' }],
  });
  assert.equal(response.status, 200);
  const status = Object.fromEntries(((await response.json()) as { proposals: Proposal[] }).proposals.map((p) => [`${p.column}=${p.tag}`, p.status]));
  assert.equal(status['contact=pii.email'], 'accepted');
  assert.equal(status['last_ip=pii.ip_address'], 'rejected');
  assert.equal(status['phone=pii.phone'], 'proposed');
  const masked = await s.rows('alice', 'SELECT contact FROM crm.customers LIMIT 1');
  assert.equal(masked[0]?.[0], 'XXXXX@shop.example');
  assert.equal((await s.get('alice', '/v1/datasets/crm.customers/classification')).status, 403);
  assert.equal((await s.post('erin', '/v1/datasets/crm.customers/classification', { accept: [{ column: 'nope', tag: 'pii.email' }] })).status, 400);
});

test('the CLI prints proposals as JSON and records decisions', async () => {
  const veil = (...args: string[]) => run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args, '--home', s.home], { cwd: ROOT });
  const proposals = JSON.parse((await veil('catalog', 'classify', 'crm.customers', '--json')).stdout) as Proposal[];
  assert.ok(proposals.some((p) => p.column === 'phone' && p.tag === 'pii.phone' && p.confidence >= 0.5));
  for (const p of proposals) assert.ok(p.confidence >= 0 && p.confidence <= 1 && typeof p.evidence === 'string');
  const after = JSON.parse((await veil('catalog', 'classify', 'crm.customers', '--json', '--accept', 'phone=pii.phone', '--by', 'erin')).stdout) as Proposal[];
  assert.equal(after.find((p) => p.column === 'phone')?.status, 'accepted');
});
