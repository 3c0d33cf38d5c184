import { createHmac } from 'node:crypto';
import { INTERNAL_SCHEMA, sqlString } from '../engine/index.ts';
import { InvalidPolicyError } from '../errors/index.ts';

/**
 * Every built-in column transform, one entry each: its signature, how much it reveals (the
 * strength order and what its parameter adds), the SQL it compiles to, the type it produces, and
 * the macros behind it. A new transform is one entry here and one golden test in
 * transforms.test.ts; the parser, the resolver's strength order, the scan builder and the engine's
 * macros all read this table. Exact outputs are documented in docs/policies.md.
 */

/** How a column's DuckDB type is treated by transforms. */
export type TypeFamily = 'numeric' | 'temporal' | 'text' | 'other';

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;
const TEMPORAL_TYPE = /^(DATE|TIMESTAMP.*)$/;

export function typeFamily(type: string): TypeFamily {
  if (NUMERIC_TYPE.test(type)) return 'numeric';
  if (TEMPORAL_TYPE.test(type)) return 'temporal';
  if (type === 'VARCHAR') return 'text';
  return 'other';
}

/** Facts a transform needs that vary per deployment or per query. */
export interface TransformContext {
  /** The year queries are evaluated in (HIPAA year clamping, age buckets). */
  readonly referenceDate: Date;
}

/** What a transform's SQL is built from: the raw column and its type, the arguments, the context. */
export interface SqlInput {
  readonly column: string;
  readonly type: string;
  readonly family: TypeFamily;
  readonly args: readonly (string | number)[];
  readonly context: TransformContext;
}

/**
 * What a transform's Trino form is built from (docs/scale-out.md): the column as a Trino
 * identifier, its Trino type as Trino names it, the arguments, and the reference year.
 */
export interface TrinoInput {
  readonly column: string;
  readonly trinoType: string;
  readonly family: TypeFamily;
  readonly args: readonly (string | number)[];
  readonly referenceYear: number;
  readonly zip3Restricted: readonly string[];
}

/** Key material the macros bake in (never in query text), derived once per engine start. */
export interface MacroKeys {
  readonly hmacInnerPad: string;
  readonly hmacOuterPad: string;
  readonly tokenKey: string;
  /** The zip3 prefixes that read as '000', as a SQL list literal. */
  readonly zip3Restricted: string;
}

export interface TransformDefinition {
  /** Argument kinds, the last `optionalArgs` of them optional. */
  readonly args: readonly ('integer' | 'string')[];
  readonly optionalArgs: number;
  /** A refusal for arguments of the right kind but the wrong value, or undefined. */
  validate?(args: readonly (string | number)[]): string | undefined;
  /**
   * Within this transform, how much its arguments reveal (higher reveals more): mask_show_last(4)
   * shows more than (1); a 20-year age bucket less than a 10-year one. Absent: the arguments
   * reveal nothing more or less.
   */
  revealing?(args: readonly (string | number)[]): number;
  /** The SQL over the raw column, or undefined when the transform cannot apply to its type. */
  sql(input: SqlInput): string | undefined;
  /** The type it produces: the column's own, or text. */
  readonly output: 'same' | 'VARCHAR';
  /**
   * The same output in Trino's SQL dialect, for Trino's column masks (src/trino/), or undefined
   * where there is none: Veil then denies the table to Trino rather than leave the column clear.
   * Keyed transforms have none on purpose: their key would be part of a plan any Trino user can
   * EXPLAIN.
   */
  trino?(input: TrinoInput): string | undefined;
  /** Macros it needs, created in the internal schema at engine start (after SHARED_MACROS). */
  macros?(keys: MacroKeys): readonly string[];
  /**
   * Kept beside a columnar copy (docs/performance.md, "Masks computed once"): the output depends
   * on the value alone (and the masking key, never on the query or its date), and computing it
   * costs far more than reading a stored value (hashes, Feistel rounds, regular expressions).
   */
  readonly precompute?: true;
}

const S = INTERNAL_SCHEMA;
const fn = (name: string, ...args: string[]): string => `${S}.${name}(${args.join(', ')})`;
const text = (column: string): string => `CAST(${column} AS VARCHAR)`;
const referenceDate = (context: TransformContext): string => `DATE ${sqlString(context.referenceDate.toISOString().slice(0, 10))}`;
const firstNumber = (args: readonly (string | number)[], fallback: number): number => (typeof args[0] === 'number' ? args[0] : fallback);

const HALF = 'length(s) // 2';
const REST = 'length(s) - length(s) // 2';
const ROUND_WIDTH = `CASE WHEN x.r % 2 = 0 THEN ${HALF} ELSE ${REST} END`;
const INVERSE_WIDTH = `CASE WHEN (16 - x.r) % 2 = 0 THEN ${HALF} ELSE ${REST} END`;

/** Trino's veil_mask_all: every letter and digit as X (Trino's regexp_replace replaces every match). */
const trinoMaskAll = (x: string): string => `regexp_replace(${x}, '[\\p{L}\\p{N}]', 'X')`;
const trinoMask = (x: string): string => `regexp_replace(regexp_replace(regexp_replace(${x}, '[\\p{Ll}\\p{Lt}\\p{Lm}\\p{Lo}]', 'x'), '\\p{Lu}', 'X'), '\\p{Nd}', '0')`;

/** Helper macros several transforms share; created before any transform's own. */
const SHARED_MACROS = (): readonly string[] => [`CREATE MACRO ${S}.veil_mask_all(x) AS regexp_replace(x, '[\\p{L}\\p{N}]', 'X', 'g')`];

/**
 * The registry, strongest (least revealing) first: when several masks target one cell, the
 * strongest wins. The order of the entries IS the strength order.
 */
export const TRANSFORMS = {
  null: {
    args: [],
    optionalArgs: 0,
    output: 'same',
    sql: ({ type }) => `CAST(NULL AS ${type})`,
    trino: ({ trinoType }) => `CAST(NULL AS ${trinoType})`,
  },
  redact: {
    args: ['string'],
    optionalArgs: 1,
    output: 'VARCHAR',
    sql: ({ column, args }) => `CASE WHEN ${column} IS NULL THEN NULL ELSE ${sqlString(String(args[0] ?? 'REDACTED'))} END`,
    trino: ({ column, family, args }) => (family === 'text' ? `CASE WHEN ${column} IS NULL THEN NULL ELSE ${sqlString(String(args[0] ?? 'REDACTED'))} END` : undefined),
  },
  hmac: {
    precompute: true,
    args: [],
    optionalArgs: 0,
    output: 'VARCHAR',
    sql: ({ column }) => fn('veil_hmac', text(column)),
    // HMAC-SHA256 (RFC 2104) with the derived key, as lower-case hex.
    macros: (k) => [`CREATE MACRO ${S}.veil_hmac(x) AS sha256(unhex('${k.hmacOuterPad}') || unhex(sha256(unhex('${k.hmacInnerPad}') || encode(x))))`],
  },
  tokenize: {
    precompute: true,
    args: [],
    optionalArgs: 0,
    output: 'VARCHAR',
    sql: ({ column }) => fn('veil_tokenize', text(column)),
    macros: (k) => [
      // 10^k exactly (a double holds every power of ten up to 10^22 exactly; k is at most 18). A
      // list literal indexed by k gave the same values but made every use a 19-element constant to
      // bind: binding a query with tokenize cost 25% more.
      `CREATE MACRO ${S}.veil_pow10(k) AS CAST(power(10, k) AS BIGINT)`,
      // Keyed pseudo-random function for the Feistel rounds: 60 bits of SHA-256(key:tweak:round:value).
      `CREATE MACRO ${S}.veil_prf(tweak, r, b, m) AS (('0x' || left(sha256('${k.tokenKey}:' || tweak || ':' || r || ':' || b), 15))::BIGINT % ${S}.veil_pow10(m))`,
      // Format-preserving derangement of a 1..18 digit string. P is an 8-round alternating Feistel
      // network over Z(10^u) x Z(10^v) (the FF1 structure), a keyed bijection; the token is
      // P^-1(P(x) + 1), which is still a bijection (no two inputs share a token) and never equals x.
      `CREATE MACRO ${S}.veil_fpe(s, tweak) AS CASE WHEN length(s) = 1
       THEN ((TRY_CAST(s AS BIGINT) + 1 + ${S}.veil_prf(tweak, 0, 0, 1) % 9) % 10)::VARCHAR
       ELSE list_reduce(
         list_prepend({'a': TRY_CAST(s[1:${HALF}] AS BIGINT), 'b': TRY_CAST(s[${HALF} + 1:] AS BIGINT), 'r': -1, 'out': ''},
                      list_transform(range(17), r -> {'a': 0::BIGINT, 'b': 0::BIGINT, 'r': r, 'out': ''})),
         (acc, x) -> CASE
           WHEN x.r < 8 THEN {'a': acc.b,
                              'b': (acc.a + ${S}.veil_prf(tweak, x.r, acc.b, ${ROUND_WIDTH})) % ${S}.veil_pow10(${ROUND_WIDTH}),
                              'r': x.r, 'out': ''}
           WHEN x.r = 8 THEN {'a': CASE WHEN acc.b + 1 = ${S}.veil_pow10(${REST}) THEN (acc.a + 1) % ${S}.veil_pow10(${HALF}) ELSE acc.a END,
                              'b': (acc.b + 1) % ${S}.veil_pow10(${REST}),
                              'r': x.r, 'out': ''}
           ELSE {'a': ((acc.b - ${S}.veil_prf(tweak, 16 - x.r, acc.a, ${INVERSE_WIDTH})) % ${S}.veil_pow10(${INVERSE_WIDTH}) + ${S}.veil_pow10(${INVERSE_WIDTH})) % ${S}.veil_pow10(${INVERSE_WIDTH}),
                 'b': acc.a,
                 'r': x.r,
                 'out': CASE WHEN x.r = 16 THEN lpad((((acc.b - ${S}.veil_prf(tweak, 0, acc.a, ${HALF})) % ${S}.veil_pow10(${HALF}) + ${S}.veil_pow10(${HALF})) % ${S}.veil_pow10(${HALF}))::VARCHAR, (${HALF})::INTEGER, '0')
                   || lpad(acc.a::VARCHAR, (${REST})::INTEGER, '0') ELSE '' END}
           END).out
       END`,
      // Digit strings of any length: permute each 18-digit chunk with its position as tweak.
      `CREATE MACRO ${S}.veil_fpe_digits(s, tweak) AS array_to_string(list_transform(range(0, length(s), 18), i -> ${S}.veil_fpe(s[i + 1:i + 18], tweak * 1000 + i)), '')`,
      // Other strings: 96 bits of SHA-256 over the secret key and the value. One hash instead of an
      // HMAC's two halves the cost; with the output truncated, length extension gives nothing.
      `CREATE MACRO ${S}.veil_tokenize(x) AS CASE
       WHEN x IS NULL THEN NULL
       WHEN regexp_full_match(x, '[0-9]+') THEN ${S}.veil_fpe_digits(x, 0)
       ELSE 'tok_' || left(sha256('${k.tokenKey}:text:' || x), 24)
     END`,
    ],
  },
  mask: {
    precompute: true,
    args: [],
    optionalArgs: 0,
    output: 'VARCHAR',
    sql: ({ column }) => fn('veil_mask', text(column)),
    trino: ({ column, family }) => (family === 'text' ? trinoMask(column) : undefined),
    macros: () => [
      `CREATE MACRO ${S}.veil_mask(x) AS regexp_replace(regexp_replace(regexp_replace(x, '[\\p{Ll}\\p{Lt}\\p{Lm}\\p{Lo}]', 'x', 'g'), '\\p{Lu}', 'X', 'g'), '\\p{Nd}', '0', 'g')`,
    ],
  },
  email_domain: {
    precompute: true,
    args: [],
    optionalArgs: 0,
    output: 'VARCHAR',
    sql: ({ column }) => fn('veil_email_domain', text(column)),
    trino: ({ column, family }) =>
      family === 'text' ? `CASE WHEN ${column} IS NULL THEN NULL WHEN strpos(${column}, '@') > 0 THEN 'XXXXX@' || element_at(split(${column}, '@'), -1) ELSE 'XXXXX' END` : undefined,
    macros: () => [
      `CREATE MACRO ${S}.veil_email_domain(x) AS CASE WHEN x IS NULL THEN NULL
       WHEN strpos(x, '@') > 0 THEN 'XXXXX@' || regexp_extract(x, '@([^@]*)$', 1) ELSE 'XXXXX' END`,
    ],
  },
  mask_show_first: {
    precompute: true,
    args: ['integer'],
    optionalArgs: 0,
    output: 'VARCHAR',
    validate: (args) => (firstNumber(args, 0) < 0 ? 'mask_show_first needs a count of zero or more' : undefined),
    revealing: (args) => firstNumber(args, 0),
    sql: ({ column, args }) => fn('veil_mask_show_first', text(column), String(args[0])),
    trino: ({ column, family, args }) => {
      if (family !== 'text') return undefined;
      const n = firstNumber(args, 0);
      return `CASE WHEN length(${column}) > ${n} THEN substr(${column}, 1, ${n}) || ${trinoMaskAll(`substr(${column}, ${n + 1})`)} ELSE ${trinoMaskAll(column)} END`;
    },
    macros: () => [
      `CREATE MACRO ${S}.veil_mask_show_first(x, n) AS CASE WHEN length(x) > n
       THEN left(x, n::BIGINT) || ${S}.veil_mask_all(right(x, (length(x) - n)::BIGINT)) ELSE ${S}.veil_mask_all(x) END`,
    ],
  },
  mask_show_last: {
    precompute: true,
    args: ['integer'],
    optionalArgs: 0,
    output: 'VARCHAR',
    validate: (args) => (firstNumber(args, 0) < 0 ? 'mask_show_last needs a count of zero or more' : undefined),
    revealing: (args) => firstNumber(args, 0),
    sql: ({ column, args }) => fn('veil_mask_show_last', text(column), String(args[0])),
    trino: ({ column, family, args }) => {
      if (family !== 'text') return undefined;
      const n = firstNumber(args, 0);
      return `CASE WHEN length(${column}) > ${n} THEN ${trinoMaskAll(`substr(${column}, 1, length(${column}) - ${n})`)} || substr(${column}, length(${column}) - ${n} + 1) ELSE ${trinoMaskAll(column)} END`;
    },
    macros: () => [
      `CREATE MACRO ${S}.veil_mask_show_last(x, n) AS CASE WHEN length(x) > n
       THEN ${S}.veil_mask_all(left(x, (length(x) - n)::BIGINT)) || right(x, n::BIGINT) ELSE ${S}.veil_mask_all(x) END`,
    ],
  },
  age_bucket: {
    args: ['integer'],
    optionalArgs: 1,
    output: 'VARCHAR',
    validate: (args) => (firstNumber(args, 10) < 1 ? 'age_bucket needs a width of at least 1' : undefined),
    revealing: (args) => -firstNumber(args, 10),
    sql: ({ column, family, args, context }) => {
      const width = String(firstNumber(args, 10));
      if (family === 'temporal') return fn('veil_age_bucket', `date_sub('year', CAST(${column} AS DATE), ${referenceDate(context)})`, width);
      if (family === 'numeric') return fn('veil_age_bucket', `CAST(floor(${column}) AS BIGINT)`, width);
      return undefined;
    },
    macros: () => [
      `CREATE MACRO ${S}.veil_age_bucket(age, width) AS CASE WHEN age IS NULL OR age < 0 THEN NULL WHEN age >= 90 THEN '90+'
       ELSE ((age // width) * width)::VARCHAR || '-' || least((age // width) * width + width - 1, 89)::VARCHAR END`,
    ],
  },
  zip3: {
    args: [],
    optionalArgs: 0,
    output: 'VARCHAR',
    sql: ({ column, family }) => (family === 'text' || family === 'numeric' ? fn('veil_zip3', text(column)) : undefined),
    trino: ({ column, family, zip3Restricted }) => {
      if (family !== 'text') return undefined;
      const padded = `lpad(${column}, 5, '0')`;
      const restricted = zip3Restricted.length === 0 ? 'FALSE' : `contains(ARRAY[${zip3Restricted.map(sqlString).join(', ')}], substr(${padded}, 1, 3))`;
      return `CASE WHEN ${column} IS NULL THEN NULL WHEN NOT regexp_like(${padded}, '^[0-9]{5}([- ]?[0-9]{4})?$') THEN NULL WHEN ${restricted} THEN '000' ELSE substr(${padded}, 1, 3) END`;
    },
    macros: (k) => [
      `CREATE MACRO ${S}.veil_zip3(x) AS CASE WHEN x IS NULL THEN NULL
       WHEN NOT regexp_full_match(lpad(x, 5, '0'), '[0-9]{5}([- ]?[0-9]{4})?') THEN NULL
       WHEN list_contains(${k.zip3Restricted}, left(lpad(x, 5, '0'), 3)) THEN '000'
       ELSE left(lpad(x, 5, '0'), 3) END`,
    ],
  },
  year: {
    args: [],
    optionalArgs: 0,
    output: 'same',
    sql: ({ column, type, family, context }) => {
      if (family === 'temporal') return `CAST(${fn('veil_year', `CAST(${column} AS DATE)`, referenceDate(context))} AS ${type})`;
      if (family === 'text') return `CAST(${fn('veil_year', `TRY_CAST(${column} AS DATE)`, referenceDate(context))} AS VARCHAR)`;
      return undefined;
    },
    trino: ({ column, trinoType, family, referenceYear }) =>
      family === 'temporal'
        ? `CASE WHEN ${column} IS NULL THEN NULL WHEN ${referenceYear} - year(${column}) > 89 THEN CAST(DATE '${String(referenceYear - 90).padStart(4, '0')}-01-01' AS ${trinoType}) ELSE CAST(date_trunc('year', CAST(${column} AS date)) AS ${trinoType}) END`
        : undefined,
    // HIPAA Safe Harbor: keep the year; birth years that would show an age over 89 all read as 90.
    macros: () => [
      `CREATE MACRO ${S}.veil_year(d, ref) AS CASE WHEN d IS NULL THEN NULL
       WHEN year(ref) - year(d) > 89 THEN make_date(year(ref) - 90, 1, 1) ELSE make_date(year(d), 1, 1) END`,
    ],
  },
  round: {
    args: ['integer'],
    optionalArgs: 1,
    output: 'same',
    revealing: (args) => firstNumber(args, 0),
    sql: ({ column, family, args }) => (family === 'numeric' ? `round(${column}, ${String(firstNumber(args, 0))})` : undefined),
    trino: ({ column, family, args }) => (family === 'numeric' ? `round(${column}, ${String(firstNumber(args, 0))})` : undefined),
  },
} as const satisfies Record<string, TransformDefinition>;

export type TransformName = keyof typeof TRANSFORMS;

/** Names, strongest first (the registry's order). */
export const TRANSFORM_STRENGTH = Object.keys(TRANSFORMS) as readonly TransformName[];

export function transformDefinition(name: TransformName): TransformDefinition {
  return TRANSFORMS[name];
}

export function isTransformName(name: string): name is TransformName {
  return Object.hasOwn(TRANSFORMS, name);
}

/** Deterministic sub-keys, so that the hmac and tokenize outputs are unrelated. */
function deriveKey(masking: Buffer, purpose: string): Buffer {
  return createHmac('sha256', masking).update(`veil:${purpose}`).digest();
}

/**
 * The macros behind the transforms, created once in the internal schema at engine start. Keys are
 * baked into the macro bodies so they never appear in query text (or in an error quoting it).
 */
export function transformMacros(maskingKey: Buffer, zip3Restricted: readonly string[]): string[] {
  const hmacKey = Buffer.alloc(64);
  deriveKey(maskingKey, 'hmac').copy(hmacKey);
  for (const prefix of zip3Restricted) {
    if (!/^\d{3}$/.test(prefix)) throw new InvalidPolicyError(`restricted zip3 prefix "${prefix}" must be three digits`);
  }
  const keys: MacroKeys = {
    hmacInnerPad: Buffer.from(hmacKey.map((b) => b ^ 0x36)).toString('hex'),
    hmacOuterPad: Buffer.from(hmacKey.map((b) => b ^ 0x5c)).toString('hex'),
    tokenKey: deriveKey(maskingKey, 'tokenize').toString('hex'),
    zip3Restricted: zip3Restricted.length === 0 ? `['']` : `[${zip3Restricted.map(sqlString).join(', ')}]`,
  };
  const own = TRANSFORM_STRENGTH.flatMap((name) => (transformDefinition(name).macros?.(keys) ?? []) as string[]);
  return [...SHARED_MACROS(), ...own];
}
