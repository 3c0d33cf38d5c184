import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  ADVERSE_EVENT_COLUMNS,
  RESTRICTED_ZIP3,
  TRIAL_COLUMNS,
  generateTrialData,
  type GeneratedFiles,
} from './trial-data-generator.ts';

const TRIAL_HEADER =
  'participant_id,full_name,email,ssn,date_of_birth,zip,country,site_id,arm,dose_mg,outcome_score,' +
  'consent_research,adverse_event,enrolled_at';
const AE_HEADER = 'participant_id,event_date,severity,description,reporter_email';

const TRIAL_FORMATS: Record<string, RegExp> = {
  participant_id: /^P\d{7}$/,
  full_name: /^[A-Z][a-z]+ [A-Z][a-z]+$/,
  email: /^[a-z]+\.[a-z]+\d+@(example\.org|example\.com|mail\.test|clinic\.example)$/,
  ssn: /^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$/,
  date_of_birth: /^(19[0-9]{2}|200[0-2])-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/,
  zip: /^\d{5}$/,
  country: /^(US|DE|FR|JP|BR|IN)$/,
  site_id: /^S0(0[1-9]|[1-3]\d|40)$/,
  arm: /^(treatment|placebo)$/,
  dose_mg: /^\d+\.\d{1,2}$/,
  outcome_score: /^(\d{1,2}|100)\.\d{2}$/,
  consent_research: /^(true|false)$/,
  adverse_event: /^(true|false)$/,
  enrolled_at: /^2020-07-(0[1-9]|[12]\d|3[01]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/,
};

const AE_FORMATS: Record<string, RegExp> = {
  participant_id: /^P\d{7}$/,
  event_date: /^2020-(07-(0[1-9]|[12]\d|3[01])|08-(0[1-9]|[12]\d|3[01]))$/,
  severity: /^(mild|moderate|severe)$/,
  description: /^[a-z][a-z ]*[a-z]$/,
  reporter_email: /^[a-z.]+@[a-z-]+\.example$/,
};

interface Csv {
  header: string;
  rows: string[][];
}

async function readCsv(path: string): Promise<Csv> {
  const text = await readFile(path, 'utf8');
  assert.ok(text.endsWith('\n'), 'file ends with a newline');
  assert.ok(!text.includes('\r'), 'no CR line endings');
  assert.ok(!text.includes('"'), 'no quotes');
  const lines = text.slice(0, -1).split('\n');
  const header = lines.shift() ?? '';
  return { header, rows: lines.map((l) => l.split(',')) };
}

function ageOn20200701(dob: string): number {
  const [y, m, d] = dob.split('-').map(Number) as [number, number, number];
  return 2020 - y - (m > 7 || (m === 7 && d > 1) ? 1 : 0);
}

describe('generateTrialData', () => {
  let root: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'veil-trial-data-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe('with rows=5000', () => {
    const rows = 5000;
    let files: GeneratedFiles;
    let trial: Csv;
    let events: Csv;

    before(async () => {
      files = await generateTrialData(join(root, 'small'), { rows });
      trial = await readCsv(files.trialPath);
      events = await readCsv(files.adverseEventsPath);
    });

    it('writes the two files where documented', () => {
      assert.equal(files.trialPath, join(root, 'small', 'trial-july2020', 'data.csv'));
      assert.equal(files.adverseEventsPath, join(root, 'small', 'adverse-events', 'data.csv'));
    });

    it('writes the exact headers', () => {
      assert.equal(trial.header, TRIAL_HEADER);
      assert.equal(events.header, AE_HEADER);
      assert.equal(TRIAL_COLUMNS.join(','), TRIAL_HEADER);
      assert.equal(ADVERSE_EVENT_COLUMNS.join(','), AE_HEADER);
    });

    it('writes `rows` trial rows and reports the row counts', () => {
      assert.equal(trial.rows.length, rows);
      assert.equal(files.trialRows, rows);
      assert.equal(events.rows.length, files.adverseEventRows);
      assert.ok(files.adverseEventRows > 0);
    });

    it('numbers participants P0000001.. in order', () => {
      trial.rows.forEach((r, i) => assert.equal(r[0], 'P' + String(i + 1).padStart(7, '0')));
    });

    it('every trial field matches its format', () => {
      for (const row of trial.rows) {
        assert.equal(row.length, TRIAL_COLUMNS.length, row.join(','));
        TRIAL_COLUMNS.forEach((col, c) => {
          const re = TRIAL_FORMATS[col];
          assert.ok(re, `format for ${col}`);
          assert.match(row[c] ?? '', re, `${col} in ${row.join(',')}`);
        });
        const [, name, email, , dob, , , , arm, dose] = row;
        const [first, last] = (name ?? '').toLowerCase().split(' ');
        assert.ok(email?.startsWith(`${first}.${last}`), `email ${email} matches name ${name}`);
        const age = ageOn20200701(dob ?? '');
        assert.ok(age >= 18 && age <= 95, `age ${age}`);
        if (arm === 'placebo') assert.equal(Number(dose), 0);
        else assert.ok(Number(dose) > 0);
      }
    });

    it('every adverse event field matches its format', () => {
      for (const row of events.rows) {
        assert.equal(row.length, ADVERSE_EVENT_COLUMNS.length, row.join(','));
        ADVERSE_EVENT_COLUMNS.forEach((col, c) => {
          const re = AE_FORMATS[col];
          assert.ok(re, `format for ${col}`);
          assert.match(row[c] ?? '', re, `${col} in ${row.join(',')}`);
        });
      }
    });

    it('includes restricted zip prefixes and births before 1930 (ages over 89)', () => {
      const restricted = new Set(RESTRICTED_ZIP3);
      const restrictedRows = trial.rows.filter((r) => restricted.has((r[5] ?? '').slice(0, 3))).length;
      const pre1930 = trial.rows.filter((r) => (r[4] ?? '') < '1930-01-01').length;
      const over89 = trial.rows.filter((r) => ageOn20200701(r[4] ?? '') > 89).length;
      assert.ok(restrictedRows > rows * 0.03 && restrictedRows < rows * 0.07, `restricted zips: ${restrictedRows}`);
      assert.ok(pre1930 > rows * 0.015 && pre1930 < rows * 0.045, `pre-1930 births: ${pre1930}`);
      assert.ok(over89 >= pre1930);
      assert.ok(trial.rows.some((r) => (r[5] ?? '').startsWith('0')), 'some zips have a leading zero');
    });

    it('has roughly the documented distributions', () => {
      const share = (pred: (r: string[]) => boolean): number => trial.rows.filter(pred).length / rows;
      const us = share((r) => r[6] === 'US');
      const consent = share((r) => r[11] === 'true');
      const ae = share((r) => r[12] === 'true');
      const treated = share((r) => r[8] === 'treatment');
      assert.ok(us > 0.55 && us < 0.65, `US ${us}`);
      assert.ok(consent > 0.7 && consent < 0.8, `consent ${consent}`);
      assert.ok(ae > 0.07 && ae < 0.13, `adverse_event ${ae}`);
      assert.ok(treated > 0.45 && treated < 0.55, `treatment ${treated}`);
      for (const c of ['DE', 'FR', 'JP', 'BR', 'IN']) assert.ok(trial.rows.some((r) => r[6] === c), c);
      assert.equal(new Set(trial.rows.map((r) => r[7])).size, 40);
      assert.equal(new Set(trial.rows.map((r) => r[2])).size, rows, 'emails are unique');
    });

    it('adverse events reference an existing participant or the P9 orphan range', () => {
      const ids = new Set(trial.rows.map((r) => r[0]));
      const withAe = new Set(trial.rows.filter((r) => r[12] === 'true').map((r) => r[0]));
      const perParticipant = new Map<string, number>();
      let orphans = 0;
      for (const [pid = ''] of events.rows) {
        if (ids.has(pid)) {
          assert.ok(withAe.has(pid), `${pid} has events but adverse_event=false`);
          perParticipant.set(pid, (perParticipant.get(pid) ?? 0) + 1);
        } else {
          assert.match(pid, /^P9\d{6}$/);
          orphans++;
        }
      }
      assert.equal(perParticipant.size, withAe.size, 'every adverse_event=true participant has events');
      for (const n of perParticipant.values()) assert.ok(n >= 1 && n <= 3);
      assert.ok(orphans > 0, 'some orphan events');
      assert.ok(orphans < events.rows.length * 0.05, `orphans ${orphans}`);
    });

    it('is byte-identical for the same seed and differs for another seed', async () => {
      const again = await generateTrialData(join(root, 'small-again'), { rows, seed: 2020 });
      assert.deepEqual(await readFile(again.trialPath), await readFile(files.trialPath));
      assert.deepEqual(await readFile(again.adverseEventsPath), await readFile(files.adverseEventsPath));
      assert.equal(again.adverseEventRows, files.adverseEventRows);

      const other = await generateTrialData(join(root, 'small-other'), { rows, seed: 7 });
      assert.notDeepEqual(await readFile(other.trialPath), await readFile(files.trialPath));
    });

    it('infers the expected column types in DuckDB', async () => {
      const instance = await DuckDBInstance.create(':memory:');
      const conn = await instance.connect();
      try {
        const describe = async (path: string): Promise<Record<string, string>> => {
          const reader = await conn.runAndReadAll(
            `DESCRIBE SELECT * FROM read_csv('${path.replaceAll("'", "''")}')`,
          );
          return Object.fromEntries(
            reader.getRowObjectsJS().map((r) => [String(r['column_name']), String(r['column_type'])]),
          );
        };
        const t = await describe(files.trialPath);
        assert.deepEqual(Object.keys(t), [...TRIAL_COLUMNS]);
        assert.equal(t['date_of_birth'], 'DATE');
        assert.equal(t['dose_mg'], 'DOUBLE');
        assert.equal(t['outcome_score'], 'DOUBLE');
        assert.equal(t['consent_research'], 'BOOLEAN');
        assert.equal(t['adverse_event'], 'BOOLEAN');
        assert.equal(t['enrolled_at'], 'TIMESTAMP');
        // zip: DuckDB 1.5 infers VARCHAR (values with a leading zero are not sniffed as numbers). If a
        // future sniffer inferred BIGINT that would be acceptable: the product registers the dataset with
        // explicit column types, so leading zeros are never lost there.
        assert.ok(t['zip'] === 'VARCHAR' || t['zip'] === 'BIGINT', `zip inferred as ${t['zip']}`);
        for (const col of ['participant_id', 'full_name', 'email', 'ssn', 'country', 'site_id', 'arm']) {
          assert.equal(t[col], 'VARCHAR', col);
        }

        const a = await describe(files.adverseEventsPath);
        assert.deepEqual(a, {
          participant_id: 'VARCHAR',
          event_date: 'DATE',
          severity: 'VARCHAR',
          description: 'VARCHAR',
          reporter_email: 'VARCHAR',
        });

        const count = await conn.runAndReadAll(
          `SELECT count(*)::INTEGER AS n FROM read_csv('${files.trialPath.replaceAll("'", "''")}')`,
        );
        assert.equal(count.getRowObjectsJS()[0]?.['n'], rows);
      } finally {
        conn.closeSync();
        instance.closeSync();
      }
    });
  });

  it('writes only headers for rows=0', async () => {
    const files = await generateTrialData(join(root, 'empty'), { rows: 0 });
    assert.equal(await readFile(files.trialPath, 'utf8'), TRIAL_HEADER + '\n');
    assert.equal(await readFile(files.adverseEventsPath, 'utf8'), AE_HEADER + '\n');
    assert.equal(files.adverseEventRows, 0);
  });

  it('rejects invalid row counts and seeds', async () => {
    for (const rows of [-1, 1.5, Number.NaN, 100_000_000]) {
      await assert.rejects(generateTrialData(join(root, 'bad'), { rows }), RangeError);
    }
    await assert.rejects(generateTrialData(join(root, 'bad'), { rows: 1, seed: 0.5 }), RangeError);
  });

  it('finishes for rows=200000', async () => {
    const files = await generateTrialData(join(root, 'large'), { rows: 200_000 });
    const lines = (await readFile(files.trialPath, 'utf8')).split('\n');
    assert.equal(lines.pop(), '', 'ends with a newline');
    assert.equal(lines.length, 200_001);
    // lines stay intact across the ~1 MB write chunks
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] ?? '';
      assert.ok(line.startsWith('P' + String(i).padStart(7, '0') + ','), line);
      assert.equal(line.split(',').length, TRIAL_COLUMNS.length, line);
    }
    const aeText = await readFile(files.adverseEventsPath, 'utf8');
    assert.equal(aeText.split('\n').length - 2, files.adverseEventRows);
  });
});
