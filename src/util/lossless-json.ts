/**
 * JSON parse/stringify that keeps integers outside the IEEE-754 safe range exact.
 *
 * DuckDB's json_serialize_sql emits query_location = 2^64-1 and big integer literals; JSON.parse
 * would round them to floats that json_deserialize_sql then rejects or (worse) silently changes a
 * user's constant. Unsafe integers become bigint and are written back digit for digit.
 */
export type JsonValue = null | boolean | number | bigint | string | RawJsonNumber | JsonValue[] | { [key: string]: JsonValue };

/**
 * A non-integer number kept as its source text: `50.0` must go back as `50.0` (DuckDB's
 * deserializer rejects `50` where it expects a DOUBLE), and `1e2` as `1e2`.
 */
export class RawJsonNumber {
  constructor(readonly text: string) {}

  valueOf(): number {
    return Number(this.text);
  }
}

export function parseLosslessJson(text: string): JsonValue {
  let pos = 0;

  const fail = (what: string): never => {
    throw new SyntaxError(`invalid JSON at offset ${pos}: ${what}`);
  };
  const skipWhitespace = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
  };

  const parseValue = (): JsonValue => {
    skipWhitespace();
    const c = text[pos];
    if (c === '{') return parseObject();
    if (c === '[') return parseArray();
    if (c === '"') return parseString();
    if (c === 't' && text.startsWith('true', pos)) { pos += 4; return true; }
    if (c === 'f' && text.startsWith('false', pos)) { pos += 5; return false; }
    if (c === 'n' && text.startsWith('null', pos)) { pos += 4; return null; }
    return parseNumber();
  };

  const parseObject = (): JsonValue => {
    pos++;
    const result: { [key: string]: JsonValue } = {};
    skipWhitespace();
    if (text[pos] === '}') { pos++; return result; }
    for (;;) {
      skipWhitespace();
      if (text[pos] !== '"') fail('expected a key');
      const key = parseString();
      skipWhitespace();
      if (text[pos] !== ':') fail('expected ":"');
      pos++;
      // defineProperty so that a key named __proto__ stays data, never a prototype change
      Object.defineProperty(result, key, { value: parseValue(), enumerable: true, writable: true, configurable: true });
      skipWhitespace();
      if (text[pos] === ',') { pos++; continue; }
      if (text[pos] === '}') { pos++; return result; }
      fail('expected "," or "}"');
    }
  };

  const parseArray = (): JsonValue => {
    pos++;
    const result: JsonValue[] = [];
    skipWhitespace();
    if (text[pos] === ']') { pos++; return result; }
    for (;;) {
      result.push(parseValue());
      skipWhitespace();
      if (text[pos] === ',') { pos++; continue; }
      if (text[pos] === ']') { pos++; return result; }
      fail('expected "," or "]"');
    }
  };

  const parseString = (): string => {
    const start = pos;
    pos++;
    let hasEscape = false;
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) break;
      if (c === 0x5c) { hasEscape = true; pos += 2; continue; }
      pos++;
    }
    if (pos >= text.length) fail('unterminated string');
    pos++;
    const raw = text.slice(start, pos);
    return hasEscape ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  };

  const parseNumber = (): JsonValue => {
    const match = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(pos, pos + 400));
    if (!match) return fail('unexpected character');
    const token = match[0];
    pos += token.length;
    if (match[1] === undefined && match[2] === undefined) {
      const asNumber = Number(token);
      return Number.isSafeInteger(asNumber) ? asNumber : BigInt(token);
    }
    return new RawJsonNumber(token);
  };

  const value = parseValue();
  skipWhitespace();
  if (pos !== text.length) fail('trailing characters');
  return value;
}

export function stringifyLosslessJson(value: JsonValue): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('non-finite number in JSON');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    default:
      break;
  }
  if (value instanceof RawJsonNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(stringifyLosslessJson).join(',')}]`;
  const parts: string[] = [];
  for (const key of Object.keys(value)) {
    const member = value[key];
    if (member !== undefined) parts.push(`${JSON.stringify(key)}:${stringifyLosslessJson(member)}`);
  }
  return `{${parts.join(',')}}`;
}
