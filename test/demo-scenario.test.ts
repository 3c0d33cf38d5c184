import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from './support/test-server.ts';

/**
 * The demo scenario of issue 2, end to end over HTTP: what each demo user sees of the clinical
 * trial, checked value by value against the raw files.
 */
type Row = Record<string, string>;

function readCsv(file: string): Row[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const names = (header ?? '').split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i] ?? '', v])));
}

const RESTRICTED = ['036', '059', '063', '102', '203', '205', '369', '556', '692', '790', '821', '823', '830', '831', '878', '879', '884', '890', '893'];
const REFERENCE_YEAR = new Date().getUTCFullYear();

let s: TestServer;
let trial: Row[];
let events: Row[];

before(async () => {
  s = await startTestServer({ rows: 3000 });
  const dir = path.join(s.home, 'storage', 'clinical-trials', 'drug-xyz');
  trial = readCsv(path.join(dir, 'trial-july2020', 'data.csv'));
  events = readCsv(path.join(dir, 'adverse-events', 'data.csv'));
});
after(async () => {
  await s.close();
});

const TRIAL = 'drug_xyz.trial_july2020';

describe('alice (data_science, region=US)', () => {
  test('sees only rows of her region, with every direct identifier masked', async () => {
    const { body } = await s.query('alice', `SELECT * FROM ${TRIAL}`);
    const us = trial.filter((r) => r['country'] === 'US');
    assert.ok(us.length > 0 && us.length < trial.length);
    assert.equal(body.rows?.length, us.length);
    const names = body.columns?.map((c) => c.name) ?? [];
    const at = (row: unknown[], name: string): unknown => row[names.indexOf(name)];
    body.rows?.forEach((row, i) => {
      const raw = us[i]!;
      assert.equal(at(row, 'country'), 'US');
      assert.match(String(at(row, 'participant_id')), /^tok_[0-9a-f]{24}$/);
      assert.equal(at(row, 'full_name'), null);
      assert.equal(at(row, 'ssn'), `XXX-XX-${raw['ssn']!.slice(-4)}`);
      assert.equal(at(row, 'email'), `XXXXX@${raw['email']!.split('@')[1]}`);
      const birthYear = Number(raw['date_of_birth']!.slice(0, 4));
      const shownYear = REFERENCE_YEAR - birthYear > 89 ? REFERENCE_YEAR - 90 : birthYear;
      assert.equal(at(row, 'date_of_birth'), `${shownYear}-01-01`);
      const prefix = raw['zip']!.slice(0, 3);
      assert.equal(at(row, 'zip'), RESTRICTED.includes(prefix) ? '000' : prefix);
      assert.equal(at(row, 'dose_mg'), Number(raw['dose_mg']));
    });
  });

  test('the data contains the cases the masks exist for (restricted zips, ages over 89)', async () => {
    const rows = await s.rows('alice', `SELECT count(*) FILTER (WHERE zip = '000'), count(*) FILTER (WHERE date_of_birth = make_date(${REFERENCE_YEAR - 90}, 1, 1)) FROM ${TRIAL}`);
    assert.ok(Number(rows[0]?.[0]) > 0, 'some restricted zip prefixes');
    assert.ok(Number(rows[0]?.[1]) > 0, 'some clamped birth years');
  });

  test('her join of the two datasets on tokenized ids matches exactly the raw join for her rows', async () => {
    const usIds = new Set(trial.filter((r) => r['country'] === 'US').map((r) => r['participant_id']));
    const expected = events.filter((e) => usIds.has(e['participant_id'])).length;
    const rows = await s.rows('alice', `SELECT count(*), count(DISTINCT t.participant_id) FROM ${TRIAL} t JOIN drug_xyz.adverse_events a ON a.participant_id = t.participant_id`);
    assert.equal(Number(rows[0]?.[0]), expected);
    const expectedParticipants = new Set(events.filter((e) => usIds.has(e['participant_id'])).map((e) => e['participant_id'])).size;
    assert.equal(Number(rows[0]?.[1]), expectedParticipants);
  });

  test('adverse events: participant_id tokenized, reporter_email domain only', async () => {
    const { body } = await s.query('alice', 'SELECT participant_id, reporter_email FROM drug_xyz.adverse_events');
    assert.equal(body.rows?.length, events.length);
    body.rows?.forEach((row, i) => {
      assert.match(String(row[0]), /^tok_/);
      assert.equal(row[1], `XXXXX@${events[i]!['reporter_email']!.split('@')[1]}`);
    });
  });

  test('a predicate on a masked column sees the masked value, never the raw one', async () => {
    const raw = trial.find((r) => r['country'] === 'US')!;
    const rows = await s.rows('alice', `SELECT count(*) FROM ${TRIAL} WHERE ssn = '${raw['ssn']}' OR email = '${raw['email']}' OR participant_id = '${raw['participant_id']}'`);
    assert.equal(Number(rows[0]?.[0]), 0);
  });
});

describe('bob (research)', () => {
  test('sees all rows, no pii column, HIPAA-reduced dates and zips, outcomes only with consent', async () => {
    const { body } = await s.query('bob', `SELECT * FROM ${TRIAL}`);
    const names = body.columns?.map((c) => c.name) ?? [];
    assert.deepEqual(names, ['date_of_birth', 'zip', 'country', 'site_id', 'arm', 'dose_mg', 'outcome_score', 'consent_research', 'adverse_event', 'enrolled_at']);
    assert.equal(body.rows?.length, trial.length);
    body.rows?.forEach((row, i) => {
      const raw = trial[i]!;
      assert.match(String(row[0]), /^\d{4}-01-01$/);
      assert.equal(String(row[1]).length, 3);
      const score = row[names.indexOf('outcome_score')];
      if (raw['consent_research'] === 'true') assert.equal(score, Number(raw['outcome_score']));
      else assert.equal(score, null);
    });
  });

  for (const sql of [
    `SELECT email FROM ${TRIAL}`,
    `SELECT count(*) FROM ${TRIAL} WHERE ssn IS NOT NULL`,
    `SELECT arm FROM ${TRIAL} ORDER BY full_name`,
    `SELECT t.participant_id FROM ${TRIAL} t`,
    `WITH x AS (SELECT email FROM ${TRIAL}) SELECT * FROM x`,
  ]) {
    test(`naming a hidden column gets 403 naming it: ${sql}`, async () => {
      const { status, body } = await s.query('bob', sql);
      assert.equal(status, 403);
      assert.equal(body.error?.code, 'COLUMN_ACCESS_DENIED');
      assert.match(body.error?.message ?? '', /"(email|ssn|full_name|participant_id)"/);
    });
  }

  test('describe shows his access per column', async () => {
    const response = await s.get('bob', `/v1/datasets/${TRIAL}`);
    const body = (await response.json()) as { columns: { name: string; access: string; transform: string | null }[] };
    const access = Object.fromEntries(body.columns.map((c) => [c.name, c.access]));
    assert.equal(access['email'], 'hidden');
    assert.equal(access['date_of_birth'], 'masked');
    assert.equal(access['country'], 'clear');
    assert.equal(body.columns.find((c) => c.name === 'outcome_score')?.transform, 'null when consent_research = false');
  });
});

describe('carol (compliance)', () => {
  test('may not read the trial (403) but knows it exists', async () => {
    const { status, body } = await s.query('carol', `SELECT * FROM ${TRIAL}`);
    assert.equal(status, 403);
    assert.equal(body.error?.code, 'ACCESS_DENIED');
    const list = (await (await s.get('carol', '/v1/datasets')).json()) as { datasets: { name: string; access: string }[] };
    assert.deepEqual(list.datasets.map((d) => [d.name, d.access]), [['drug_xyz.adverse_events', 'metadata'], [TRIAL, 'metadata']]);
  });

  test('reads the whole audit log, including other users and denials', async () => {
    await s.query('dave', `SELECT 1 FROM ${TRIAL}`);
    const rows = await s.rows('carol', `SELECT DISTINCT "user", decision FROM veil_system.audit_log WHERE "user" IN ('alice', 'dave') ORDER BY ALL`);
    assert.deepEqual(rows, [['alice', 'allowed'], ['dave', 'denied']]);
  });
});

describe('dave (no groups)', () => {
  test('the datasets are invisible: 404 exactly as for a dataset that does not exist', async () => {
    const real = await s.post('dave', '/v1/query', { sql: `SELECT * FROM ${TRIAL}` });
    const fake = await s.post('dave', '/v1/query', { sql: 'SELECT * FROM drug_xyz.trial_july2021' });
    assert.equal(real.status, 404);
    assert.equal(fake.status, 404);
    const realBody = (await real.json()) as { error: { code: string; message: string } };
    const fakeBody = (await fake.json()) as { error: { code: string; message: string } };
    assert.equal(realBody.error.code, fakeBody.error.code);
    assert.equal(realBody.error.message.replace('trial_july2020', 'X'), fakeBody.error.message.replace('trial_july2021', 'X'));
    const describeReal = await s.get('dave', `/v1/datasets/${TRIAL}`);
    const describeFake = await s.get('dave', '/v1/datasets/drug_xyz.trial_july2021');
    assert.equal(describeReal.status, 404);
    assert.equal(describeFake.status, 404);
  });

  test('an empty listing', async () => {
    const list = (await (await s.get('dave', '/v1/datasets')).json()) as { datasets: unknown[] };
    assert.deepEqual(list.datasets, []);
  });
});

describe('erin (stewards)', () => {
  test('sees everything, unmasked', async () => {
    const { body } = await s.query('erin', `SELECT participant_id, full_name, email, ssn, CAST(date_of_birth AS VARCHAR), zip FROM ${TRIAL}`);
    assert.equal(body.rows?.length, trial.length);
    body.rows?.forEach((row, i) => {
      const raw = trial[i]!;
      assert.deepEqual(row, [raw['participant_id'], raw['full_name'], raw['email'], raw['ssn'], raw['date_of_birth'], raw['zip']]);
    });
  });
});

describe('formats and limits', () => {
  test('CSV has a header line and the same values as JSON', async () => {
    const response = await s.post('alice', '/v1/query', { sql: `SELECT ssn, zip FROM ${TRIAL} LIMIT 5` }, { Accept: 'text/csv' });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/csv/);
    assert.ok(response.headers.get('x-request-id'));
    const lines = (await response.text()).trimEnd().split('\n');
    assert.equal(lines[0], 'ssn,zip');
    const json = await s.rows('alice', `SELECT ssn, zip FROM ${TRIAL} LIMIT 5`);
    assert.deepEqual(lines.slice(1), json.map((r) => r.join(',')));
  });

  test('max_rows caps the result', async () => {
    const { body } = await s.query('erin', `SELECT * FROM ${TRIAL}`, 7);
    assert.equal(body.rows?.length, 7);
    assert.equal(body.truncated, true);
  });

  test('scan returns the whole permitted dataset, and named columns', async () => {
    const response = await s.post('alice', '/v1/scan', { dataset: TRIAL, columns: ['ssn', 'country'] });
    const body = (await response.json()) as { columns: { name: string }[]; rows: unknown[][] };
    assert.deepEqual(body.columns.map((c) => c.name), ['ssn', 'country']);
    assert.equal(body.rows.length, trial.filter((r) => r['country'] === 'US').length);
    const denied = await s.post('bob', '/v1/scan', { dataset: TRIAL, columns: ['ssn'] });
    assert.equal(denied.status, 403);
  });

  test('every response carries X-Request-Id, errors included', async () => {
    for (const response of [await s.get(null, '/v1/datasets'), await s.get('alice', '/v1/datasets'), await s.get(null, '/healthz')]) {
      assert.match(response.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    }
  });

  test('an unsupported Accept type gets 406', async () => {
    const response = await s.post('alice', '/v1/query', { sql: 'SELECT 1' }, { Accept: 'application/xml' });
    assert.equal(response.status, 406);
  });
});

test('no request ended in an internal error', () => {
  assert.deepEqual((s as unknown as { internalErrors: unknown[] }).internalErrors, []);
});
