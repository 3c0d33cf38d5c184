/**
 * Property-based differential test of policy enforcement.
 *
 * Random policy sets (grant / deny / restrict; subjects by users, groups, attributes, everyone and
 * except; resources by database, dataset and tag; hide; masks with conditional `when` layers; row
 * filters; validity windows) are applied to a real runtime, and random queries are run for random
 * principals through the same path every door uses (prepare → open → stream). Each result is
 * compared with a reference that applies the authored policies to the raw rows in plain TypeScript.
 *
 * The reference is written from the rules (see the comments of effective-policy-resolver.ts,
 * transforms.ts and policy-types.ts); it deliberately does not import the resolver, the scan builder
 * or the transform SQL. It works on the authored (snake_case) form of the policies.
 *
 * Properties:
 *  1. differential: outcome (rows, or error code) equals the reference, over a space of policies
 *     whose transforms keep every column's type (so values are exactly predictable); queries are
 *     SELECT * / columns / * EXCLUDE / DISTINCT / count(*) / count(col) / min+max / GROUP BY, with
 *     an optional WHERE on a masked value, an optional error-oracle probe (a call that fails
 *     exactly where a predicate holds: it must fail for a visible row and never for a hidden one),
 *     optional ORDER BY id, optional table alias;
 *  2. metamorphic: the outcome never depends on the order in which the policies were created;
 *  3. EXCLUDE: naming a hidden column in `* EXCLUDE (…)` answers COLUMN_ACCESS_DENIED like any
 *     other reference to it;
 *  4. parameterised transforms: when several masks of the same transform with different parameters
 *     hit one cell, the least revealing one wins (mask_show_last(2) over mask_show_last(4));
 *  5. cross-type masks: a string transform on a non-string column (allowed by validation) with a
 *     `when` condition yields the masked text where the condition holds and the raw value elsewhere.
 *
 * Properties 3–5 pin discrepancies found when this test was written (they fail until the product
 * changes); 1 and 2 hold. VEIL_PBT_RUNS (default 150) sets the number of runs of property 1; the
 * others run a third of that.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { pipelineOutcome } from './support/pipeline.ts';
import { openRuntime, type VeilRuntime } from '../src/runtime/index.ts';
import { validatePolicy } from '../src/policy/index.ts';
import { principalOf, type Principal } from '../src/identity/index.ts';

// ---------------------------------------------------------------------------------------------
// The data set: 40 raw rows, kept here as the reference data and written to CSV for Veil.
// ---------------------------------------------------------------------------------------------

const COLS = ['id', 'name', 'email', 'region', 'score', 'flag', 'dob'] as const;
type Col = (typeof COLS)[number];
type Val = string | number | boolean | null;
type Row = Record<Col, Val>;
type Tri = boolean | null;

const TYPES: Record<Col, string> = { id: 'INTEGER', name: 'VARCHAR', email: 'VARCHAR', region: 'VARCHAR', score: 'DOUBLE', flag: 'BOOLEAN', dob: 'DATE' };
const STRING_COLS: readonly Col[] = ['name', 'email', 'region'];
const DATASET = 'db1.people';
const DATASET_TAGS: readonly string[] = ['hr.people'];
const COLUMN_TAGS: Record<Col, readonly string[]> = {
  id: [],
  name: ['pii.name'],
  email: ['contact', 'pii.email'],
  region: ['geo'],
  score: ['metric.score'],
  flag: [],
  dob: ['phi.dob'],
};

const FIRST = ['Ann', 'Bob', 'Cleo', 'Dan', 'Eve', 'Finn', 'Gus', 'Hana', 'Ivo', 'Jan'];
const LAST = ['Lee', 'Marsh', 'Ng', 'Oder', 'Park'];
const pad2 = (n: number): string => String(n).padStart(2, '0');

const RAW: readonly Row[] = Array.from({ length: 40 }, (_, i): Row => {
  const first = FIRST[i % FIRST.length] as string;
  const last = LAST[i % LAST.length] as string;
  return {
    id: i + 1,
    name: i % 13 === 5 ? null : `${first} ${last}`,
    email: i % 11 === 3 ? null : i % 17 === 7 ? 'nobody' : i % 3 === 0 ? `${first.toLowerCase()}.${last.toLowerCase()}@example.org` : `${first.toLowerCase()}${i}@mail.de`,
    region: i % 19 === 9 ? null : (['US', 'DE', 'FR'][i % 3] as string),
    score: i % 7 === 2 ? null : ((i * 37) % 100) + (i % 4) * 0.25,
    flag: i % 5 === 4 ? null : i % 2 === 0,
    dob: `${1940 + ((i * 7) % 60)}-${pad2(1 + (i % 12))}-${pad2(1 + ((i * 3) % 28))}`,
  };
});

function csvText(rows: readonly Row[]): string {
  const cell = (v: Val): string => (v === null ? '' : String(v));
  return [COLS.join(','), ...rows.map((r) => COLS.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Reference semantics, in plain TypeScript.
// ---------------------------------------------------------------------------------------------

const and3 = (a: Tri, b: Tri): Tri => (a === false || b === false ? false : a === null || b === null ? null : true);
const or3 = (a: Tri, b: Tri): Tri => (a === true || b === true ? true : a === null || b === null ? null : false);
const not3 = (a: Tri): Tri => (a === null ? null : !a);

type Op = '=' | '<>' | '>' | '<' | '>=' | '<=';
function cmp(a: Val, op: Op, b: Val): Tri {
  if (a === null || b === null) return null;
  if (typeof a !== typeof b) throw new Error(`reference cannot compare ${typeof a} with ${typeof b}`);
  const c = a < b ? -1 : a > b ? 1 : 0;
  switch (op) {
    case '=': return c === 0;
    case '<>': return c !== 0;
    case '>': return c > 0;
    case '<': return c < 0;
    case '>=': return c >= 0;
    case '<=': return c <= 0;
  }
}

/** Mask conditions (`when`): SQL over the raw row, and its three-valued meaning. */
const CONDITIONS: Record<string, (r: Row) => Tri> = {
  flag: (r) => r.flag as Tri,
  'NOT flag': (r) => not3(r.flag as Tri),
  "region = 'US'": (r) => cmp(r.region, '=', 'US'),
  "region <> 'US'": (r) => cmp(r.region, '<>', 'US'),
  'score > 50': (r) => cmp(r.score, '>', 50),
  'score >= 20 AND flag': (r) => and3(cmp(r.score, '>=', 20), r.flag as Tri),
  "email LIKE '%@example.org'": (r) => (r.email === null ? null : (r.email as string).endsWith('@example.org')),
  "dob < DATE '1970-01-01'": (r) => cmp(r.dob, '<', '1970-01-01'),
  'id % 2 = 0': (r) => (r.id as number) % 2 === 0,
  'region IS NULL OR flag': (r) => or3(r.region === null, r.flag as Tri),
};
const CONDITION_TEXTS = Object.keys(CONDITIONS);

/** Row filters: SQL over the raw row and the principal (identity functions are constants). */
interface RowFilterDef {
  readonly eval: (r: Row, p: Principal) => Tri;
  /** Uses user_attribute('region'): several values fail closed (POLICY_NOT_APPLICABLE). */
  readonly singleRegion?: true;
}
const ROW_FILTERS: Record<string, RowFilterDef> = {
  "region = 'US'": { eval: (r) => cmp(r.region, '=', 'US') },
  'score > 20': { eval: (r) => cmp(r.score, '>', 20) },
  flag: { eval: (r) => r.flag as Tri },
  "region = user_attribute('region')": { eval: (r, p) => cmp(r.region, '=', p.attributes['region']?.[0] ?? null), singleRegion: true },
  "region IN ('US', 'DE')": { eval: (r) => (r.region === null ? null : r.region === 'US' || r.region === 'DE') },
  "user_in_group('hr') OR region = 'FR'": { eval: (r, p) => or3(p.groups.includes('hr'), cmp(r.region, '=', 'FR')) },
  "current_user_name() = 'alice' OR score < 40": { eval: (r, p) => or3(p.user === 'alice', cmp(r.score, '<', 40)) },
  'id <= 30': { eval: (r) => cmp(r.id, '<=', 30) },
};
const ROW_FILTER_TEXTS = Object.keys(ROW_FILTERS);

/** Documented strength order of transforms, strongest first (transforms.ts). */
const STRENGTH = ['null', 'redact', 'hmac', 'tokenize', 'mask', 'email_domain', 'mask_show_first', 'mask_show_last', 'age_bucket', 'zip3', 'year', 'round'];

interface Transform {
  readonly name: string;
  readonly arg?: number;
}
function parseT(text: string): Transform {
  const m = /^([a-z_]+)(?:\((-?\d+)\))?$/.exec(text);
  if (m === null || m[1] === undefined) throw new Error(`reference does not know transform ${text}`);
  return m[2] === undefined ? { name: m[1] } : { name: m[1], arg: Number(m[2]) };
}

/** DuckDB's CAST(x AS VARCHAR) of a raw value of the given type. */
function castText(v: Val, type: string): string | null {
  if (v === null) return null;
  if (type === 'DOUBLE' && typeof v === 'number') return Number.isInteger(v) ? `${v}.0` : String(v);
  return String(v);
}

const maskAll = (s: string): string => s.replace(/[\p{L}\p{N}]/gu, 'X');

/** Exact transform outputs (transforms.ts macros), computed in TypeScript. */
function applyTransform(t: Transform, v: Val, type: string): Val {
  const numeric = type === 'INTEGER' || type === 'DOUBLE';
  if (t.name === 'null') return null;
  if (t.name === 'round') {
    if (!numeric) return null; // cannot apply to the type: fail closed
    if (v === null) return null;
    const f = 10 ** (t.arg ?? 0);
    const x = v as number;
    return (Math.sign(x) * Math.round(Math.abs(x) * f)) / f;
  }
  const s = castText(v, type);
  if (s === null) return null;
  const n = t.arg ?? 0;
  switch (t.name) {
    case 'redact':
      return 'REDACTED';
    case 'mask':
      return s.replace(/[\p{Ll}\p{Lt}\p{Lm}\p{Lo}]/gu, 'x').replace(/\p{Lu}/gu, 'X').replace(/\p{Nd}/gu, '0');
    case 'mask_show_last':
      return s.length > n ? maskAll(s.slice(0, s.length - n)) + s.slice(s.length - n) : maskAll(s);
    case 'mask_show_first':
      return s.length > n ? s.slice(0, n) + maskAll(s.slice(n)) : maskAll(s);
    case 'email_domain':
      return s.includes('@') ? `XXXXX@${s.slice(s.lastIndexOf('@') + 1)}` : 'XXXXX';
    default:
      throw new Error(`reference does not implement ${t.name}`);
  }
}

/** How revealing a transform is: lower = shows less. Strength order first, then the parameter. */
function revealRank(t: Transform): [number, number] {
  return [STRENGTH.indexOf(t.name), t.arg ?? 0];
}

// Authored policy shape (the YAML/JSON users write, snake_case).
interface AuthoredSubjects {
  everyone?: boolean;
  users?: string[];
  groups?: string[];
  attributes?: Record<string, string[]>;
  except?: { users?: string[]; groups?: string[] };
}
type AuthoredResource = { database: string } | { dataset: string } | { tag: string };
interface AuthoredSelector {
  columns?: string[];
  tags?: string[];
}
interface AuthoredMask extends AuthoredSelector {
  transform: string;
  when?: string;
}
interface AuthoredPolicy {
  name: string;
  effect?: 'grant' | 'deny' | 'restrict';
  actions?: string[];
  subjects: AuthoredSubjects;
  resources: AuthoredResource[];
  row_filter?: string;
  hide?: AuthoredSelector;
  masks?: AuthoredMask[];
  valid_from?: string;
  valid_until?: string;
  enabled?: boolean;
}

function tagMatch(pattern: string, tag: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return tag.startsWith(pattern.slice(0, -1));
  return tag === pattern || tag.startsWith(`${pattern}.`);
}

/** The columns of db1.people one policy's resources cover (all of them for whole-dataset coverage). */
function coveredColumns(policy: AuthoredPolicy): { whole: boolean; columns: Set<Col> } {
  const columns = new Set<Col>();
  for (const r of policy.resources) {
    if ('database' in r ? r.database === 'db1' : 'dataset' in r ? r.dataset === DATASET : DATASET_TAGS.some((t) => tagMatch(r.tag, t))) {
      return { whole: true, columns: new Set(COLS) };
    }
    if ('tag' in r) for (const c of COLS) if (COLUMN_TAGS[c].some((t) => tagMatch(r.tag, t))) columns.add(c);
  }
  return { whole: false, columns };
}

function selectorHits(sel: AuthoredSelector, col: Col): boolean {
  if ((sel.columns ?? []).includes(col)) return true;
  const tags = [...DATASET_TAGS, ...COLUMN_TAGS[col]];
  return (sel.tags ?? []).some((p) => tags.some((t) => tagMatch(p, t)));
}

function subjectApplies(s: AuthoredSubjects, p: Principal): boolean {
  const inAny = (groups: readonly string[] | undefined): boolean => (groups ?? []).some((g) => p.groups.includes(g));
  if ((s.except?.users ?? []).includes(p.user) || inAny(s.except?.groups)) return false;
  const names = s.everyone === true || s.users !== undefined || s.groups !== undefined;
  if (names && !(s.everyone === true || (s.users ?? []).includes(p.user) || inAny(s.groups))) return false;
  return Object.entries(s.attributes ?? {}).every(([key, accepted]) => {
    const held = p.attributes[key] ?? [];
    return accepted.includes('*') ? held.length > 0 : held.some((v) => accepted.includes(v));
  });
}

function inForce(policy: AuthoredPolicy, now: number): boolean {
  if (policy.enabled === false) return false;
  if (policy.valid_from !== undefined && now < Date.parse(policy.valid_from)) return false;
  if (policy.valid_until !== undefined && now >= Date.parse(policy.valid_until)) return false;
  return true;
}

interface MaskedView {
  readonly columns: readonly Col[];
  readonly rows: readonly Row[];
}
type RefResult = { error: string; why: string } | { view: MaskedView };

/** What the principal sees of db1.people: an error code, or the visible columns of the visible rows, masked. */
function referenceView(policies: readonly AuthoredPolicy[], p: Principal, now: number): RefResult {
  const applicable = policies
    .filter((x) => inForce(x, now) && subjectApplies(x.subjects, p))
    .map((x) => ({ policy: x, effect: x.effect ?? 'grant', actions: x.actions ?? ['select'], cover: coveredColumns(x) }))
    .filter((x) => x.cover.whole || x.cover.columns.size > 0);
  const grants = applicable.filter((x) => x.effect === 'grant');
  const denies = applicable.filter((x) => x.effect === 'deny');
  const shaping = applicable.filter((x) => x.effect !== 'deny');

  const readableCols = COLS.filter(
    (c) =>
      grants.some((g) => g.actions.includes('select') && g.cover.columns.has(c)) &&
      !denies.some((d) => d.actions.includes('select') && d.cover.columns.has(c)) &&
      !shaping.some((s) => s.policy.hide !== undefined && selectorHits(s.policy.hide, c)),
  );
  const selectDenied = denies.some((d) => d.cover.whole && d.actions.includes('select'));
  const readable = !selectDenied && readableCols.length > 0;
  const describable = grants.length > 0 && !denies.some((d) => d.cover.whole && d.actions.includes('describe'));
  if (!readable && !describable) return { error: 'DATASET_NOT_FOUND', why: 'no visible grant' };
  if (!readable) return { error: 'ACCESS_DENIED', why: selectDenied ? 'denied' : 'no readable column' };

  const filters = shaping.flatMap((s) => (s.policy.row_filter === undefined ? [] : [s.policy.row_filter]));
  for (const f of filters) {
    const def = ROW_FILTERS[f];
    if (def === undefined) throw new Error(`reference does not know row filter ${f}`);
    if (def.singleRegion && (p.attributes['region'] ?? []).length > 1) return { error: 'POLICY_NOT_APPLICABLE', why: `${f} with several regions` };
  }
  const kept = RAW.filter((r) => filters.every((f) => (ROW_FILTERS[f] as RowFilterDef).eval(r, p) === true));

  const rules = new Map<Col, { t: Transform; when?: string }[]>();
  for (const c of readableCols) {
    rules.set(
      c,
      shaping.flatMap((s) => (s.policy.masks ?? []).filter((m) => selectorHits(m, c)).map((m) => ({ t: parseT(m.transform), ...(m.when === undefined ? {} : { when: m.when }) }))),
    );
  }
  const rows = kept.map((raw) => {
    const out = { ...raw };
    for (const c of readableCols) {
      // Every rule whose condition is not false (NULL masks) applies; the least revealing one wins.
      const candidates = (rules.get(c) ?? []).filter((rule) => {
        if (rule.when === undefined) return true;
        const cond = CONDITIONS[rule.when];
        if (cond === undefined) throw new Error(`reference does not know condition ${rule.when}`);
        return cond(raw) !== false;
      });
      if (candidates.length === 0) continue;
      const best = candidates.reduce((a, b) => {
        const [sa, pa] = revealRank(a.t);
        const [sb, pb] = revealRank(b.t);
        return sb < sa || (sb === sa && pb < pa) ? b : a;
      });
      out[c] = applyTransform(best.t, raw[c], TYPES[c]);
    }
    return out;
  });
  return { view: { columns: readableCols, rows } };
}

// ---------------------------------------------------------------------------------------------
// Queries: a small generated language, rendered to SQL and evaluated over the masked view.
// ---------------------------------------------------------------------------------------------

type PredOp = '=' | '<>' | '>' | '<' | 'IS NULL' | 'IS NOT NULL';
interface Pred {
  col: Col;
  op: PredOp;
  lit: Val;
}
interface QuerySpec {
  /**
   * star: SELECT *; cols: SELECT a, b; exclude: SELECT * EXCLUDE (a); distinct: SELECT DISTINCT a;
   * count: count(*); countcol: count(a); minmax: min(a), max(a); group: a, count(*) GROUP BY a.
   */
  kind: 'star' | 'cols' | 'exclude' | 'distinct' | 'count' | 'countcol' | 'minmax' | 'group';
  cols: Col[];
  where: Pred | null;
  /**
   * An error-oracle probe (docs/security.md, "The evaluation barrier"), AND-ed to the WHERE: a call
   * that fails exactly on rows where `probe` holds. It must fail when a row the user can see
   * satisfies it, and never because of a row the policy hides.
   */
  probe: Pred | null;
  /** Only for star, cols and exclude. */
  orderById: boolean;
  /** FROM db1.people AS p, with every column reference qualified as p.col */
  alias: boolean;
}

function literalSql(col: Col, v: Val): string {
  if (typeof v === 'string') return TYPES[col] === 'DATE' ? `DATE '${v}'` : `'${v.replaceAll("'", "''")}'`;
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return String(v);
}

const ordered = (q: QuerySpec): boolean => q.orderById && (q.kind === 'star' || q.kind === 'cols' || q.kind === 'exclude');
const firstCol = (q: QuerySpec): Col => q.cols[0] ?? 'id';

function querySql(q: QuerySpec): string {
  const ref = (c: Col): string => (q.alias ? `p.${c}` : c);
  const from = q.alias ? `${DATASET} AS p` : DATASET;
  const w = q.where;
  const predSql = (pred: Pred): string => `${ref(pred.col)} ${pred.op}${pred.op.startsWith('IS') ? '' : ` ${literalSql(pred.col, pred.lit)}`}`;
  const conditions = [
    ...(w === null ? [] : [predSql(w)]),
    ...(q.probe === null ? [] : [`CAST(hamming(CASE WHEN ${predSql(q.probe)} THEN 'xx' ELSE 'x' END, 'x') AS VARCHAR) IS DISTINCT FROM '~'`]),
  ];
  const where = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
  const order = ordered(q) ? ` ORDER BY ${ref('id')}` : '';
  const a = ref(firstCol(q));
  switch (q.kind) {
    case 'star':
      return `SELECT * FROM ${from}${where}${order}`;
    case 'cols':
      return `SELECT ${q.cols.map(ref).join(', ')} FROM ${from}${where}${order}`;
    case 'exclude':
      return `SELECT * EXCLUDE (${firstCol(q)}) FROM ${from}${where}${order}`;
    case 'distinct':
      return `SELECT DISTINCT ${a} FROM ${from}${where}`;
    case 'count':
      return `SELECT count(*) AS n FROM ${from}${where}`;
    case 'countcol':
      return `SELECT count(${a}) AS n FROM ${from}${where}`;
    case 'minmax':
      return `SELECT min(${a}) AS lo, max(${a}) AS hi FROM ${from}${where}`;
    case 'group':
      return `SELECT ${a}, count(*) AS n FROM ${from}${where} GROUP BY ${a}`;
  }
}

function namedColumns(q: QuerySpec): Col[] {
  const named: Col[] = [];
  if (q.kind === 'cols') named.push(...q.cols);
  if (q.kind !== 'star' && q.kind !== 'cols' && q.kind !== 'count') named.push(firstCol(q));
  if (q.where !== null) named.push(q.where.col);
  if (q.probe !== null) named.push(q.probe.col);
  if (ordered(q)) named.push('id');
  return named;
}

function predHolds(pred: Pred, row: Row): boolean {
  const v = row[pred.col];
  if (pred.op === 'IS NULL') return v === null;
  if (pred.op === 'IS NOT NULL') return v !== null;
  return cmp(v, pred.op, pred.lit) === true;
}

/** Expected rows; `keys` (when ORDER BY id) are the sort keys the rows must be ascending in. */
type Expected = { error: string; why: string; alsoSeen?: string } | { rows: Val[][]; keys?: Val[]; orError?: string };

function expectedOutcome(policies: readonly AuthoredPolicy[], p: Principal, q: QuerySpec, now: number): Expected {
  const ref = referenceView(policies, p, now);
  if ('error' in ref) return ref;
  const { columns, rows } = ref.view;
  const hidden = namedColumns(q).find((c) => !columns.includes(c));
  if (hidden !== undefined) {
    // A hidden column in EXCLUDE (star expansion is bound first) can come back as QUERY_FAILED; the
    // dedicated EXCLUDE property below pins that discrepancy, so this property tolerates it.
    const excludedHidden = q.kind === 'exclude' && !columns.includes(firstCol(q));
    return { error: 'COLUMN_ACCESS_DENIED', why: `${hidden} is not readable`, ...(excludedHidden ? { alsoSeen: 'QUERY_FAILED' } : {}) };
  }
  const selected = q.where === null ? rows : rows.filter((r) => predHolds(q.where as Pred, r));
  // The probe fails on a visible row where it holds and the WHERE does too (the engine must evaluate
  // it there); where only rows the WHERE removes satisfy it, SQL leaves the evaluation order open.
  // Rows the policy hides never count.
  let orError: string | undefined;
  if (q.probe !== null) {
    if (selected.some((r) => predHolds(q.probe as Pred, r))) return { error: 'QUERY_FAILED', why: 'the probe holds on a visible row' };
    if (rows.some((r) => predHolds(q.probe as Pred, r))) orError = 'QUERY_FAILED';
  }
  const withProbe = (e: Expected): Expected => (orError === undefined || 'error' in e ? e : { ...e, orError });
  return withProbe(expectedRows(q, columns, selected));
}

function expectedRows(q: QuerySpec, columns: readonly Col[], selected: readonly Row[]): Expected {
  const a = firstCol(q);
  const distinct = (values: readonly Val[]): Val[] => [...new Map(values.map((v) => [JSON.stringify(v), v])).values()];
  switch (q.kind) {
    case 'count':
      return { rows: [[String(selected.length)]] };
    case 'countcol':
      return { rows: [[String(selected.filter((r) => r[a] !== null).length)]] };
    case 'minmax': {
      const values = selected.map((r) => r[a]).filter((v) => v !== null).sort((x, y) => compareKeys(x, y));
      return { rows: [[values[0] ?? null, values[values.length - 1] ?? null]] };
    }
    case 'distinct':
      return { rows: distinct(selected.map((r) => r[a])).map((v) => [v]) };
    case 'group': {
      const counts = new Map<string, [Val, number]>();
      for (const r of selected) {
        const key = JSON.stringify(r[a]);
        counts.set(key, [r[a], (counts.get(key)?.[1] ?? 0) + 1]);
      }
      return { rows: [...counts.values()].map(([v, n]) => [v, String(n)]) };
    }
    case 'star':
    case 'cols':
    case 'exclude': {
      const out = q.kind === 'star' ? columns : q.kind === 'exclude' ? columns.filter((c) => c !== a) : q.cols;
      // Excluding the only readable column leaves an empty select list: DuckDB refuses it.
      if (out.length === 0) return { error: 'QUERY_FAILED', why: 'empty select list' };
      const projected = selected.map((r) => out.map((c) => r[c]));
      return ordered(q) ? { rows: projected, keys: selected.map((r) => r.id) } : { rows: projected };
    }
  }
}

const rowKey = (row: readonly unknown[]): string => JSON.stringify(row);
const sortedKeys = (rows: readonly (readonly unknown[])[]): string[] => rows.map(rowKey).sort();

/** Compares actual rows with expected ones: as multisets, and in ORDER BY segments when keys are given. */
function rowsMatch(expected: { rows: Val[][]; keys?: Val[] }, actual: readonly unknown[][]): boolean {
  if (expected.rows.length !== actual.length) return false;
  if (expected.keys === undefined) return assertEqualArrays(sortedKeys(expected.rows), sortedKeys(actual));
  const keys = expected.keys;
  // ascending, NULLS LAST (DuckDB's default); rows with equal keys may come in any order
  const order = expected.rows.map((_, i) => i).sort((a, b) => compareKeys(keys[a] ?? null, keys[b] ?? null));
  let start = 0;
  while (start < order.length) {
    let end = start + 1;
    while (end < order.length && compareKeys(keys[order[start] as number] ?? null, keys[order[end] as number] ?? null) === 0) end++;
    const want = order.slice(start, end).map((i) => expected.rows[i] as Val[]);
    if (!assertEqualArrays(sortedKeys(want), sortedKeys(actual.slice(start, end)))) return false;
    start = end;
  }
  return true;
}

function compareKeys(a: Val, b: Val): number {
  if (a === null || b === null) return a === null ? (b === null ? 0 : 1) : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function assertEqualArrays(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// ---------------------------------------------------------------------------------------------
// Running against Veil.
// ---------------------------------------------------------------------------------------------

let home: string;
let runtime: VeilRuntime;
const DAY = 86_400_000;

type Actual = { error: string; message: string } | { rows: unknown[][] };

async function runQuery(p: Principal, sql: string): Promise<Actual> {
  return pipelineOutcome(runtime.queries, p, sql);
}

async function applyPolicies(policies: readonly AuthoredPolicy[]): Promise<void> {
  await runtime.policies.apply(policies.map((x) => validatePolicy(structuredClone(x))), { prune: true });
}

/** Applies the policies one call at a time (distinct creation times), after removing all others. */
async function createInOrder(policies: readonly AuthoredPolicy[]): Promise<void> {
  await runtime.policies.apply([], { prune: true });
  for (const x of policies) await runtime.policies.apply([validatePolicy(structuredClone(x))]);
}

interface PrincipalSpec {
  user: string;
  groups: string[];
  region: string[];
  dept: string[];
}

async function principalFor(spec: PrincipalSpec): Promise<Principal> {
  const attributes: Record<string, string | string[]> = {};
  if (spec.region.length > 0) attributes['region'] = spec.region.length === 1 ? (spec.region[0] as string) : spec.region;
  if (spec.dept.length > 0) attributes['dept'] = spec.dept.length === 1 ? (spec.dept[0] as string) : spec.dept;
  await runtime.users.put({ name: spec.user, groups: spec.groups, attributes });
  return principalOf(await runtime.users.get(spec.user));
}

function describeCase(title: string, p: Principal, policies: readonly AuthoredPolicy[], sql: string, expected: unknown, actual: unknown): string {
  const show = (v: unknown): string => {
    const text = JSON.stringify(v);
    return text.length > 4000 ? `${text.slice(0, 4000)}…` : text;
  };
  return [
    title,
    `principal: ${JSON.stringify(p)}`,
    'policies:',
    ...policies.map((x) => `  ${JSON.stringify(x)}`),
    `query: ${sql}`,
    `expected: ${show(expected)}`,
    `actual:   ${show(actual)}`,
  ].join('\n');
}

function sameOutcome(expected: Expected, actual: Actual): boolean {
  if ('rows' in expected && expected.orError !== undefined && 'error' in actual && actual.error === expected.orError) return true;
  if ('error' in expected || 'error' in actual) {
    return 'error' in expected && 'error' in actual && (expected.error === actual.error || expected.alsoSeen === actual.error);
  }
  return rowsMatch(expected, actual.rows);
}

before(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'veil-policy-diff-'));
  mkdirSync(path.join(home, 'storage', 't'), { recursive: true });
  writeFileSync(path.join(home, 'storage', 't', 'data.csv'), csvText(RAW));
  runtime = await openRuntime(home);
  await runtime.catalog.register({
    name: DATASET,
    location: 't/data.csv',
    tags: [...DATASET_TAGS],
    columnTags: Object.fromEntries(COLS.map((c) => [c, [...COLUMN_TAGS[c]]])),
    columnTypes: { ...TYPES },
  });
});

after(async () => {
  await runtime?.close();
  if (home !== undefined) rmSync(home, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Arbitraries.
// ---------------------------------------------------------------------------------------------

const POLICY_USERS = ['alice', 'bob', 'carol', 'dave'];
const GROUPS = ['analysts', 'hr', 'auditors'];
const TAG_PATTERNS = ['hr', 'hr.*', '*', 'pii', 'pii.*', 'pii.email', 'phi', 'metric', 'contact', 'geo', 'fin'];
const STRING_TAGS = ['pii', 'pii.*', 'pii.email', 'pii.name', 'contact', 'geo'];

const principalArb: fc.Arbitrary<PrincipalSpec> = fc.record({
  user: fc.constantFrom('alice', 'bob', 'carol'),
  groups: fc.subarray(GROUPS),
  region: fc.constantFrom<string[]>([], ['US'], ['DE'], ['FR'], ['US', 'FR']),
  dept: fc.constantFrom<string[]>([], ['hr'], ['eng']),
});

const subjectsArb: fc.Arbitrary<AuthoredSubjects> = fc
  .tuple(
    fc.oneof(
      { weight: 8, arbitrary: fc.constant<AuthoredSubjects>({ everyone: true }) },
      { weight: 2, arbitrary: fc.subarray(POLICY_USERS, { minLength: 1 }).map((users): AuthoredSubjects => ({ users })) },
      { weight: 2, arbitrary: fc.subarray(GROUPS, { minLength: 1 }).map((groups): AuthoredSubjects => ({ groups })) },
      {
        weight: 2,
        arbitrary: fc
          .constantFrom<Record<string, string[]>>({ region: ['US'] }, { region: ['DE', 'FR'] }, { region: ['*'] }, { dept: ['hr'] }, { region: ['US'], dept: ['hr'] })
          .map((attributes): AuthoredSubjects => ({ attributes })),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.subarray(GROUPS, { minLength: 1 }), fc.constantFrom<Record<string, string[]>>({ region: ['US'] }, { dept: ['*'] }))
          .map(([groups, attributes]): AuthoredSubjects => ({ groups, attributes })),
      },
    ),
    fc.option(
      fc.oneof(
        fc.subarray(POLICY_USERS, { minLength: 1 }).map((users) => ({ users })),
        fc.subarray(GROUPS, { minLength: 1 }).map((groups) => ({ groups })),
      ),
      { nil: undefined, freq: 4 },
    ),
  )
  .map(([s, except]) => (except === undefined ? s : { ...s, except }));

const resourceArb: fc.Arbitrary<AuthoredResource> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<AuthoredResource>({ dataset: DATASET }) },
  { weight: 2, arbitrary: fc.constant<AuthoredResource>({ database: 'db1' }) },
  { weight: 1, arbitrary: fc.constantFrom<AuthoredResource>({ database: 'db2' }, { dataset: 'db1.other' }) },
  { weight: 3, arbitrary: fc.constantFrom(...TAG_PATTERNS).map((tag): AuthoredResource => ({ tag })) },
);

const selectorArb = (columns: readonly string[], tags: readonly string[]): fc.Arbitrary<AuthoredSelector> =>
  fc.oneof(
    fc.subarray([...columns], { minLength: 1, maxLength: Math.min(3, columns.length) }).map((cs): AuthoredSelector => ({ columns: cs })),
    fc.subarray([...tags], { minLength: 1, maxLength: Math.min(2, tags.length) }).map((ts): AuthoredSelector => ({ tags: ts })),
  );

const whenArb = fc.option(fc.constantFrom(...CONDITION_TEXTS), { nil: undefined, freq: 2 });

function maskArb(transformsFor: { strings: readonly string[]; numbers: readonly string[]; any: readonly string[] }): fc.Arbitrary<AuthoredMask> {
  const make = (sel: fc.Arbitrary<AuthoredSelector>, transforms: readonly string[]): fc.Arbitrary<AuthoredMask> =>
    fc.tuple(sel, fc.constantFrom(...transforms), whenArb).map(([s, transform, when]) => ({ ...s, transform, ...(when === undefined ? {} : { when }) }));
  return fc.oneof(
    { weight: 4, arbitrary: make(selectorArb(STRING_COLS, STRING_TAGS), transformsFor.strings) },
    { weight: 2, arbitrary: make(selectorArb(['score', 'id'], ['metric', 'metric.score']), transformsFor.numbers) },
    { weight: 1, arbitrary: make(selectorArb(COLS, TAG_PATTERNS), transformsFor.any) },
  );
}

/** Transforms that keep every column's type: values are exactly predictable. */
const TYPE_PRESERVING = {
  strings: ['null', 'redact', 'mask', 'mask_show_last(2)', 'mask_show_first(1)', 'email_domain', 'round(0)'],
  numbers: ['null', 'round(0)'],
  any: ['null'],
};

type Window = 'always' | 'past' | 'future' | 'current' | 'disabled';
interface PolicySpec {
  letter: string;
  effect: 'grant' | 'deny' | 'restrict';
  actions: string[] | null;
  subjects: AuthoredSubjects;
  resources: AuthoredResource[];
  rowFilter: string | null;
  hide: AuthoredSelector | null;
  masks: AuthoredMask[];
  window: Window;
}

function policySpecArb(masks: fc.Arbitrary<AuthoredMask>): fc.Arbitrary<PolicySpec> {
  const common = {
    letter: fc.constantFrom('a', 'b', 'm', 'z'),
    subjects: subjectsArb,
    resources: fc.array(resourceArb, { minLength: 1, maxLength: 2 }),
    window: fc.constantFrom<Window>('always', 'always', 'always', 'always', 'current', 'past', 'future', 'disabled'),
  };
  const shaping = {
    rowFilter: fc.option(fc.constantFrom(...ROW_FILTER_TEXTS), { nil: null, freq: 2 }),
    hide: fc.option(selectorArb(COLS, TAG_PATTERNS), { nil: null, freq: 4 }),
    masks: fc.oneof(fc.constant<AuthoredMask[]>([]), fc.array(masks, { minLength: 1, maxLength: 2 })),
  };
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        ...common,
        ...shaping,
        effect: fc.constant<'grant'>('grant'),
        actions: fc.constantFrom<string[] | null>(null, null, null, ['select'], ['describe'], ['describe', 'select']),
      }),
    },
    { weight: 3, arbitrary: fc.record({ ...common, ...shaping, effect: fc.constant<'restrict'>('restrict'), actions: fc.constant(null) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        ...common,
        effect: fc.constant<'deny'>('deny'),
        actions: fc.constantFrom<string[] | null>(null, ['describe'], ['describe', 'select']),
        rowFilter: fc.constant(null),
        hide: fc.constant(null),
        masks: fc.constant<AuthoredMask[]>([]),
      }),
    },
  );
}

/** The authored form of generated policies, with validity windows relative to `now`. */
function authored(specs: readonly PolicySpec[], now: number): AuthoredPolicy[] {
  const iso = (t: number): string => new Date(t).toISOString();
  return specs.map((s, i) => {
    const p: AuthoredPolicy = { name: `${s.letter}${i}`, effect: s.effect, subjects: s.subjects, resources: s.resources };
    if (s.actions !== null) p.actions = s.actions;
    if (s.rowFilter !== null) p.row_filter = s.rowFilter;
    if (s.hide !== null) p.hide = s.hide;
    if (s.masks.length > 0) p.masks = s.masks;
    if (s.window === 'past') Object.assign(p, { valid_from: iso(now - 3 * DAY), valid_until: iso(now - DAY) });
    if (s.window === 'future') p.valid_from = iso(now + DAY);
    if (s.window === 'current') Object.assign(p, { valid_from: iso(now - DAY), valid_until: iso(now + DAY) });
    if (s.window === 'disabled') p.enabled = false;
    return p;
  });
}

/** A baseline grant, often present so that many runs reach the row-level rules. */
const BASE_GRANT: PolicySpec = {
  letter: 'g',
  effect: 'grant',
  actions: null,
  subjects: { everyone: true },
  resources: [{ dataset: DATASET }],
  rowFilter: null,
  hide: null,
  masks: [],
  window: 'always',
};

/** Often a baseline grant (sometimes shaping too), then 1–5 random policies. */
function policySetArb(masks: fc.Arbitrary<AuthoredMask>): fc.Arbitrary<PolicySpec[]> {
  const baseArb = fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: fc.constant(BASE_GRANT) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.array(masks, { minLength: 1, maxLength: 2 }), fc.option(fc.constantFrom(...ROW_FILTER_TEXTS), { nil: null, freq: 2 }))
        .map(([m, rowFilter]): PolicySpec => ({ ...BASE_GRANT, masks: m, rowFilter })),
    },
  );
  return fc
    .tuple(baseArb, fc.array(policySpecArb(masks), { minLength: 1, maxLength: 5 }))
    .map(([base, rest]) => (base === null ? rest : [base, ...rest]));
}

/** Literals per column: raw values, masked forms of them, and values no row has. */
const LITERALS: Record<Col, readonly Val[]> = (() => {
  const out = {} as Record<Col, Val[]>;
  for (const c of COLS) {
    const raw = [...new Set(RAW.map((r) => r[c]).filter((v) => v !== null))].slice(0, 6) as Val[];
    const masked =
      TYPES[c] === 'VARCHAR'
        ? raw.slice(0, 3).flatMap((v) => ['mask', 'mask_show_last(2)', 'mask_show_first(1)', 'email_domain'].map((t) => applyTransform(parseT(t), v, 'VARCHAR')))
        : [];
    const extra: Val[] = TYPES[c] === 'VARCHAR' ? ['REDACTED', 'M', 'XXXXX'] : TYPES[c] === 'DOUBLE' ? [20, 50, 74] : TYPES[c] === 'INTEGER' ? [20] : TYPES[c] === 'DATE' ? ['1970-01-01'] : [];
    out[c] = [...new Set([...raw, ...masked, ...extra])].filter((v) => v !== null);
  }
  return out;
})();

const predArb: fc.Arbitrary<Pred> = fc.constantFrom(...COLS).chain((col) => {
  const ops: PredOp[] = TYPES[col] === 'BOOLEAN' ? ['=', '<>', 'IS NULL', 'IS NOT NULL'] : ['=', '<>', '>', '<', 'IS NULL', 'IS NOT NULL'];
  return fc.record({ col: fc.constant(col), op: fc.constantFrom(...ops), lit: fc.constantFrom(...LITERALS[col]) });
});

const queryArb: fc.Arbitrary<QuerySpec> = fc.record({
  kind: fc.constantFrom<QuerySpec['kind']>('star', 'star', 'cols', 'cols', 'exclude', 'distinct', 'count', 'countcol', 'minmax', 'group'),
  cols: fc.shuffledSubarray([...COLS], { minLength: 1, maxLength: 4 }),
  where: fc.option(predArb, { nil: null, freq: 2 }),
  probe: fc.option(predArb, { nil: null, freq: 3 }),
  orderById: fc.boolean(),
  alias: fc.boolean(),
});

// ---------------------------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------------------------

const CASES = Number(process.env['VEIL_PBT_RUNS'] ?? 150);
/** VEIL_PBT_SEED replays a run that CI reported (fast-check prints its seed). */
const SEED = process.env['VEIL_PBT_SEED'] === undefined ? undefined : Number(process.env['VEIL_PBT_SEED']);

test('sanity: with a plain grant every raw row comes back unchanged', async () => {
  await applyPolicies(authored([BASE_GRANT], Date.now()));
  const result = await runQuery(await principalFor({ user: 'alice', groups: [], region: [], dept: [] }), `SELECT * FROM ${DATASET} ORDER BY id`);
  assert.ok('rows' in result, JSON.stringify(result));
  assert.deepEqual(result.rows, RAW.map((r) => COLS.map((c) => r[c])));
});

test('differential: queries over random policies match the plain-TypeScript reference', async (t) => {
  // What the runs reached, reported as a diagnostic so a vacuous run (all errors) is visible.
  const seen = new Map<string, number>();
  const count = (key: string): void => void seen.set(key, (seen.get(key) ?? 0) + 1);
  await fc.assert(
    fc.asyncProperty(principalArb, policySetArb(maskArb(TYPE_PRESERVING)), fc.array(queryArb, { minLength: 1, maxLength: 3 }), async (who, specs, queries) => {
      const now = Date.now();
      const policies = authored(specs, now);
      await applyPolicies(policies);
      const p = await principalFor(who);
      for (const q of queries) {
        const sql = querySql(q);
        const expected = expectedOutcome(policies, p, q, now);
        const actual = await runQuery(p, sql);
        if (!sameOutcome(expected, actual)) throw new Error(describeCase('product and reference disagree', p, policies, sql, expected, actual));
        count('error' in expected ? expected.error : expected.rows.length === 0 ? 'rows: none' : 'rows: some');
        if (q.probe !== null) count('error' in expected ? `probe: ${expected.why}` : expected.orError === undefined ? 'probe: holds on no row the user can see' : 'probe: holds only on rows the WHERE removes');
      }
      const view = referenceView(policies, p, now);
      if ('view' in view) {
        if (view.view.rows.length < RAW.length) count('view: row-filtered');
        if (view.view.columns.length < COLS.length) count('view: some columns hidden');
        if (view.view.rows.some((r) => view.view.columns.some((c) => r[c] !== (RAW.find((x) => x.id === r.id) ?? r)[c]))) count('view: some cells masked');
      }
    }),
    {
      numRuns: CASES,
      includeErrorInReport: true,
      ...(SEED === undefined ? {} : { seed: SEED }),
      // Found by CI (seed 1202959850): excluding the only readable column empties the select list,
      // and DuckDB said so before binding ORDER BY on the hidden id.
      examples: [
        [
          { user: 'alice', groups: [], region: [], dept: [] },
          [{ letter: 'a', subjects: { everyone: true }, resources: [{ tag: 'metric' }], window: 'always', rowFilter: null, hide: null, masks: [{ columns: ['dob'], transform: 'null' }], effect: 'grant', actions: null }],
          [{ kind: 'exclude', cols: ['score', 'email'], where: null, probe: null, orderById: true, alias: false }],
        ],
      ],
    },
  );
  t.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
});

test('metamorphic: the result does not depend on the order in which policies were created', async () => {
  const wide = {
    strings: [...TYPE_PRESERVING.strings, 'mask_show_last(4)', "redact('***')", 'mask_show_first(3)'],
    numbers: ['null', 'round(0)', 'round(1)', 'redact'],
    any: ['null', 'redact'],
  };
  await fc.assert(
    fc.asyncProperty(principalArb, policySetArb(maskArb(wide)), queryArb, async (who, specs, q) => {
      const now = Date.now();
      const policies = authored(specs, now);
      const sql = querySql(q);
      const p = await principalFor(who);
      await createInOrder(policies);
      const first = await runQuery(p, sql);
      await createInOrder([...policies].reverse());
      const second = await runQuery(p, sql);
      const same =
        'error' in first || 'error' in second
          ? 'error' in first && 'error' in second && first.error === second.error
          : assertEqualArrays(sortedKeys(first.rows), sortedKeys(second.rows));
      if (!same) throw new Error(describeCase('creation order changed the result', p, policies, sql, first, second));
    }),
    { numRuns: Math.ceil(CASES / 3), includeErrorInReport: true },
  );
});

test('EXCLUDE: naming a hidden column in EXCLUDE answers COLUMN_ACCESS_DENIED, like any other reference to it', async () => {
  const hideArb = fc.oneof(
    fc.subarray([...COLS], { minLength: 1, maxLength: 3 }).map((columns): AuthoredSelector => ({ columns })),
    fc.constantFrom('pii', 'pii.email', 'phi', 'metric', 'geo').map((tag): AuthoredSelector => ({ tags: [tag] })),
  );
  await fc.assert(
    fc.asyncProperty(hideArb, fc.constantFrom(...COLS), fc.boolean(), async (hide, col, alias) => {
      const now = Date.now();
      const policies: AuthoredPolicy[] = [{ ...authored([BASE_GRANT], now)[0] as AuthoredPolicy, hide }];
      await applyPolicies(policies);
      const p = await principalFor({ user: 'bob', groups: [], region: [], dept: [] });
      const q: QuerySpec = { kind: 'exclude', cols: [col], where: null, probe: null, orderById: false, alias };
      const sql = querySql(q);
      const expected = expectedOutcome(policies, p, q, now);
      const strict = 'error' in expected ? { error: expected.error, why: expected.why } : expected;
      const actual = await runQuery(p, sql);
      if (!sameOutcome(strict, actual)) throw new Error(describeCase('EXCLUDE of a hidden column', p, policies, sql, strict, actual));
    }),
    // The minimal case found when this test was written runs first, so the report is always that one.
    { numRuns: Math.ceil(CASES / 3), includeErrorInReport: true, examples: [[{ columns: ['name'] }, 'name', false]] },
  );
});

test('parameterised transforms: of several masks of one transform, the least revealing wins per cell', async () => {
  const layerArb = fc.oneof(
    fc.record({ col: fc.constant<Col>('name'), transform: fc.integer({ min: 0, max: 4 }).map((n) => `mask_show_last(${n})`), when: whenArb }),
    fc.record({ col: fc.constant<Col>('score'), transform: fc.integer({ min: 0, max: 2 }).map((n) => `round(${n})`), when: whenArb }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), layerArb), { minLength: 2, maxLength: 3 }), async (layers) => {
      const now = Date.now();
      const policies: AuthoredPolicy[] = [
        ...authored([BASE_GRANT], now),
        ...layers.map(([letter, l], i): AuthoredPolicy => ({
          name: `${letter}${i}`,
          effect: 'restrict',
          subjects: { everyone: true },
          resources: [{ dataset: DATASET }],
          masks: [{ columns: [l.col], transform: l.transform, ...(l.when === undefined ? {} : { when: l.when }) }],
        })),
      ];
      await applyPolicies(policies);
      const p = await principalFor({ user: 'bob', groups: [], region: [], dept: [] });
      const q: QuerySpec = { kind: 'cols', cols: ['id', 'name', 'score'], where: null, probe: null, orderById: true, alias: false };
      const sql = querySql(q);
      const expected = expectedOutcome(policies, p, q, now);
      const actual = await runQuery(p, sql);
      if (!sameOutcome(expected, actual)) throw new Error(describeCase('a more revealing mask won', p, policies, sql, expected, actual));
    }),
    {
      numRuns: Math.ceil(CASES / 3),
      includeErrorInReport: true,
      examples: [[[['a', { col: 'name', transform: 'mask_show_last(4)', when: undefined }], ['b', { col: 'name', transform: 'mask_show_last(1)', when: undefined }]]]],
    },
  );
});

test('cross-type masks: a conditional string transform on a non-string column masks where the condition holds', async () => {
  const nonString: Col[] = ['id', 'score', 'flag', 'dob'];
  const layerArb = fc.record({
    col: fc.constantFrom(...nonString),
    transform: fc.constantFrom('redact', 'mask', 'mask_show_last(2)', 'email_domain'),
    when: whenArb,
  });
  await fc.assert(
    fc.asyncProperty(fc.array(layerArb, { minLength: 1, maxLength: 2 }), async (layers) => {
      const now = Date.now();
      const policies: AuthoredPolicy[] = [
        ...authored([BASE_GRANT], now),
        ...layers.map((l, i): AuthoredPolicy => ({
          name: `r${i}`,
          effect: 'restrict',
          subjects: { everyone: true },
          resources: [{ dataset: DATASET }],
          masks: [{ columns: [l.col], transform: l.transform, ...(l.when === undefined ? {} : { when: l.when }) }],
        })),
      ];
      await applyPolicies(policies);
      const p = await principalFor({ user: 'bob', groups: [], region: [], dept: [] });
      const sql = `SELECT * FROM ${DATASET}`;
      const ref = referenceView(policies, p, now);
      assert.ok('view' in ref);
      const actual = await runQuery(p, sql);
      // Masked cells carry text; unmasked cells of such a column may be the raw value or its text.
      const text = (v: unknown, col: Col): unknown => (v === null || typeof v === 'string' ? v : castText(v as Val, TYPES[col]));
      const expectedRows = ref.view.rows.map((r) => COLS.map((c) => text(r[c], c)));
      const ok = 'rows' in actual && assertEqualArrays(sortedKeys(expectedRows), sortedKeys(actual.rows.map((r) => r.map((v, i) => text(v, COLS[i] as Col)))));
      if (!ok) throw new Error(describeCase('cross-type mask', p, policies, sql, { rows: expectedRows }, actual));
    }),
    { numRuns: Math.ceil(CASES / 3), includeErrorInReport: true, examples: [[[{ col: 'id', transform: 'redact', when: 'flag' }]]] },
  );
});
