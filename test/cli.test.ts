import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
let home: string;

/** The CLI as users run it: a separate process on a real home. */
async function veil(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args, '--home', home], { cwd: root });
}

before(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'veil-cli-'));
  await veil('demo', '--rows', '300');
});
after(() => rmSync(home, { recursive: true, force: true }));

test('token issue prints only a signed JWT', async () => {
  const { stdout } = await veil('token', 'issue', '--user', 'alice', '--ttl', '60');
  assert.match(stdout, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
  const claims = JSON.parse(Buffer.from(stdout.split('.')[1]!, 'base64url').toString()) as { sub: string; exp: number; iat: number };
  assert.equal(claims.sub, 'alice');
  assert.equal(claims.exp - claims.iat, 60);
});

test('token issue for an unknown user fails clearly', async () => {
  await assert.rejects(veil('token', 'issue', '--user', 'mallory'), (error: { stderr: string; code: number }) => {
    assert.match(error.stderr, /user mallory does not exist/);
    assert.equal(error.code, 1);
    return true;
  });
});

test('token create / list / revoke manage API tokens without showing secrets twice', async () => {
  const created = await veil('token', 'create', '--user', 'bob', '--label', 'cron job', '--expires-days', '7');
  assert.match(created.stdout, /^veil_pat_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/);
  assert.match(created.stderr, /cannot be shown again/);
  const id = created.stdout.slice('veil_pat_'.length, 'veil_pat_'.length + 16);
  const listed = await veil('token', 'list', '--user', 'bob');
  const tokens = JSON.parse(listed.stdout) as { id: string; label: string; revoked_at: string | null; expires_at: string | null }[];
  assert.deepEqual(tokens.map((t) => [t.id, t.label, t.revoked_at]), [[id, 'cron job', null]]);
  assert.ok(tokens[0]!.expires_at !== null);
  assert.ok(!listed.stdout.includes(created.stdout.trim().slice(-43)));
  const revoked = JSON.parse((await veil('token', 'revoke', id)).stdout) as { revoked_at: string | null };
  assert.notEqual(revoked.revoked_at, null);
  await assert.rejects(veil('token', 'create', '--user', 'bob', '--label', 'x', '--expires-days', 'soon'), /expires_in_days/);
});

test('token inspect shows who a token makes its holder, or why it is refused', async () => {
  const token = (await veil('token', 'issue', '--user', 'alice')).stdout.trim();
  const inspected = JSON.parse((await veil('token', 'inspect', token)).stdout) as Record<string, unknown>;
  assert.deepEqual(inspected, { user: 'alice', groups: ['data_science'], attributes: { region: ['US'] }, authenticated_by: { method: 'local', via: null } });
  await assert.rejects(veil('token', 'inspect', `${token.slice(0, -2)}xx`), (error: { stderr: string }) => {
    assert.match(error.stderr, /INVALID_TOKEN/);
    assert.ok(!error.stderr.includes(token.slice(-20)), 'the token is not echoed');
    return true;
  });
});

test('catalog search answers for a user, as the API does', async () => {
  const found = JSON.parse((await veil('catalog', 'search', 'adverse', '--user', 'alice')).stdout) as { results: { name: string }[] };
  assert.equal(found.results[0]?.name, 'drug_xyz.adverse_events');
  const none = JSON.parse((await veil('catalog', 'search', 'trial', '--user', 'dave')).stdout) as { results: unknown[] };
  assert.deepEqual(none.results, []);
  await assert.rejects(veil('catalog', 'search', 'trial'), /--user is required/);
});

test('dataset update documents and certifies a dataset', async () => {
  const updated = JSON.parse(
    (await veil('dataset', 'update', 'drug_xyz.adverse_events', '--steward', 'erin', '--certify', 'draft', '--by', 'erin', '--note', 'first pass', '--column-description', 'severity=CTCAE grade, as text')).stdout,
  ) as { steward: string; certification: { status: string; by: string; note: string }; columns: { name: string; description?: string }[] };
  assert.equal(updated.steward, 'erin');
  assert.deepEqual([updated.certification.status, updated.certification.by, updated.certification.note], ['draft', 'erin', 'first pass']);
  assert.equal(updated.columns.find((c) => c.name === 'severity')?.description, 'CTCAE grade, as text');
  await assert.rejects(veil('dataset', 'update', 'drug_xyz.adverse_events', '--certify', 'validated'), /--certify needs --by/);
});

test('policy export round-trips through apply', async () => {
  const { stdout: exported } = await veil('policy', 'export');
  const file = path.join(home, 'exported.yaml');
  writeFileSync(file, exported);
  const { stdout } = await veil('policy', 'apply', '-f', file);
  assert.match(stdout, /^unchanged: /m);
  assert.doesNotMatch(stdout, /updated|created/);
});

test('policy apply rejects an invalid file and changes nothing', async () => {
  const file = path.join(home, 'bad.yaml');
  writeFileSync(file, 'policies:\n  - name: ok\n    subjects: {everyone: true}\n    resources: [{database: x}]\n  - name: bad\n    subjects: {everyone: true}\n    resources: [{database: x}]\n    row_fliter: "true"\n');
  await assert.rejects(veil('policy', 'apply', '-f', file), /unknown key "row_fliter"/);
  const { stdout } = await veil('policy', 'list');
  assert.doesNotMatch(stdout, /^ok\t/m);
});

test('explain and query run as a user through the same pipeline', async () => {
  const { stdout } = await veil('explain', '--user', 'bob', 'SELECT * FROM drug_xyz.trial_july2020');
  const explanation = JSON.parse(stdout) as { datasets: { columns: { name: string; access: string }[]; policies: string[] }[] };
  assert.equal(explanation.datasets[0]?.columns.find((c) => c.name === 'ssn')?.access, 'hidden');
  assert.deepEqual(explanation.datasets[0]?.policies, ['research-read']);
  const query = await veil('query', '--user', 'alice', 'SELECT DISTINCT country FROM drug_xyz.trial_july2020');
  assert.equal(query.stdout, '["country"]\n["US"]\n');
});

test('dataset register, tag, describe and drop', async () => {
  const dir = path.join(home, 'storage', 'extra');
  await run('mkdir', ['-p', path.join(dir, 'region=EU'), path.join(dir, 'region=US')]);
  writeFileSync(path.join(dir, 'region=EU', 'a.csv'), 'id,email\n1,a@x.org\n');
  writeFileSync(path.join(dir, 'region=US', 'b.csv'), 'id,email\n2,b@y.org\n');
  const { stdout } = await veil('dataset', 'register', 'extra.contacts', '--location', 'extra', '--format', 'csv', '--column-tag', 'email=pii.email', '--description', 'Contacts');
  const dataset = JSON.parse(stdout) as { columns: { name: string; tags: string[]; partition?: boolean }[] };
  assert.deepEqual(dataset.columns.map((c) => c.name).sort(), ['email', 'id', 'region']);
  assert.equal(dataset.columns.find((c) => c.name === 'region')?.partition, true);
  await veil('dataset', 'tag', 'extra.contacts', '--add', 'crm', '--column', 'id=pii.id');
  const described = JSON.parse((await veil('dataset', 'describe', 'extra.contacts')).stdout) as { tags: string[]; columns: { name: string; tags: string[] }[] };
  assert.deepEqual(described.tags, ['crm']);
  assert.deepEqual(described.columns.find((c) => c.name === 'id')?.tags, ['pii.id']);
  await veil('dataset', 'drop', 'extra.contacts');
  const { stdout: listed } = await veil('dataset', 'list');
  assert.doesNotMatch(listed, /extra\.contacts/);
});

test('registration outside the storage root is refused', async () => {
  await assert.rejects(veil('dataset', 'register', 'x.passwd', '--location', '/etc/passwd', '--format', 'csv'), /outside the storage roots/);
});

test('a location that climbs out of the storage root through a glob is refused', async () => {
  await assert.rejects(veil('dataset', 'register', 'x.escape', '--location', 'clinical-trials/*/../../../../etc/passwd', '--format', 'csv'), /must not contain "\.\."/);
});
