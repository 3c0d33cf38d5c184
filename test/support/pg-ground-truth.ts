import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Ground truth of a test home, read from the raw CSV files and the key files (as
 * test/security-escapes.test.ts does), so that "no protected value leaks" is checked against the
 * data on disk, not against Veil.
 */
export interface RawTrialRow {
  readonly participant_id: string;
  readonly full_name: string;
  readonly email: string;
  readonly ssn: string;
  readonly date_of_birth: string;
  readonly zip: string;
  readonly country: string;
  readonly consent_research: string;
  readonly outcome_score: string;
}

export class GroundTruth {
  readonly rows: RawTrialRow[];
  readonly usCount: number;
  readonly ssn = new Set<string>();
  readonly email = new Set<string>();
  readonly name = new Set<string>();
  readonly dobNotJan1 = new Set<string>();
  readonly ids = new Set<string>();
  readonly nonUsIds = new Set<string>();
  readonly reporterEmail = new Set<string>();
  /** Key material derived like src/policy/transforms.ts does; must never reach a caller. */
  readonly secrets: string[];

  constructor(readonly home: string) {
    const csv = readFileSync(path.join(home, 'storage/clinical-trials/drug-xyz/trial-july2020/data.csv'), 'utf8');
    const [header, ...lines] = csv.trim().split('\n');
    const names = (header ?? '').split(',');
    const at = (name: string): number => names.indexOf(name);
    const columns = ['participant_id', 'full_name', 'email', 'ssn', 'date_of_birth', 'zip', 'country', 'consent_research', 'outcome_score'].map((n) => [n, at(n)] as const);
    this.rows = lines.map((line) => {
      const cells = line.split(',');
      return Object.fromEntries(columns.map(([n, i]) => [n, cells[i] ?? ''])) as unknown as RawTrialRow;
    });
    let us = 0;
    for (const r of this.rows) {
      this.ssn.add(r.ssn);
      this.email.add(r.email);
      this.name.add(r.full_name);
      this.ids.add(r.participant_id);
      if (!r.date_of_birth.endsWith('-01-01')) this.dobNotJan1.add(r.date_of_birth);
      if (r.country === 'US') us++;
      else this.nonUsIds.add(r.participant_id);
    }
    this.usCount = us;
    const ae = readFileSync(path.join(home, 'storage/clinical-trials/drug-xyz/adverse-events/data.csv'), 'utf8');
    const [aeHeader, ...aeLines] = ae.trim().split('\n');
    const reporter = (aeHeader ?? '').split(',').indexOf('reporter_email');
    for (const line of aeLines) this.reporterEmail.add(line.split(',')[reporter] ?? '');

    const masking = Buffer.from(readFileSync(path.join(home, 'keys/masking.key'), 'utf8').trim(), 'hex');
    const hmacKey = Buffer.alloc(64);
    createHmac('sha256', masking).update('veil:hmac').digest().copy(hmacKey);
    this.secrets = [
      createHmac('sha256', masking).update('veil:tokenize').digest('hex'),
      Buffer.from(hmacKey.map((b) => b ^ 0x36)).toString('hex'),
      Buffer.from(hmacKey.map((b) => b ^ 0x5c)).toString('hex'),
      readFileSync(path.join(home, 'keys/token-signing.key'), 'utf8').trim(),
      masking.toString('hex'),
    ];
  }

  /**
   * Raw protected values found in a text. Values the caller typed into the request are ignored
   * (echoing your own input is not a leak).
   */
  leaksIn(text: string, typed = ''): string[] {
    const found = new Set<string>();
    const check = (candidate: string, set: ReadonlySet<string>): void => {
      if (set.has(candidate) && !typed.includes(candidate)) found.add(candidate);
    };
    for (const m of text.matchAll(/\d{3}-\d{2}-\d{4}/g)) check(m[0], this.ssn);
    for (const m of text.matchAll(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+/g)) {
      check(m[0], this.email);
      if (!m[0].startsWith('XXXXX@') && this.reporterEmail.has(m[0]) && !typed.includes(m[0])) found.add(m[0]);
    }
    for (const m of text.matchAll(/P\d{7}/g)) check(m[0], this.ids);
    for (const m of text.matchAll(/[A-Z][a-z]+ [A-Z][a-z]+/g)) check(m[0], this.name);
    // SUMMARIZE interpolates quantiles of the (Jan-1 masked) dates: those synthetic dates may coincide with a raw one.
    if (!/SUMMARIZE/i.test(typed)) for (const m of text.matchAll(/\d{4}-\d{2}-\d{2}/g)) check(m[0], this.dobNotJan1);
    for (const secret of this.secrets) if (secret !== '' && text.includes(secret)) found.add(`key material ${secret.slice(0, 12)}…`);
    return [...found].slice(0, 5);
  }

  /** Internals that must never show in a user's answer (the caller's own text excepted). */
  internalsIn(text: string, typed = ''): string[] {
    const markers = ['veil_internal', 'src__', '__veil_raw', this.home, 'CREATE VIEW', 'CREATE TABLE', 'read_csv(', 'audit_records', 'LINE 1', 'veil_hmac', 'veil_tokenize', 'veil_prf'];
    return markers.filter((marker) => !typed.includes(marker) && text.includes(marker));
  }
}
