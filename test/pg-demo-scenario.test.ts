import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { startTestServer, type QueryBody, type TestServer } from './support/test-server.ts';
import { connectPg, pgQuery, RawPgClient, dataRows, errorsOf, readCursor, type PgAnswer } from './support/pg-wire.ts';
import { auditMark, awaitAudit } from './support/audit-trail.ts';
import { serialize } from 'pg-protocol';

/**
 * The demo scenario of test/demo-scenario.test.ts through the PostgreSQL door: what each demo
 * user sees of the clinical trial, checked value by value against the raw files and against the
 * HTTP door's answer to the same SQL. The wire speaks text (every value a string, booleans t/f),
 * HTTP speaks JSON; values are compared after that one normalization, doubles as numbers.
 */
type Row = Record<string, string>;

function readCsv(file: string): Row[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const names = (header ?? '').split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i] ?? '', v])));
}

const RESTRICTED = ['036', '059', '063', '102', '203', '205', '369', '556', '692', '790', '821', '823', '830', '831', '878', '879', '884', '890', '893'];
const REFERENCE_YEAR = new Date().getUTCFullYear();
const TRIAL = 'drug_xyz.trial_july2020';
const AE = 'drug_xyz.adverse_events';
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;

let s: TestServer & { internalErrors: unknown[] };
let trial: Row[];
let events: Row[];
const clients = new Map<string, pg.Client>();

before(async () => {
  s = await startTestServer({ rows: 3000 });
  const dir = path.join(s.home, 'storage', 'clinical-trials', 'drug-xyz');
  trial = readCsv(path.join(dir, 'trial-july2020', 'data.csv'));
  events = readCsv(path.join(dir, 'adverse-events', 'data.csv'));
  for (const user of USERS) clients.set(user, await connectPg(s, user));
});
after(async () => {
  for (const client of clients.values()) await client.end().catch(() => undefined);
  await s.close();
});

/** The user's open pg session (one per user for the whole file, as a BI tool would hold it). */
function db(user: string): pg.Client {
  const client = clients.get(user);
  assert.ok(client, `no pg session for ${user}`);
  return client;
}

async function pgOk(user: string, sql: string, values?: unknown[]): Promise<PgAnswer> {
  const answer = await pgQuery(db(user), sql, values);
  assert.ok(answer.ok, `pg refused ${user}: ${sql}\n${answer.code} ${answer.message} (${answer.detail ?? ''})`);
  return answer;
}

/** What PostgreSQL's text format sends for an HTTP JSON value of a column of this type. */
function expectedText(value: unknown, type: string): string | null {
  if (value === null || value === undefined) return null;
  if (type === 'BOOLEAN') return value === true ? 't' : 'f';
  return String(value);
}

function sameCell(pgValue: string | null, httpValue: unknown, type: string): boolean {
  const expected = expectedText(httpValue, type);
  if (expected === null || pgValue === null) return expected === pgValue;
  if (/^(DOUBLE|FLOAT|REAL|DECIMAL)/.test(type)) return Number(pgValue) === Number(expected);
  return pgValue === expected;
}

/** pg rows equal HTTP rows, column by column, value by value (order included). */
function assertSameRows(label: string, wire: PgAnswer, http: QueryBody): void {
  const httpColumns = http.columns ?? [];
  assert.deepEqual(wire.fields.map((f) => f.name), httpColumns.map((c) => c.name), `${label}: column names`);
  const httpRows = http.rows ?? [];
  assert.equal(wire.rows.length, httpRows.length, `${label}: row count`);
  let mismatches = 0;
  const examples: string[] = [];
  wire.rows.forEach((row, i) => {
    httpColumns.forEach((column, j) => {
      if (!sameCell(row[j] ?? null, httpRows[i]?.[j], column.type)) {
        mismatches++;
        if (examples.length < 5) examples.push(`row ${i} ${column.name}: pg ${JSON.stringify(row[j])} vs http ${JSON.stringify(httpRows[i]?.[j])}`);
      }
    });
  });
  assert.equal(mismatches, 0, `${label}: ${mismatches} values differ\n${examples.join('\n')}`);
}

/** Runs the SQL through both doors as the user; both must succeed with the same rows, or refuse alike. */
async function assertSameAsHttp(user: string, sql: string, protocol: 'simple' | 'extended'): Promise<PgAnswer> {
  const wire = await pgQuery(db(user), sql, undefined, { extended: protocol === 'extended' });
  const http = await s.query(user, sql, 100_000);
  const label = `${user} (${protocol} protocol): ${sql}`;
  if (http.status === 200) {
    assert.ok(wire.ok, `${label}: HTTP answered, pg refused\n${wire.code} ${wire.message}`);
    assertSameRows(label, wire, http.body);
  } else {
    assert.equal(wire.ok, false, `${label}: HTTP refused (${http.body.error?.code}), pg answered ${wire.rows.length} rows`);
    assert.equal(wire.veilCode, http.body.error?.code, `${label}: same Veil code`);
    assert.equal(wire.message, http.body.error?.message, `${label}: same message`);
  }
  return wire;
}

describe('every demo user gets through pg exactly what HTTP gives', () => {
  const statements = [
    `SELECT * FROM ${TRIAL}`,
    `SELECT CAST(COLUMNS(*) AS VARCHAR) FROM ${TRIAL}`,
    `SELECT * FROM ${AE}`,
    `SELECT country, arm, count(*) AS n, round(avg(dose_mg), 6) AS dose, count(outcome_score) AS scored, min(enrolled_at) AS first FROM ${TRIAL} GROUP BY ALL ORDER BY ALL`,
    `SELECT count(*) AS n FROM ${TRIAL} t JOIN ${AE} a ON a.participant_id = t.participant_id`,
    `SELECT * FROM ${TRIAL} WHERE arm = 'placebo' ORDER BY enrolled_at, site_id LIMIT 50`,
    'SELECT * FROM drug_xyz.trial_july2021',
  ];
  for (const user of USERS) {
    test(`${user}: the same rows or the same refusal, value by value`, async () => {
      for (const sql of statements) {
        await assertSameAsHttp(user, sql, 'simple');
        await assertSameAsHttp(user, sql, 'extended');
      }
    });
  }
});

describe('alice (data_science, region=US)', () => {
  test('sees only rows of her region, with every direct identifier masked', async () => {
    const answer = await pgOk('alice', `SELECT * FROM ${TRIAL}`);
    const us = trial.filter((r) => r['country'] === 'US');
    assert.ok(us.length > 0 && us.length < trial.length);
    assert.equal(answer.rows.length, us.length);
    const names = answer.fields.map((f) => f.name);
    const at = (row: (string | null)[], name: string): string | null | undefined => row[names.indexOf(name)];
    answer.rows.forEach((row, i) => {
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
      assert.equal(Number(at(row, 'dose_mg')), Number(raw['dose_mg']));
    });
  });

  test('the data contains the cases the masks exist for (restricted zips, ages over 89)', async () => {
    const { rows } = await pgOk('alice', `SELECT count(*) FILTER (WHERE zip = '000'), count(*) FILTER (WHERE date_of_birth = make_date(${REFERENCE_YEAR - 90}, 1, 1)) FROM ${TRIAL}`);
    assert.ok(Number(rows[0]?.[0]) > 0, 'some restricted zip prefixes');
    assert.ok(Number(rows[0]?.[1]) > 0, 'some clamped birth years');
  });

  test('her join of the two datasets on tokenized ids matches exactly the raw join for her rows', async () => {
    const usIds = new Set(trial.filter((r) => r['country'] === 'US').map((r) => r['participant_id']));
    const expected = events.filter((e) => usIds.has(e['participant_id'])).length;
    const { rows } = await pgOk('alice', `SELECT count(*), count(DISTINCT t.participant_id) FROM ${TRIAL} t JOIN ${AE} a ON a.participant_id = t.participant_id`);
    assert.equal(Number(rows[0]?.[0]), expected);
    const expectedParticipants = new Set(events.filter((e) => usIds.has(e['participant_id'])).map((e) => e['participant_id'])).size;
    assert.equal(Number(rows[0]?.[1]), expectedParticipants);
  });

  test('adverse events: participant_id tokenized, reporter_email domain only', async () => {
    const { rows } = await pgOk('alice', `SELECT participant_id, reporter_email FROM ${AE}`);
    assert.equal(rows.length, events.length);
    rows.forEach((row, i) => {
      assert.match(String(row[0]), /^tok_/);
      assert.equal(row[1], `XXXXX@${events[i]!['reporter_email']!.split('@')[1]}`);
    });
  });

  test('a predicate on a masked column sees the masked value, never the raw one (literal and bound parameters)', async () => {
    const raw = trial.find((r) => r['country'] === 'US')!;
    const literal = await pgOk('alice', `SELECT count(*) FROM ${TRIAL} WHERE ssn = '${raw['ssn']}' OR email = '${raw['email']}' OR participant_id = '${raw['participant_id']}'`);
    assert.equal(Number(literal.rows[0]?.[0]), 0);
    const bound = await pgOk('alice', `SELECT count(*) FROM ${TRIAL} WHERE ssn = $1 OR email = $2 OR participant_id = $3`, [raw['ssn'], raw['email'], raw['participant_id']]);
    assert.equal(Number(bound.rows[0]?.[0]), 0);
    // The masked value itself is found: the parameter is compared with what alice sees.
    const masked = await pgOk('alice', `SELECT count(*) FROM ${TRIAL} WHERE ssn = $1`, [`XXX-XX-${raw['ssn']!.slice(-4)}`]);
    assert.ok(Number(masked.rows[0]?.[0]) >= 1);
  });
});

describe('bob (research)', () => {
  test('sees all rows, no pii column, HIPAA-reduced dates and zips, outcomes only with consent', async () => {
    const answer = await pgOk('bob', `SELECT * FROM ${TRIAL}`);
    const names = answer.fields.map((f) => f.name);
    assert.deepEqual(names, ['date_of_birth', 'zip', 'country', 'site_id', 'arm', 'dose_mg', 'outcome_score', 'consent_research', 'adverse_event', 'enrolled_at']);
    assert.equal(answer.rows.length, trial.length);
    answer.rows.forEach((row, i) => {
      const raw = trial[i]!;
      assert.match(String(row[0]), /^\d{4}-01-01$/);
      assert.equal(String(row[1]).length, 3);
      const score = row[names.indexOf('outcome_score')];
      if (raw['consent_research'] === 'true') assert.equal(Number(score), Number(raw['outcome_score']));
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
    test(`naming a hidden column gets 42501 naming it, as HTTP's 403: ${sql}`, async () => {
      const wire = await pgQuery(db('bob'), sql);
      assert.equal(wire.ok, false);
      assert.equal(wire.code, '42501');
      assert.equal(wire.veilCode, 'COLUMN_ACCESS_DENIED');
      assert.match(wire.message, /"(email|ssn|full_name|participant_id)"/);
      const http = await s.query('bob', sql);
      assert.equal(http.status, 403);
      assert.equal(wire.message, http.body.error?.message);
    });
  }

  test('the catalog describes his columns as HTTP describe does, hidden ones left out', async () => {
    const response = await s.get('bob', `/v1/datasets/${TRIAL}`);
    const body = (await response.json()) as { columns: { name: string; access: string; transform: string | null }[] };
    const access = Object.fromEntries(body.columns.map((c) => [c.name, c.access]));
    assert.equal(access['email'], 'hidden');
    assert.equal(access['date_of_birth'], 'masked');
    assert.equal(access['country'], 'clear');
    const visible = body.columns.filter((c) => c.access !== 'hidden').map((c) => c.name);
    const columns = await pgOk('bob', "SELECT column_name FROM information_schema.columns WHERE table_schema = 'drug_xyz' AND table_name = 'trial_july2020' ORDER BY ordinal_position");
    assert.deepEqual(columns.rows.map((r) => r[0]), visible);
    const attributes = await pgOk(
      'bob',
      "SELECT a.attname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'drug_xyz' AND c.relname = 'trial_july2020' AND a.attnum > 0 ORDER BY a.attnum",
    );
    assert.deepEqual(attributes.rows.map((r) => r[0]), visible);
  });
});

describe('carol (compliance)', () => {
  test('may not read the trial (42501, as HTTP 403) but knows it exists', async () => {
    const wire = await pgQuery(db('carol'), `SELECT * FROM ${TRIAL}`);
    assert.equal(wire.ok, false);
    assert.equal(wire.code, '42501');
    assert.equal(wire.veilCode, 'ACCESS_DENIED');
    const http = await s.query('carol', `SELECT * FROM ${TRIAL}`);
    assert.equal(http.status, 403);
    assert.equal(wire.message, http.body.error?.message);
    const list = (await (await s.get('carol', '/v1/datasets')).json()) as { datasets: { name: string; access: string }[] };
    assert.deepEqual(list.datasets.map((d) => [d.name, d.access]), [[AE, 'metadata'], [TRIAL, 'metadata']]);
    const tables = await pgOk('carol', "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_schema = 'drug_xyz' ORDER BY 1");
    assert.deepEqual(tables.rows.map((r) => r[0]), [AE, TRIAL]);
  });

  test('reads the whole audit log through pg, including other users, denials and the pg door', async () => {
    const denied = await pgQuery(db('dave'), `SELECT 1 FROM ${TRIAL}`);
    assert.equal(denied.ok, false);
    const rows = await pgOk('carol', `SELECT DISTINCT "user", decision FROM veil_system.audit_log WHERE "user" IN ('alice', 'dave') ORDER BY ALL`);
    // (alice also has denials of her own here: the missing dataset of the first describe block.)
    assert.ok(rows.rows.some(([u, d]) => u === 'alice' && d === 'allowed'), JSON.stringify(rows.rows));
    assert.deepEqual(rows.rows.filter(([u]) => u === 'dave'), [['dave', 'denied']]);
    const doors = await pgOk('carol', `SELECT DISTINCT door FROM veil_system.audit_log WHERE "user" = 'dave' AND decision = 'denied' ORDER BY ALL`);
    assert.ok(doors.rows.some(([door]) => door === 'pg'), JSON.stringify(doors.rows));
  });
});

describe('dave (no groups)', () => {
  test('the datasets are invisible: 42P01 exactly as for a dataset that does not exist, with HTTP\'s text', async () => {
    const real = await pgQuery(db('dave'), `SELECT * FROM ${TRIAL}`);
    const fake = await pgQuery(db('dave'), 'SELECT * FROM drug_xyz.trial_july2021');
    assert.equal(real.code, '42P01');
    assert.equal(fake.code, '42P01');
    assert.equal(real.veilCode, 'DATASET_NOT_FOUND');
    assert.equal(real.veilCode, fake.veilCode);
    assert.equal(real.message.replace('trial_july2020', 'X'), fake.message.replace('trial_july2021', 'X'));
    assert.equal(real.detail, fake.detail);
    const http = await s.query('dave', `SELECT * FROM ${TRIAL}`);
    assert.equal(http.status, 404);
    assert.equal(real.message, http.body.error?.message);
  });

  test('an empty listing: the catalog shows no dataset HTTP does not list', async () => {
    const list = (await (await s.get('dave', '/v1/datasets')).json()) as { datasets: unknown[] };
    assert.deepEqual(list.datasets, []);
    const withSystem = (await (await s.get('dave', '/v1/datasets?include_system=true')).json()) as { datasets: { name: string }[] };
    const tables = await pgOk('dave', "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1");
    assert.deepEqual(tables.rows.map((r) => r[0]), withSystem.datasets.map((d) => d.name).sort());
    assert.ok(!tables.text.includes('drug_xyz'));
  });
});

describe('erin (stewards)', () => {
  test('sees everything, unmasked', async () => {
    const { rows } = await pgOk('erin', `SELECT participant_id, full_name, email, ssn, CAST(date_of_birth AS VARCHAR), zip FROM ${TRIAL}`);
    assert.equal(rows.length, trial.length);
    rows.forEach((row, i) => {
      const raw = trial[i]!;
      assert.deepEqual(row, [raw['participant_id'], raw['full_name'], raw['email'], raw['ssn'], raw['date_of_birth'], raw['zip']]);
    });
  });
});

describe('formats and limits', () => {
  test('COPY … TO STDOUT (FORMAT csv, HEADER) carries the same lines as HTTP CSV', async () => {
    const sql = `SELECT ssn, zip FROM ${TRIAL} LIMIT 5`;
    const response = await s.post('alice', '/v1/query', { sql }, { Accept: 'text/csv' });
    assert.equal(response.status, 200);
    const httpLines = (await response.text()).trimEnd().split('\n');
    const raw = await RawPgClient.connect(s.pgPort, 'alice', s.token('alice'));
    try {
      const messages = await raw.simple(`COPY (${sql}) TO STDOUT (FORMAT csv, HEADER)`);
      assert.deepEqual(errorsOf(messages), []);
      const copied = messages.filter((m) => m.name === 'copyData').map((m) => (m['chunk'] as Buffer).toString('utf8')).join('');
      assert.deepEqual(copied.trimEnd().split('\n'), httpLines);
      assert.equal(httpLines[0], 'ssn,zip');
    } finally {
      raw.close();
    }
  });

  test('a portal read in batches (Execute with a row limit) gives the rows HTTP gives, in order', async () => {
    const sql = `SELECT * FROM ${TRIAL}`;
    const http = await s.query('erin', sql, 100_000);
    const seen: (string | null)[][] = [];
    const { rows, fields } = await readCursor(db('erin'), sql, 7, (batch) => {
      assert.ok(batch.length <= 7);
      seen.push(...batch);
    });
    assert.equal(rows, trial.length);
    assertSameRows('erin cursor', { ok: true, fields, rows: seen, code: undefined, veilCode: undefined, message: '', detail: undefined, text: '' }, http.body);
  });

  test('Execute with maxRows 7 returns exactly 7 rows and a PortalSuspended', async () => {
    const raw = await RawPgClient.connect(s.pgPort, 'erin', s.token('erin'));
    try {
      raw.send(serialize.parse({ text: `SELECT * FROM ${TRIAL}` }), serialize.bind({}), serialize.execute({ rows: 7 }), serialize.sync());
      const messages = await raw.untilReady();
      assert.deepEqual(errorsOf(messages), []);
      assert.equal(dataRows(messages).length, 7);
      assert.ok(messages.some((m) => m.name === 'portalSuspended'));
    } finally {
      raw.close();
    }
  });

  test('naming columns reads the whole permitted dataset (the pg form of /v1/scan); a hidden column is refused', async () => {
    const { fields, rows } = await pgOk('alice', `SELECT ssn, country FROM ${TRIAL}`);
    assert.deepEqual(fields.map((f) => f.name), ['ssn', 'country']);
    assert.equal(rows.length, trial.filter((r) => r['country'] === 'US').length);
    const denied = await pgQuery(db('bob'), `SELECT ssn FROM ${TRIAL}`);
    assert.equal(denied.code, '42501');
  });

  test('a statement over pg leaves its audit record with door pg, user and row count', async () => {
    const mark = await auditMark(s.home);
    const sql = `SELECT count(*) FROM ${TRIAL} /* pg-demo-audit */`;
    await pgOk('bob', sql);
    const records = await awaitAudit(s.home, mark, (r) => r.statement === sql && r.door === 'pg' && r.rows_returned !== null);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.user, 'bob');
    assert.equal(records[0]?.decision, 'allowed');
    assert.equal(records[0]?.rows_returned, 1);
  });
});

test('no request ended in an internal error', () => {
  assert.deepEqual(s.internalErrors, []);
});
