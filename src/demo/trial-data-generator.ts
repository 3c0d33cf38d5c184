/**
 * Deterministic synthetic clinical-trial dataset for the demo and the benchmarks.
 *
 * Writes two CSV files:
 *   <dir>/trial-july2020/data.csv   one row per participant (PII, quasi-identifiers, outcomes)
 *   <dir>/adverse-events/data.csv   1-3 events per participant flagged with an adverse event, plus
 *                                   ~1% "orphan" events whose participant id (P9xxxxxx) is not in the trial
 *
 * Output is byte-identical for the same (rows, seed): all randomness comes from seeded mulberry32
 * generators (one per file, so the trial file does not depend on how adverse events are drawn), and no
 * value depends on the clock, locale or time zone. Values never contain commas, quotes or newlines, so
 * no CSV quoting is needed. Lines end with "\n".
 *
 * Speed matters (the benchmarks generate millions of rows): lines are built by string concatenation
 * with precomputed lookup tables for padded numbers and dates, accumulated into ~1 MB chunks and written
 * to a file stream, awaiting 'drain' whenever the stream signals backpressure.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';

export interface TrialDataOptions {
  rows: number;
  /** PRNG seed; default 2020. */
  seed?: number;
}

export interface GeneratedFiles {
  trialPath: string;
  adverseEventsPath: string;
  trialRows: number;
  adverseEventRows: number;
}

/** HIPAA Safe Harbor: 3-digit zip prefixes covering 20,000 people or fewer (must be reported as 000). */
export const RESTRICTED_ZIP3: readonly string[] = Object.freeze([
  '036', '059', '063', '102', '203', '205', '369', '556', '692', '790',
  '821', '823', '830', '831', '878', '879', '884', '890', '893',
]);

export const TRIAL_COLUMNS: readonly string[] = Object.freeze([
  'participant_id', 'full_name', 'email', 'ssn', 'date_of_birth', 'zip', 'country', 'site_id', 'arm',
  'dose_mg', 'outcome_score', 'consent_research', 'adverse_event', 'enrolled_at',
]);

export const ADVERSE_EVENT_COLUMNS: readonly string[] = Object.freeze([
  'participant_id', 'event_date', 'severity', 'description', 'reporter_email',
]);

/**
 * Participant ids are P + 7 digits; orphan adverse events use P9000000..P9999999. Trials of
 * 9,000,000 rows or more (the scale benchmark) get P + 8 digits, which no orphan id (8 characters)
 * can equal.
 */
export const MAX_TRIAL_ROWS = 99_999_999;
const NARROW_TRIAL_ROWS = 8_999_999;

const DEFAULT_SEED = 2020;
const CHUNK_BYTES = 1 << 20; // ~1 MB per write
const CHUNK_SLACK = 16 << 10; // room for the lines that overflow a chunk

const FIRST_NAMES = [
  'James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth',
  'William', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Carlos', 'Karen',
  'Daniel', 'Lisa', 'Matthew', 'Nancy', 'Anthony', 'Sofia', 'Mark', 'Sandra', 'Hiroshi', 'Ashley',
  'Pedro', 'Kimberly', 'Lukas', 'Emily', 'Arjun', 'Priya', 'Pierre', 'Camille', 'Yuki', 'Ana',
] as const;

const LAST_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez',
  'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin',
  'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson',
  'Mueller', 'Schmidt', 'Dubois', 'Laurent', 'Tanaka', 'Suzuki', 'Silva', 'Santos', 'Patel', 'Sharma',
] as const;

const EMAIL_DOMAINS = ['example.org', 'example.com', 'mail.test', 'clinic.example'] as const;

const COUNTRIES_NON_US = ['DE', 'FR', 'JP', 'BR', 'IN'] as const;

const AE_DESCRIPTIONS = [
  'headache', 'nausea', 'fatigue', 'dizziness', 'injection site reaction', 'rash', 'fever',
  'muscle pain', 'insomnia', 'elevated liver enzymes', 'shortness of breath', 'abdominal pain',
  'hypertension', 'allergic reaction', 'blurred vision', 'chest pain',
] as const;

const REPORTER_NAMES = [
  'dr.okafor', 'dr.lindqvist', 'dr.moreau', 'dr.nakamura', 'dr.oliveira', 'dr.iyer', 'dr.becker',
  'n.chen', 'n.fischer', 'n.dupont', 'n.costa', 'n.rao', 'safety.desk', 'pharmacovigilance',
] as const;

const HOSPITAL_DOMAINS = [
  'stmarys-hospital.example', 'charite-research.example', 'hopital-central.example',
  'tokyo-medical.example', 'hospital-sao-lucas.example', 'aiims-trials.example',
] as const;

// ---------------------------------------------------------------------------------------------------
// PRNG

/** mulberry32: tiny, fast, well-distributed 32-bit generator. Returns floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------------
// Lookup tables (built once, lazily)

interface Tables {
  pad2: string[]; // '00'..'99'
  pad3: string[]; // '000'..'999'
  pad4: string[]; // '0000'..'9999'
  zip3Open: string[]; // 001..999 minus RESTRICTED_ZIP3
  dobYoung: string[]; // 1930-07-02 .. 2002-07-01 (ages 18..89 on 2020-07-01)
  dobOld: string[]; // 1924-07-02 .. 1929-12-31 (ages 90..95, born before 1930)
  julAug: string[]; // 2020-07-01 .. 2020-08-31 (index 0 = July 1st)
  fullNames: string[]; // [first * LAST_NAMES.length + last]
  emailPrefixes: string[]; // 'first.last' lowercase, same indexing
}

let tables: Tables | undefined;

function padTable(width: number): string[] {
  const n = 10 ** width;
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = String(i).padStart(width, '0');
  return out;
}

/** ISO dates for every day in [from, to] (inclusive, UTC, 'YYYY-MM-DD'). */
function dateRange(from: string, to: string): string[] {
  const out: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end; t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

function getTables(): Tables {
  if (tables) return tables;
  const pad3 = padTable(3);
  const restricted = new Set(RESTRICTED_ZIP3);
  const firstLower = FIRST_NAMES.map((n) => n.toLowerCase());
  const lastLower = LAST_NAMES.map((n) => n.toLowerCase());
  const fullNames: string[] = [];
  const emailPrefixes: string[] = [];
  for (let f = 0; f < FIRST_NAMES.length; f++) {
    for (let l = 0; l < LAST_NAMES.length; l++) {
      fullNames.push(`${FIRST_NAMES[f]} ${LAST_NAMES[l]}`);
      emailPrefixes.push(`${firstLower[f]}.${lastLower[l]}`);
    }
  }
  tables = {
    pad2: padTable(2),
    pad3,
    pad4: padTable(4),
    zip3Open: pad3.slice(1).filter((z) => !restricted.has(z)),
    dobYoung: dateRange('1930-07-02', '2002-07-01'),
    dobOld: dateRange('1924-07-02', '1929-12-31'),
    julAug: dateRange('2020-07-01', '2020-08-31'),
    fullNames,
    emailPrefixes,
  };
  return tables;
}

// ---------------------------------------------------------------------------------------------------
// Output

/**
 * A CSV file being written: text is appended into a ~1 MB Buffer (lines are short-lived strings, so the
 * garbage collector never has to trace a megabyte-sized rope), and full chunks go to a file stream,
 * waiting for 'drain' when the stream signals backpressure. All text is ASCII, so latin1 == utf8 here.
 */
class CsvFile {
  private readonly stream: WriteStream;
  private failure: Error | undefined;
  private buf = Buffer.allocUnsafe(CHUNK_BYTES + CHUNK_SLACK);
  private used = 0;

  constructor(path: string) {
    this.stream = createWriteStream(path, { highWaterMark: CHUNK_BYTES });
    this.stream.on('error', (err: Error) => {
      this.failure ??= err;
    });
  }

  /** Appends ASCII text; returns true once the chunk is full and flush() should be awaited. */
  append(text: string): boolean {
    if (this.used + text.length > this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.used + text.length + CHUNK_SLACK);
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used += this.buf.write(text, this.used, 'latin1');
    return this.used >= CHUNK_BYTES;
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.used === 0) return;
    const chunk = this.buf.subarray(0, this.used);
    // the stream keeps a reference to `chunk` until written, so start a fresh buffer
    this.buf = Buffer.allocUnsafe(CHUNK_BYTES + CHUNK_SLACK);
    this.used = 0;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async end(): Promise<void> {
    await this.flush();
    this.stream.end();
    await finished(this.stream);
  }

  destroy(): void {
    this.stream.destroy();
  }
}

function mixSeed(seed: number, salt: number): number {
  // splitmix32-style finaliser so the two generators get unrelated streams
  let z = (seed + salt) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

// ---------------------------------------------------------------------------------------------------
// Generator

/** Writes <dir>/trial-july2020/data.csv and <dir>/adverse-events/data.csv (creates dirs). */
export async function generateTrialData(dir: string, options: TrialDataOptions): Promise<GeneratedFiles> {
  const { rows } = options;
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(rows) || rows < 0 || rows > MAX_TRIAL_ROWS) {
    throw new RangeError(`rows must be an integer in 0..${MAX_TRIAL_ROWS}, got ${String(rows)}`);
  }
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be a safe integer, got ${String(seed)}`);
  }

  const trialDir = join(dir, 'trial-july2020');
  const aeDir = join(dir, 'adverse-events');
  await mkdir(trialDir, { recursive: true });
  await mkdir(aeDir, { recursive: true });
  const trialPath = join(trialDir, 'data.csv');
  const adverseEventsPath = join(aeDir, 'data.csv');

  const { pad2, pad3, pad4, zip3Open, dobYoung, dobOld, julAug, fullNames, emailPrefixes } = getTables();
  const nLast = LAST_NAMES.length;
  const nFirst = FIRST_NAMES.length;

  const rnd = mulberry32(mixSeed(seed, 0x243f6a88));
  const aeRnd = mulberry32(mixSeed(seed, 0x13198a2e));
  const int = (n: number): number => Math.floor(rnd() * n);
  const aeInt = (n: number): number => Math.floor(aeRnd() * n);
  // Indexing helper: every index below is drawn in range, so the lookup is always defined.
  const at = <V>(arr: readonly V[], i: number): V => arr[i] as V;

  const trial = new CsvFile(trialPath);
  const ae = new CsvFile(adverseEventsPath);
  let adverseEventRows = 0;

  const severity = (): string => {
    const r = aeRnd();
    return r < 0.6 ? 'mild' : r < 0.9 ? 'moderate' : 'severe';
  };
  /** An event for a participant id outside the trial (P9000000..P9999999). */
  const orphan = (): string => {
    adverseEventRows++;
    return (
      'P9' + at(pad3, aeInt(1000)) + at(pad3, aeInt(1000)) +
      ',' + at(julAug, aeInt(julAug.length)) +
      ',' + severity() +
      ',' + at(AE_DESCRIPTIONS, aeInt(AE_DESCRIPTIONS.length)) +
      ',' + at(REPORTER_NAMES, aeInt(REPORTER_NAMES.length)) + '@' +
      at(HOSPITAL_DOMAINS, aeInt(HOSPITAL_DOMAINS.length)) + '\n'
    );
  };

  try {
    trial.append(TRIAL_COLUMNS.join(',') + '\n');
    ae.append(ADVERSE_EVENT_COLUMNS.join(',') + '\n');

    const idWidth = rows > NARROW_TRIAL_ROWS ? 8 : 7;
    for (let i = 1; i <= rows; i++) {
      const pid = 'P' + String(i).padStart(idWidth, '0');
      const nameIdx = int(nFirst) * nLast + int(nLast);

      const dob = rnd() < 0.03 ? at(dobOld, int(dobOld.length)) : at(dobYoung, int(dobYoung.length));

      const zip = (rnd() < 0.05 ? at(RESTRICTED_ZIP3, int(RESTRICTED_ZIP3.length)) : at(zip3Open, int(zip3Open.length)))
        + at(pad2, int(100));

      let area = int(898) + 1; // 1..898 -> 1..899 without 666
      if (area >= 666) area++;
      const ssn = at(pad3, area) + '-' + at(pad2, int(99) + 1) + '-' + at(pad4, int(9999) + 1);

      const country = rnd() < 0.6 ? 'US' : at(COUNTRIES_NON_US, int(COUNTRIES_NON_US.length));
      const site = 'S' + at(pad3, int(40) + 1);

      const treated = rnd() < 0.5;
      let dose: string;
      if (treated) {
        const cents = 250 + int(19751); // 2.50 .. 200.00 mg
        dose = String(Math.floor(cents / 100)) + '.' + at(pad2, cents % 100);
      } else {
        dose = '0.0';
      }
      const scoreCents = int(10001); // 0.00 .. 100.00
      const score = String(Math.floor(scoreCents / 100)) + '.' + at(pad2, scoreCents % 100);

      const consent = rnd() < 0.75 ? 'true' : 'false';
      const hasAe = rnd() < 0.1;

      const day = int(31); // 0-based day of July
      const secs = int(86400);
      const enrolled = at(julAug, day) + ' ' + at(pad2, Math.floor(secs / 3600)) + ':' +
        at(pad2, Math.floor(secs / 60) % 60) + ':' + at(pad2, secs % 60);

      const trialFull = trial.append(pid + ',' + at(fullNames, nameIdx) + ',' + at(emailPrefixes, nameIdx) + String(i) + '@' +
        at(EMAIL_DOMAINS, int(EMAIL_DOMAINS.length)) + ',' + ssn + ',' + dob + ',' + zip + ',' + country + ',' +
        site + ',' + (treated ? 'treatment' : 'placebo') + ',' + dose + ',' + score + ',' + consent + ',' +
        (hasAe ? 'true' : 'false') + ',' + enrolled + '\n');

      let aeFull = false;
      if (hasAe) {
        const events = aeInt(3) + 1;
        for (let e = 0; e < events; e++) {
          adverseEventRows++;
          // on or after the enrolment day, within July/August 2020
          aeFull = ae.append(pid + ',' + at(julAug, day + aeInt(julAug.length - day)) + ',' + severity() + ',' +
            at(AE_DESCRIPTIONS, aeInt(AE_DESCRIPTIONS.length)) + ',' +
            at(REPORTER_NAMES, aeInt(REPORTER_NAMES.length)) + '@' +
            at(HOSPITAL_DOMAINS, aeInt(HOSPITAL_DOMAINS.length)) + '\n');
          if (aeRnd() < 0.01) aeFull = ae.append(orphan());
        }
      }

      if (trialFull) await trial.flush();
      if (aeFull) await ae.flush();
    }

    await Promise.all([trial.end(), ae.end()]);
  } catch (err) {
    trial.destroy();
    ae.destroy();
    throw err;
  }

  return { trialPath, adverseEventsPath, trialRows: rows, adverseEventRows };
}
