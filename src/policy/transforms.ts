import { createHmac } from 'node:crypto';
import { INTERNAL_SCHEMA, sqlString } from '../engine/index.ts';
import { InvalidPolicyError } from '../errors/index.ts';

/**
 * Built-in column transforms. Each compiles to a SQL expression over the raw column, evaluated
 * inside the policy-applied scan, so every operator above sees only the transformed value.
 * Exact outputs are documented in docs/policies.md; tests pin them.
 */
export type TransformName =
  | 'null'
  | 'redact'
  | 'hmac'
  | 'tokenize'
  | 'mask'
  | 'email_domain'
  | 'mask_show_first'
  | 'mask_show_last'
  | 'age_bucket'
  | 'zip3'
  | 'year'
  | 'round';

export interface TransformSpec {
  readonly name: TransformName;
  readonly args: readonly (string | number)[];
  /** Canonical text, e.g. mask_show_last(4) */
  readonly text: string;
}

/** Strongest first: when several masks target one column, the strongest one wins for each cell. */
export const TRANSFORM_STRENGTH: readonly TransformName[] = [
  'null', 'redact', 'hmac', 'tokenize', 'mask', 'email_domain', 'mask_show_first', 'mask_show_last', 'age_bucket', 'zip3', 'year', 'round',
];

interface TransformSignature {
  readonly args: readonly ('integer' | 'string')[];
  readonly optionalArgs: number;
}

const SIGNATURES: Record<TransformName, TransformSignature> = {
  null: { args: [], optionalArgs: 0 },
  redact: { args: ['string'], optionalArgs: 1 },
  hmac: { args: [], optionalArgs: 0 },
  tokenize: { args: [], optionalArgs: 0 },
  mask: { args: [], optionalArgs: 0 },
  email_domain: { args: [], optionalArgs: 0 },
  mask_show_first: { args: ['integer'], optionalArgs: 0 },
  mask_show_last: { args: ['integer'], optionalArgs: 0 },
  age_bucket: { args: ['integer'], optionalArgs: 1 },
  zip3: { args: [], optionalArgs: 0 },
  year: { args: [], optionalArgs: 0 },
  round: { args: ['integer'], optionalArgs: 1 },
};

export function parseTransform(text: string): TransformSpec {
  const match = /^\s*([a-z_0-9]+)\s*(?:\((.*)\))?\s*$/s.exec(text);
  const name = match?.[1];
  if (match === null || name === undefined || !(name in SIGNATURES)) {
    throw new InvalidPolicyError(`unknown transform "${text}"; use one of ${TRANSFORM_STRENGTH.join(', ')}`);
  }
  const signature = SIGNATURES[name as TransformName];
  const args = match[2] === undefined || match[2].trim() === '' ? [] : splitArgs(match[2], text);
  if (args.length > signature.args.length || args.length < signature.args.length - signature.optionalArgs) {
    throw new InvalidPolicyError(`transform ${name} takes ${describeArity(signature)}`);
  }
  const parsed = args.map((arg, i) => {
    const kind = signature.args[i];
    if (kind === 'integer') {
      if (!/^-?\d{1,3}$/.test(arg)) throw new InvalidPolicyError(`argument ${i + 1} of ${name} must be a small integer`);
      return Number(arg);
    }
    const quoted = /^'((?:[^']|'')*)'$/.exec(arg);
    if (!quoted) throw new InvalidPolicyError(`argument ${i + 1} of ${name} must be a quoted string`);
    return (quoted[1] ?? '').replaceAll("''", "'");
  });
  for (const arg of parsed) {
    if (typeof arg === 'number' && name.startsWith('mask_show') && arg < 0) throw new InvalidPolicyError(`${name} needs a count of zero or more`);
    if (typeof arg === 'number' && name === 'age_bucket' && arg < 1) throw new InvalidPolicyError('age_bucket needs a width of at least 1');
  }
  const canonical = parsed.length === 0 ? name : `${name}(${parsed.map((a) => (typeof a === 'number' ? String(a) : sqlString(a))).join(', ')})`;
  return { name: name as TransformName, args: parsed, text: canonical };
}

function splitArgs(body: string, text: string): string[] {
  const args: string[] = [];
  let current = '';
  let inString = false;
  for (const ch of body) {
    if (ch === "'") inString = !inString;
    if (ch === ',' && !inString) {
      args.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (inString) throw new InvalidPolicyError(`unterminated string in transform "${text}"`);
  args.push(current.trim());
  return args;
}

function describeArity(signature: TransformSignature): string {
  if (signature.args.length === 0) return 'no arguments';
  return `${signature.args.length - signature.optionalArgs}..${signature.args.length} argument(s): ${signature.args.join(', ')}`;
}

/** Facts a transform needs that vary per deployment or per query. */
export interface TransformContext {
  /** The year queries are evaluated in (HIPAA year clamping, age buckets). */
  readonly referenceDate: Date;
}

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;
const DATE_TYPE = /^(DATE|TIMESTAMP.*)$/;

/**
 * SQL for a transform of one raw column. Returns undefined when the transform cannot apply to the
 * column's type; the caller then nulls the column (fail closed) and explains why.
 */
export function transformSql(spec: TransformSpec, column: string, type: string, context: TransformContext): string | undefined {
  const fn = (name: string, ...args: string[]): string => `${INTERNAL_SCHEMA}.${name}(${args.join(', ')})`;
  const text = `CAST(${column} AS VARCHAR)`;
  const refDate = `DATE ${sqlString(context.referenceDate.toISOString().slice(0, 10))}`;
  switch (spec.name) {
    case 'null':
      return `CAST(NULL AS ${type})`;
    case 'redact':
      return `CASE WHEN ${column} IS NULL THEN NULL ELSE ${sqlString(String(spec.args[0] ?? 'REDACTED'))} END`;
    case 'hmac':
      return fn('veil_hmac', text);
    case 'tokenize':
      return fn('veil_tokenize', text);
    case 'mask':
      return fn('veil_mask', text);
    case 'email_domain':
      return fn('veil_email_domain', text);
    case 'mask_show_first':
      return fn('veil_mask_show_first', text, String(spec.args[0]));
    case 'mask_show_last':
      return fn('veil_mask_show_last', text, String(spec.args[0]));
    case 'zip3':
      if (!(type === 'VARCHAR' || NUMERIC_TYPE.test(type))) return undefined;
      return fn('veil_zip3', text);
    case 'year':
      if (DATE_TYPE.test(type)) return `CAST(${fn('veil_year', `CAST(${column} AS DATE)`, refDate)} AS ${type})`;
      if (type === 'VARCHAR') return `CAST(${fn('veil_year', `TRY_CAST(${column} AS DATE)`, refDate)} AS VARCHAR)`;
      return undefined;
    case 'age_bucket': {
      const width = String(spec.args[0] ?? 10);
      if (DATE_TYPE.test(type)) return fn('veil_age_bucket', `date_sub('year', CAST(${column} AS DATE), ${refDate})`, width);
      if (NUMERIC_TYPE.test(type)) return fn('veil_age_bucket', `CAST(floor(${column}) AS BIGINT)`, width);
      return undefined;
    }
    case 'round':
      if (!NUMERIC_TYPE.test(type)) return undefined;
      return `round(${column}, ${String(spec.args[0] ?? 0)})`;
  }
}

/** The SQL type a transform produces for a column of `type` (when it applies). */
export function transformOutputType(spec: TransformSpec, type: string): string {
  switch (spec.name) {
    case 'null':
    case 'round':
    case 'year':
      return type;
    default:
      return 'VARCHAR';
  }
}

/** Deterministic sub-keys, so that the hmac and tokenize outputs are unrelated. */
function deriveKey(masking: Buffer, purpose: string): Buffer {
  return createHmac('sha256', masking).update(`veil:${purpose}`).digest();
}

const POW10 = Array.from({ length: 19 }, (_, i) => (10n ** BigInt(i)).toString()).join(', ');

/**
 * The macros behind the transforms, created once in the internal schema at engine start. Keys are
 * baked into the macro bodies so they never appear in query text (or in an error quoting it).
 */
export function transformMacros(maskingKey: Buffer, zip3Restricted: readonly string[]): string[] {
  const s = INTERNAL_SCHEMA;
  const hmacKey = Buffer.alloc(64);
  deriveKey(maskingKey, 'hmac').copy(hmacKey);
  const ipad = Buffer.from(hmacKey.map((b) => b ^ 0x36)).toString('hex');
  const opad = Buffer.from(hmacKey.map((b) => b ^ 0x5c)).toString('hex');
  const tokenKey = deriveKey(maskingKey, 'tokenize').toString('hex');
  for (const prefix of zip3Restricted) {
    if (!/^\d{3}$/.test(prefix)) throw new InvalidPolicyError(`restricted zip3 prefix "${prefix}" must be three digits`);
  }
  const restricted = zip3Restricted.length === 0 ? `['']` : `[${zip3Restricted.map(sqlString).join(', ')}]`;
  const half = 'length(s) // 2';
  const rest = 'length(s) - length(s) // 2';
  const roundWidth = `CASE WHEN x.r % 2 = 0 THEN ${half} ELSE ${rest} END`;
  const inverseWidth = `CASE WHEN (16 - x.r) % 2 = 0 THEN ${half} ELSE ${rest} END`;
  return [
    // HMAC-SHA256 (RFC 2104) with the derived key, as lower-case hex.
    `CREATE MACRO ${s}.veil_hmac(x) AS sha256(unhex('${opad}') || unhex(sha256(unhex('${ipad}') || encode(x))))`,
    `CREATE MACRO ${s}.veil_pow10(k) AS ([${POW10}]::BIGINT[])[k + 1]`,
    // Keyed pseudo-random function for the Feistel rounds: 60 bits of SHA-256(key:tweak:round:value).
    `CREATE MACRO ${s}.veil_prf(tweak, r, b, m) AS (('0x' || left(sha256('${tokenKey}:' || tweak || ':' || r || ':' || b), 15))::BIGINT % ${s}.veil_pow10(m))`,
    // Format-preserving derangement of a 1..18 digit string. P is an 8-round alternating Feistel
    // network over Z(10^u) x Z(10^v) (the FF1 structure), a keyed bijection; the token is
    // P^-1(P(x) + 1), which is still a bijection (no two inputs share a token) and never equals x.
    `CREATE MACRO ${s}.veil_fpe(s, tweak) AS CASE WHEN length(s) = 1
       THEN ((TRY_CAST(s AS BIGINT) + 1 + ${s}.veil_prf(tweak, 0, 0, 1) % 9) % 10)::VARCHAR
       ELSE list_reduce(
         list_prepend({'a': TRY_CAST(s[1:${half}] AS BIGINT), 'b': TRY_CAST(s[${half} + 1:] AS BIGINT), 'r': -1, 'out': ''},
                      list_transform(range(17), r -> {'a': 0::BIGINT, 'b': 0::BIGINT, 'r': r, 'out': ''})),
         (acc, x) -> CASE
           WHEN x.r < 8 THEN {'a': acc.b,
                              'b': (acc.a + ${s}.veil_prf(tweak, x.r, acc.b, ${roundWidth})) % ${s}.veil_pow10(${roundWidth}),
                              'r': x.r, 'out': ''}
           WHEN x.r = 8 THEN {'a': CASE WHEN acc.b + 1 = ${s}.veil_pow10(${rest}) THEN (acc.a + 1) % ${s}.veil_pow10(${half}) ELSE acc.a END,
                              'b': (acc.b + 1) % ${s}.veil_pow10(${rest}),
                              'r': x.r, 'out': ''}
           ELSE {'a': ((acc.b - ${s}.veil_prf(tweak, 16 - x.r, acc.a, ${inverseWidth})) % ${s}.veil_pow10(${inverseWidth}) + ${s}.veil_pow10(${inverseWidth})) % ${s}.veil_pow10(${inverseWidth}),
                 'b': acc.a,
                 'r': x.r,
                 'out': CASE WHEN x.r = 16 THEN lpad((((acc.b - ${s}.veil_prf(tweak, 0, acc.a, ${half})) % ${s}.veil_pow10(${half}) + ${s}.veil_pow10(${half})) % ${s}.veil_pow10(${half}))::VARCHAR, (${half})::INTEGER, '0')
                   || lpad(acc.a::VARCHAR, (${rest})::INTEGER, '0') ELSE '' END}
           END).out
       END`,
    // Digit strings of any length: permute each 18-digit chunk with its position as tweak.
    `CREATE MACRO ${s}.veil_fpe_digits(s, tweak) AS array_to_string(list_transform(range(0, length(s), 18), i -> ${s}.veil_fpe(s[i + 1:i + 18], tweak * 1000 + i)), '')`,
    // Other strings: 96 bits of SHA-256 over the secret key and the value. One hash instead of an
    // HMAC's two halves the cost; with the output truncated, length extension gives nothing.
    `CREATE MACRO ${s}.veil_tokenize(x) AS CASE
       WHEN x IS NULL THEN NULL
       WHEN regexp_full_match(x, '[0-9]+') THEN ${s}.veil_fpe_digits(x, 0)
       ELSE 'tok_' || left(sha256('${tokenKey}:text:' || x), 24)
     END`,
    `CREATE MACRO ${s}.veil_mask(x) AS regexp_replace(regexp_replace(regexp_replace(x, '[\\p{Ll}\\p{Lt}\\p{Lm}\\p{Lo}]', 'x', 'g'), '\\p{Lu}', 'X', 'g'), '\\p{Nd}', '0', 'g')`,
    `CREATE MACRO ${s}.veil_mask_all(x) AS regexp_replace(x, '[\\p{L}\\p{N}]', 'X', 'g')`,
    `CREATE MACRO ${s}.veil_mask_show_last(x, n) AS CASE WHEN length(x) > n
       THEN ${s}.veil_mask_all(left(x, (length(x) - n)::BIGINT)) || right(x, n::BIGINT) ELSE ${s}.veil_mask_all(x) END`,
    `CREATE MACRO ${s}.veil_mask_show_first(x, n) AS CASE WHEN length(x) > n
       THEN left(x, n::BIGINT) || ${s}.veil_mask_all(right(x, (length(x) - n)::BIGINT)) ELSE ${s}.veil_mask_all(x) END`,
    `CREATE MACRO ${s}.veil_email_domain(x) AS CASE WHEN x IS NULL THEN NULL
       WHEN strpos(x, '@') > 0 THEN 'XXXXX@' || regexp_extract(x, '@([^@]*)$', 1) ELSE 'XXXXX' END`,
    `CREATE MACRO ${s}.veil_zip3(x) AS CASE WHEN x IS NULL THEN NULL
       WHEN NOT regexp_full_match(lpad(x, 5, '0'), '[0-9]{5}([- ]?[0-9]{4})?') THEN NULL
       WHEN list_contains(${restricted}, left(lpad(x, 5, '0'), 3)) THEN '000'
       ELSE left(lpad(x, 5, '0'), 3) END`,
    // HIPAA Safe Harbor: keep the year; birth years that would show an age over 89 all read as 90.
    `CREATE MACRO ${s}.veil_year(d, ref) AS CASE WHEN d IS NULL THEN NULL
       WHEN year(ref) - year(d) > 89 THEN make_date(year(ref) - 90, 1, 1) ELSE make_date(year(d), 1, 1) END`,
    `CREATE MACRO ${s}.veil_age_bucket(age, width) AS CASE WHEN age IS NULL OR age < 0 THEN NULL WHEN age >= 90 THEN '90+'
       ELSE ((age // width) * width)::VARCHAR || '-' || least((age // width) * width + width - 1, 89)::VARCHAR END`,
  ];
}
