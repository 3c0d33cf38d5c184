import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setupDemo } from '../src/demo/demo-setup.ts';
import { createGateway } from '../src/gateway/index.ts';
import { principalOf } from '../src/identity/index.ts';
import { validatePolicy } from '../src/policy/index.ts';
import { openRuntime, type VeilRuntime } from '../src/runtime/index.ts';
import { startTrinoListener, type TrinoListener } from '../src/trino/index.ts';
import { readAuditStore } from './support/audit-trail.ts';

/**
 * The Trino door against the OPA plugin's documented request and response shapes
 * (plugin/trino-opa: OpaQueryInput, OpaQueryResult, OpaBatchQueryResult, OpaRowFiltersQueryResult,
 * OpaBatchColumnMaskQueryResult), on a real Veil over the demo.
 */
let home: string;
let runtime: VeilRuntime;
let listener: TrinoListener;
let base: string;
const DEMO_USERS = ['alice', 'bob', 'carol', 'dave', 'erin'];
const TRIAL = { catalogName: 'veil', schemaName: 'drug_xyz', tableName: 'trial_july2020' };

before(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'veil-trino-'));
  runtime = await openRuntime(home);
  await setupDemo(runtime, 2000);
  listener = await startTrinoListener(createGateway(runtime), { port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${listener.address.port}/v1/data/veil`;
});
after(async () => {
  await listener.close();
  await runtime.close();
  rmSync(home, { recursive: true, force: true });
});

interface Answer {
  status: number;
  contentType: string | null;
  body: { result?: unknown; error?: string };
}

/** A request as the plugin sends it: POST, JSON, {"input": {context, action}}. */
async function ask(endpoint: string, user: string, action: Record<string, unknown>, groups: string[] = []): Promise<Answer> {
  const input = {
    context: { identity: { user, groups }, softwareStack: { trinoVersion: '476' }, properties: {}, queryId: '20261130_101112_00001_abcde' },
    action,
  };
  const response = await fetch(`${base}/${endpoint}`, { method: 'POST', headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify({ input }) });
  return { status: response.status, contentType: response.headers.get('content-type'), body: (await response.json()) as Answer['body'] };
}

async function allow(user: string, action: Record<string, unknown>): Promise<unknown> {
  const answer = await ask('allow', user, action);
  assert.equal(answer.status, 200);
  assert.equal(answer.contentType, 'application/json');
  return answer.body.result;
}

const trialColumns = async (): Promise<string[]> => (await runtime.catalog.datasets.get('drug_xyz.trial_july2020')).columns.map((c) => c.name);

test('allow decisions: a known user may run queries and reach the veil catalog only; unknown users and other catalogs are denied', async () => {
  assert.equal(await allow('bob', { operation: 'ExecuteQuery' }), true);
  assert.equal(await allow('mallory', { operation: 'ExecuteQuery' }), false);
  assert.equal(await allow('bob', { operation: 'AccessCatalog', resource: { catalog: { name: 'veil' } } }), true);
  assert.equal(await allow('bob', { operation: 'AccessCatalog', resource: { catalog: { name: 'hive' } } }), false);
  assert.equal(await allow('bob', { operation: 'CreateTable', resource: { table: { ...TRIAL, tableName: 'x', properties: {} } } }), false);
  assert.equal(await allow('bob', { operation: 'InsertIntoTable', resource: { table: TRIAL } }), false);
  assert.equal(await allow('bob', { operation: 'ImpersonateUser', resource: { user: { user: 'erin' } } }), false);
  assert.equal(await allow('bob', { operation: 'SetSystemSessionProperty', resource: { systemSessionProperty: { name: 'x' } } }), false);
  assert.equal(await allow('bob', { operation: 'ViewQueryOwnedBy', resource: { user: { user: 'bob', groups: [] } } }), true);
  assert.equal(await allow('bob', { operation: 'KillQueryOwnedBy', resource: { user: { user: 'erin', groups: [] } } }), false);
  assert.equal(await allow('bob', { operation: 'SomethingNew' }), false);
  // SELECT count(*) asks with no columns: carol may only describe the trial, dave has no policy.
  assert.equal(await allow('carol', { operation: 'SelectFromColumns', resource: { table: { ...TRIAL, columns: [] } } }), false);
  assert.equal(await allow('dave', { operation: 'SelectFromColumns', resource: { table: { ...TRIAL, columns: [] } } }), false);
  assert.equal(await allow('bob', { operation: 'SelectFromColumns', resource: { table: { ...TRIAL, columns: [] } } }), true);
});

test('Trino groups are not trusted by default: a stranger claiming the stewards group is still denied', async () => {
  const answer = await ask('allow', 'mallory', { operation: 'SelectFromColumns', resource: { table: { ...TRIAL, columns: ['ssn'] } } }, ['stewards']);
  assert.equal(answer.body.result, false);
});

test('batched filters answer the allowed indices; FilterColumns indexes the one table\'s columns', async () => {
  const catalogs = await ask('batch', 'bob', { operation: 'FilterCatalogs', filterResources: [{ catalog: { name: 'system' } }, { catalog: { name: 'veil' } }, { catalog: { name: 'hive' } }] });
  assert.deepEqual(catalogs.body, { result: [1] });
  const schemas = await ask('batch', 'bob', {
    operation: 'FilterSchemas',
    filterResources: [{ schema: { catalogName: 'veil', schemaName: 'nope' } }, { schema: { catalogName: 'veil', schemaName: 'drug_xyz' } }, { schema: { catalogName: 'veil', schemaName: 'information_schema' } }],
  });
  assert.deepEqual(schemas.body, { result: [1, 2] });
  const tables = await ask('batch', 'dave', { operation: 'FilterTables', filterResources: [{ table: TRIAL }] });
  assert.deepEqual(tables.body, { result: [] }, 'dave has no policy: the table does not exist for him');
  const columns = await trialColumns();
  const bob = await ask('batch', 'bob', { operation: 'FilterColumns', filterResources: [{ table: { ...TRIAL, columns } }] });
  const visible = (await runtime.access.effective(principalOf(await runtime.users.get('bob')), 'drug_xyz.trial_july2020')).columns.filter((c) => c.access !== 'hidden').map((c) => c.column.name);
  assert.deepEqual((bob.body.result as number[]).map((i) => columns[i]), visible);
  assert.ok(!visible.includes('ssn') && visible.includes('outcome_score'));
  const empty = await ask('batch', 'bob', { operation: 'FilterTables', filterResources: [] });
  assert.deepEqual(empty.body, { result: [] });
});

test('row filters are written in Trino\'s dialect with the user\'s attributes as constants', async () => {
  const alice = await ask('row_filters', 'alice', { operation: 'GetRowFilters', resource: { table: TRIAL } });
  assert.deepEqual(alice.body, { result: [{ expression: `("country" = 'US')` }] });
  const bob = await ask('row_filters', 'bob', { operation: 'GetRowFilters', resource: { table: TRIAL } });
  assert.deepEqual(bob.body, { result: [] });
  // Never "no filter" for someone who may not read the table: a filter that keeps nothing.
  for (const user of ['dave', 'carol', 'mallory']) {
    const answer = await ask('row_filters', user, { operation: 'GetRowFilters', resource: { table: TRIAL } });
    assert.deepEqual(answer.body, { result: [{ expression: 'FALSE' }] }, user);
  }
});

test('column masks in Trino\'s dialect, by index; a mask without a Trino form fails the query instead of showing the column', async () => {
  const column = (columnName: string, columnType: string) => ({ column: { ...TRIAL, columnName, columnType } });
  const bob = await ask('column_masks', 'bob', {
    operation: 'GetColumnMask',
    filterResources: [column('arm', 'varchar'), column('zip', 'varchar'), column('outcome_score', 'double'), column('date_of_birth', 'date')],
  });
  assert.equal(bob.status, 200);
  const year = runtime.access.now().getUTCFullYear();
  assert.deepEqual(bob.body, {
    result: [
      {
        index: 1,
        viewExpression: {
          expression: `CASE WHEN "zip" IS NULL THEN NULL WHEN NOT regexp_like(lpad("zip", 5, '0'), '^[0-9]{5}([- ]?[0-9]{4})?$') THEN NULL WHEN contains(ARRAY[${runtime.settings.zip3RestrictedPrefixes.map((p) => `'${p}'`).join(', ')}], substr(lpad("zip", 5, '0'), 1, 3)) THEN '000' ELSE substr(lpad("zip", 5, '0'), 1, 3) END`,
        },
      },
      { index: 2, viewExpression: { expression: `CASE WHEN coalesce(("consent_research" = FALSE), TRUE) THEN CAST(NULL AS double) ELSE "outcome_score" END` } },
      {
        index: 3,
        viewExpression: {
          expression: `CASE WHEN "date_of_birth" IS NULL THEN NULL WHEN ${year} - year("date_of_birth") > 89 THEN CAST(DATE '${year - 90}-01-01' AS date) ELSE CAST(date_trunc('year', CAST("date_of_birth" AS date)) AS date) END`,
        },
      },
    ],
  });
  // alice's participant_id is tokenized with the masking key, which a Trino plan would show.
  const alice = await ask('column_masks', 'alice', { operation: 'GetColumnMask', filterResources: [column('participant_id', 'varchar')] });
  assert.equal(alice.status, 500);
  assert.equal(alice.body.result, undefined);
  // Trino before 453: one column per request, {"result": {"expression"}} or {} for no mask.
  const single = await ask('column_mask', 'bob', { operation: 'GetColumnMask', resource: column('outcome_score', 'double') });
  assert.deepEqual(single.body, { result: (bob.body.result as { viewExpression: unknown }[])[1]!.viewExpression });
  assert.deepEqual((await ask('column_mask', 'bob', { operation: 'GetColumnMask', resource: column('arm', 'varchar') })).body, {});
  assert.equal((await ask('column_mask', 'alice', { operation: 'GetColumnMask', resource: column('participant_id', 'varchar') })).status, 500);
  assert.equal((await ask('column_mask', 'bob', { operation: 'GetColumnMask' })).status, 500);
  const hidden = await ask('column_masks', 'bob', { operation: 'GetColumnMask', filterResources: [column('ssn', 'varchar')] });
  assert.equal(hidden.status, 500, 'a hidden column is never answered as unmasked');
});

test('every demo user\'s Trino answers agree with Veil\'s own explain of the trial', async () => {
  const columns = await trialColumns();
  for (const user of DEMO_USERS) {
    const principal = principalOf(await runtime.users.get(user));
    // What Veil's own doors say (POST /v1/explain): undefined when the user may not read the trial.
    const explained = await runtime.queries.explain(principal, 'SELECT * FROM drug_xyz.trial_july2020').then(
      (e) => e.datasets.find((d) => d.dataset === 'drug_xyz.trial_july2020'),
      () => undefined,
    );
    const shown = (explained?.columns ?? []).filter((c) => c.access !== 'hidden');
    const masked = shown.filter((c) => c.access === 'masked');
    const keyed = masked.some((c) => /^(tokenize|hmac)\b/.test(c.transform ?? ''));
    const selectable = shown.length > 0 && !keyed;
    assert.equal(await allow(user, { operation: 'SelectFromColumns', resource: { table: { ...TRIAL, columns: shown.map((c) => c.name) } } }), selectable, user);
    const filtered = await ask('batch', user, { operation: 'FilterColumns', filterResources: [{ table: { ...TRIAL, columns } }] });
    assert.deepEqual(((filtered.body.result as number[]) ?? []).map((i) => columns[i]), selectable ? shown.map((c) => c.name) : [], user);
    const filters = await ask('row_filters', user, { operation: 'GetRowFilters', resource: { table: TRIAL } });
    if (explained === undefined) assert.deepEqual(filters.body, { result: [{ expression: 'FALSE' }] }, user);
    else assert.equal((filters.body.result as unknown[]).length, explained.row_filters.length, user);
    if (!selectable) continue;
    const masks = await ask('column_masks', user, {
      operation: 'GetColumnMask',
      filterResources: shown.map((c) => ({ column: { ...TRIAL, columnName: c.name, columnType: c.type === 'DOUBLE' ? 'double' : c.type.toLowerCase() } })),
    });
    assert.equal(masks.status, 200, user);
    assert.deepEqual((masks.body.result as { index: number }[]).map((m) => shown[m.index]!.name), masked.map((c) => c.name), user);
  }
});

test('fail closed: a row filter without a Trino form denies the table and filters every row', async () => {
  await runtime.policies.apply([
    validatePolicy({
      name: 'trino-untranslatable-filter',
      description: 'A row filter Trino cannot evaluate the same way (a regular expression).',
      effect: 'restrict',
      subjects: { users: ['bob'] },
      resources: [{ dataset: 'drug_xyz.trial_july2020' }],
      row_filter: "regexp_matches(country, '^U')",
    }),
  ]);
  try {
    assert.equal(await allow('bob', { operation: 'SelectFromColumns', resource: { table: { ...TRIAL, columns: ['arm'] } } }), false);
    const filters = await ask('row_filters', 'bob', { operation: 'GetRowFilters', resource: { table: TRIAL } });
    assert.deepEqual(filters.body, { result: [{ expression: 'FALSE' }] });
  } finally {
    await runtime.policies.delete('trino-untranslatable-filter');
  }
  assert.equal(await allow('bob', { operation: 'SelectFromColumns', resource: { table: { ...TRIAL, columns: ['arm'] } } }), true);
});

test('malformed requests and unknown paths are errors, never decisions', async () => {
  const bad = await fetch(`${base}/allow`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"input":{"context":{},"action":{}}}' });
  assert.equal(bad.status, 400);
  const notJson = await fetch(`${base}/allow`, { method: 'POST', body: 'true' });
  assert.equal(notJson.status, 400);
  const unknown = await fetch(`${base}/deny`, { method: 'POST', body: '{}' });
  assert.equal(unknown.status, 404);
});

test('every answer is audited with door trino, Trino\'s query id, and denials as denials', async () => {
  await ask('allow', 'dave', { operation: 'SelectFromColumns', resource: { table: { ...TRIAL, columns: ['arm'] } } });
  const rows = await readAuditStore(home, (audit) => audit.all<{ user: string; statement: string | null; decision: string; datasets: string }>(`SELECT "user", statement, decision, datasets FROM audit_log WHERE door = 'trino' ORDER BY seq`));
  const records = rows.map((r) => ({ ...r, datasets: JSON.parse(r.datasets) as string[] }));
  assert.ok(records.length > 10);
  const dave = records.filter((r) => r.user === 'dave' && r.statement?.startsWith('SelectFromColumns'));
  assert.ok(dave.length > 0);
  assert.equal(dave.at(-1)!.decision, 'denied');
  assert.match(dave.at(-1)!.statement ?? '', /\[trino query 20261130_101112_00001_abcde\]/);
  assert.deepEqual(dave.at(-1)!.datasets, ['drug_xyz.trial_july2020']);
  assert.ok(records.some((r) => r.user === 'bob' && r.decision === 'allowed'));
});

test('veil serve --trino-port starts the listener beside the other doors, on loopback', async () => {
  const free = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const root = path.resolve(import.meta.dirname, '..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'serve', '--home', home, '--port', '0', '--pg-port', '0', '--trino-port', String(free)], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000);
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(`Trino OPA access control on http://127.0.0.1:${free}/v1/data/veil/allow`)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
    });
    const response = await fetch(`http://127.0.0.1:${free}/v1/data/veil/allow`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ input: { context: { identity: { user: 'bob', groups: [] }, softwareStack: { trinoVersion: '476' } }, action: { operation: 'SelectFromColumns', resource: { table: { ...TRIAL, columns: ['arm'] } } } } }),
    });
    assert.deepEqual(await response.json(), { result: true });
  } finally {
    child.kill('SIGTERM');
  }
});

test('with trino_trust_groups, the groups Trino sends count: a user Veil does not store is judged by them alone', async () => {
  const { TrinoOperations } = await import('../src/gateway/index.ts');
  const gateway = createGateway(runtime);
  const trusting = new TrinoOperations(runtime, { catalog: 'veil', trustGroups: true });
  const question = (user: string, groups: string[]) => ({
    user,
    groups,
    trinoVersion: '476',
    queryId: null,
    operation: 'SelectFromColumns',
    resource: { table: { ...TRIAL, columns: ['ssn'] } },
  });
  const ask = async (ops: InstanceType<typeof TrinoOperations>, user: string, groups: string[]): Promise<boolean> => {
    const scope = gateway.open({ door: 'trino', clientApplication: 'test', clientAddress: null });
    try {
      return await ops.allow(scope, question(user, groups));
    } finally {
      await gateway.finish(scope);
    }
  };
  assert.equal(await ask(trusting, 'trino-service-user', ['stewards']), true, 'stewards read the trial unmasked');
  assert.equal(await ask(trusting, 'trino-service-user', ['research']), false, 'research never sees ssn');
  assert.equal(await ask(gateway.trino, 'trino-service-user', ['stewards']), false, 'not trusted by default');
});

test('mutual TLS: the listener answers Trino holding a certificate of the configured CA, and refuses everyone else at the handshake', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'veil-trino-tls-'));
  try {
    const file = (name: string): string => path.join(dir, name);
    const openssl = (args: string[]): void => {
      const made = spawnSync('openssl', args, { encoding: 'utf8', timeout: 60_000 });
      assert.equal(made.status, 0, `openssl ${args[0]}: ${made.stderr}`);
    };
    const signed = (name: string, cn: string, ca: string): void => {
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`)]);
      writeFileSync(file(`${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      openssl(['x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.pem`), '-CAkey', file(`${ca}.key`), '-CAcreateserial', '-days', '1', '-extfile', file(`${name}.ext`), '-out', file(`${name}.pem`)]);
    };
    for (const ca of ['ca', 'other-ca']) openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${ca}`, '-days', '1', '-keyout', file(`${ca}.key`), '-out', file(`${ca}.pem`)]);
    signed('server', 'localhost', 'ca');
    signed('trino', 'trino', 'ca');
    signed('intruder', 'trino', 'other-ca');
    const secured = await startTrinoListener(createGateway(runtime), { port: 0, host: '127.0.0.1', tls: { cert: file('server.pem'), key: file('server.key'), clientCa: file('ca.pem') } });
    try {
      const post = (client?: string): Promise<{ status: number; body: string } | Error> =>
        new Promise((resolve) => {
          const body = JSON.stringify({ input: { context: { identity: { user: 'bob', groups: [] } }, action: { operation: 'ExecuteQuery' } } });
          const req = httpsRequest(
            {
              host: '127.0.0.1',
              port: secured.address.port,
              path: '/v1/data/veil/allow',
              method: 'POST',
              ca: readFileSync(file('ca.pem')),
              ...(client === undefined ? {} : { cert: readFileSync(file(`${client}.pem`)), key: readFileSync(file(`${client}.key`)) }),
              headers: { 'Content-Type': 'application/json' },
            },
            (res) => {
              let text = '';
              res.on('data', (chunk: Buffer) => (text += chunk.toString()));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
            },
          );
          req.on('error', (error) => resolve(error));
          req.end(body);
        });
      assert.deepEqual(await post('trino'), { status: 200, body: '{"result":true}' });
      assert.ok((await post()) instanceof Error, 'no client certificate');
      assert.ok((await post('intruder')) instanceof Error, 'a certificate of another CA');
    } finally {
      await secured.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
