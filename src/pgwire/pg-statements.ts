import { FeatureNotSupportedError, InvalidSqlError } from '../errors/index.ts';
import { RefusedStatement } from './pg-session-errors.ts';

/**
 * What the PostgreSQL door does with one statement, decided from its leading keywords. This is
 * routing, not enforcement: the statements answered here (SET, SHOW, BEGIN, cursors, …) never read
 * data, and every query text they carry (a cursor's or a COPY's SELECT) goes through the gateway's
 * pipeline like any other query, which parses it with DuckDB and refuses anything but a SELECT.
 * Statements that are none of these are handed to that pipeline whole.
 */
export type PgStatement =
  | { readonly kind: 'empty' }
  | { readonly kind: 'query'; readonly sql: string }
  | { readonly kind: 'transaction'; readonly action: 'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollback_to'; readonly tag: string }
  | { readonly kind: 'set'; readonly name: string; readonly value: string | null; readonly tag: 'SET' | 'RESET' }
  | { readonly kind: 'set_ignored'; readonly tag: 'SET' }
  | { readonly kind: 'show'; readonly name: string }
  | { readonly kind: 'discard' }
  | { readonly kind: 'deallocate'; readonly name: string | null }
  | { readonly kind: 'declare'; readonly cursor: string; readonly query: string; readonly binary: boolean; readonly hold: boolean }
  | { readonly kind: 'fetch'; readonly cursor: string; readonly count: number | 'all'; readonly move: boolean }
  | { readonly kind: 'close_cursor'; readonly cursor: string | null }
  | { readonly kind: 'copy_out'; readonly query: string; readonly format: 'text' | 'csv'; readonly header: boolean; readonly delimiter: string | undefined; readonly nullString: string | undefined };

interface Token {
  readonly text: string;
  /** Upper-cased bare words; quoted identifiers keep their case and are marked quoted. */
  readonly word: string | undefined;
  readonly quoted: boolean;
  readonly start: number;
  readonly end: number;
}

/**
 * Splits a simple-protocol query string into statements at top-level semicolons, respecting
 * PostgreSQL's quoting: '…' (with '' and E'\'' escapes), "…", $tag$…$tag$, -- and nested block comments.
 */
export function splitStatements(text: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let depth = 0;
  for (const token of tokenize(text)) {
    if (token.text === '(') depth++;
    else if (token.text === ')') depth = Math.max(0, depth - 1);
    else if (token.text === ';' && depth === 0) {
      statements.push(text.slice(start, token.start).trim());
      start = token.end;
    }
  }
  statements.push(text.slice(start).trim());
  const nonEmpty = statements.filter((s) => tokenize(s).length > 0);
  return nonEmpty.length === 0 ? [''] : nonEmpty;
}

/** Classifies one statement (no top-level semicolons left but a trailing one). */
export function classifyStatement(text: string): PgStatement {
  const tokens = tokenize(text).filter((t) => t.text !== ';');
  if (tokens.length === 0) return { kind: 'empty' };
  const words = tokens.map((t) => (t.quoted ? undefined : t.word));
  const w = (i: number): string | undefined => words[i];
  switch (w(0)) {
    case 'BEGIN':
      return { kind: 'transaction', action: 'begin', tag: 'BEGIN' };
    case 'START':
      if (w(1) === 'TRANSACTION') return { kind: 'transaction', action: 'begin', tag: 'START TRANSACTION' };
      break;
    case 'COMMIT':
    case 'END':
      return { kind: 'transaction', action: 'commit', tag: 'COMMIT' };
    case 'ABORT':
      return { kind: 'transaction', action: 'rollback', tag: 'ROLLBACK' };
    case 'ROLLBACK':
      if (words.includes('TO')) return { kind: 'transaction', action: 'rollback_to', tag: 'ROLLBACK' };
      return { kind: 'transaction', action: 'rollback', tag: 'ROLLBACK' };
    case 'SAVEPOINT':
      return { kind: 'transaction', action: 'savepoint', tag: 'SAVEPOINT' };
    case 'RELEASE':
      return { kind: 'transaction', action: 'release', tag: 'RELEASE' };
    case 'SET':
      return classifySet(tokens, words);
    case 'RESET':
      return { kind: 'set', name: w(1) === 'ALL' ? 'all' : settingName(tokens.slice(1)), value: null, tag: 'RESET' };
    case 'SHOW':
      if (w(1) === 'TRANSACTION' && w(2) === 'ISOLATION') return { kind: 'show', name: 'transaction_isolation' };
      if (w(1) === 'TIME' && w(2) === 'ZONE') return { kind: 'show', name: 'timezone' };
      return { kind: 'show', name: w(1) === 'ALL' ? 'all' : settingName(tokens.slice(1)) };
    case 'DISCARD':
      return { kind: 'discard' };
    case 'DEALLOCATE': {
      const at = w(1) === 'PREPARE' ? 2 : 1;
      return { kind: 'deallocate', name: w(at) === 'ALL' ? null : identifierAt(tokens, at, 'DEALLOCATE') };
    }
    case 'DECLARE':
      return classifyDeclare(text, tokens, words);
    case 'FETCH':
    case 'MOVE':
      return classifyFetch(tokens, words);
    case 'CLOSE':
      return { kind: 'close_cursor', cursor: w(1) === 'ALL' ? null : identifierAt(tokens, 1, 'CLOSE') };
    case 'COPY':
      return classifyCopy(text, tokens, words);
    case 'PREPARE':
    case 'EXECUTE':
      // SQL-level prepared statements would be a second path around the pipeline (a peer shipped
      // a mask bypass through exactly this); the protocol's own Parse/Bind/Execute is the way.
      throw new RefusedStatement(`${w(0)} is not supported; use the extended query protocol (your driver's prepared statements)`, '0A000');
    case 'LISTEN':
    case 'UNLISTEN':
    case 'NOTIFY':
      throw new FeatureNotSupportedError(`${w(0)} is not supported: Veil has no notifications`);
    default:
      break;
  }
  return { kind: 'query', sql: text };
}

/** SET name TO|= value, SET TIME ZONE …, SET SESSION CHARACTERISTICS … (no-op), SET TRANSACTION … (no-op). */
function classifySet(tokens: readonly Token[], words: readonly (string | undefined)[]): PgStatement {
  let at = 1;
  if (words[at] === 'SESSION' && words[at + 1] !== 'CHARACTERISTICS' && words[at + 1] !== 'AUTHORIZATION') at++;
  else if (words[at] === 'LOCAL') at++;
  if (words[at] === 'SESSION' && words[at + 1] === 'CHARACTERISTICS') return { kind: 'set_ignored', tag: 'SET' };
  if (words[at] === 'TRANSACTION') return { kind: 'set_ignored', tag: 'SET' };
  if (words[at] === 'SESSION' && words[at + 1] === 'AUTHORIZATION') throw new RefusedStatement("SET SESSION AUTHORIZATION is not allowed: a session is its token's user");
  if (words[at] === 'ROLE') throw new RefusedStatement("SET ROLE is not allowed: a session is its token's user");
  if (words[at] === 'TIME' && words[at + 1] === 'ZONE') return { kind: 'set', name: 'timezone', value: settingValue(tokens.slice(at + 2)), tag: 'SET' };
  if (words[at] === 'NAMES') return { kind: 'set', name: 'client_encoding', value: settingValue(tokens.slice(at + 1)), tag: 'SET' };
  const eq = tokens.findIndex((t, i) => i > at && (t.text === '=' || (!t.quoted && t.word === 'TO')));
  if (eq < 0) throw new InvalidSqlError('SET needs a value: SET name TO value');
  return { kind: 'set', name: settingName(tokens.slice(at, eq)), value: settingValue(tokens.slice(eq + 1)), tag: 'SET' };
}

function classifyDeclare(text: string, tokens: readonly Token[], words: readonly (string | undefined)[]): PgStatement {
  const cursor = identifierAt(tokens, 1, 'DECLARE');
  const forAt = words.indexOf('FOR');
  const cursorAt = words.indexOf('CURSOR');
  if (cursorAt < 0 || forAt < cursorAt) throw new InvalidSqlError('DECLARE needs: DECLARE name CURSOR [WITH HOLD] FOR query');
  const options = words.slice(2, cursorAt);
  const holdAt = words.indexOf('HOLD');
  const hold = holdAt > 0 && holdAt < forAt && words[holdAt - 1] === 'WITH';
  return { kind: 'declare', cursor, query: text.slice(tokens[forAt + 1]?.start ?? text.length).trim(), binary: options.includes('BINARY'), hold };
}

function classifyFetch(tokens: readonly Token[], words: readonly (string | undefined)[]): PgStatement {
  const move = words[0] === 'MOVE';
  let at = 1;
  let count: number | 'all' = 1;
  const direction = words[at];
  if (direction === 'NEXT' || direction === 'FORWARD') {
    at++;
    if (direction === 'FORWARD' && words[at] === 'ALL') {
      count = 'all';
      at++;
    } else if (direction === 'FORWARD' && /^\d+$/.test(tokens[at]?.text ?? '')) {
      count = Number(tokens[at]?.text);
      at++;
    }
  } else if (direction === 'ALL') {
    count = 'all';
    at++;
  } else if (/^\d+$/.test(tokens[at]?.text ?? '')) {
    count = Number(tokens[at]?.text);
    at++;
  } else if (direction !== undefined && ['PRIOR', 'FIRST', 'LAST', 'ABSOLUTE', 'RELATIVE', 'BACKWARD'].includes(direction)) {
    throw new FeatureNotSupportedError(`FETCH ${direction} is not supported: Veil cursors move forward only`);
  }
  if (words[at] === 'FROM' || words[at] === 'IN') at++;
  return { kind: 'fetch', cursor: identifierAt(tokens, at, move ? 'MOVE' : 'FETCH'), count, move };
}

/** COPY (query) TO STDOUT [WITH] [(FORMAT csv, HEADER, DELIMITER 'x', NULL 'x')] | [CSV] [HEADER] … */
function classifyCopy(text: string, tokens: readonly Token[], words: readonly (string | undefined)[]): PgStatement {
  if (tokens[1]?.text !== '(') throw new RefusedStatement('COPY is allowed only as COPY (SELECT …) TO STDOUT');
  let depth = 0;
  let close = -1;
  for (let i = 1; i < tokens.length; i++) {
    if (tokens[i]!.text === '(') depth++;
    else if (tokens[i]!.text === ')' && --depth === 0) {
      close = i;
      break;
    }
  }
  if (close < 0) throw new InvalidSqlError('COPY: unbalanced parentheses');
  const query = text.slice(tokens[1].end, tokens[close]!.start).trim();
  if (words[close + 1] !== 'TO' || words[close + 2] !== 'STDOUT') {
    // COPY … FROM, COPY … TO 'file' or PROGRAM: never; the server's files are not the caller's.
    throw new RefusedStatement('COPY is allowed only as COPY (SELECT …) TO STDOUT');
  }
  let format: 'text' | 'csv' = 'text';
  let header = false;
  let delimiter: string | undefined;
  let nullString: string | undefined;
  for (let i = close + 3; i < tokens.length; i++) {
    const word = words[i];
    const next = tokens[i + 1];
    const value = next !== undefined ? unquote(next.text) : undefined;
    if (word === 'WITH' || tokens[i]!.text === '(' || tokens[i]!.text === ')' || tokens[i]!.text === ',') continue;
    if (word === 'CSV') format = 'csv';
    else if (word === 'BINARY') throw new FeatureNotSupportedError('COPY … (FORMAT binary) is not supported; use text or csv');
    else if (word === 'FORMAT') {
      const f = value?.toLowerCase();
      if (f === 'csv') format = 'csv';
      else if (f === 'text') format = 'text';
      else throw new FeatureNotSupportedError(`COPY format ${f ?? ''} is not supported; use text or csv`);
      i++;
    } else if (word === 'HEADER') {
      const v = next?.word;
      if (v === 'FALSE' || v === 'OFF' || next?.text === '0') {
        header = false;
        i++;
      } else {
        header = true;
        if (v === 'TRUE' || v === 'ON' || next?.text === '1') i++;
      }
    } else if (word === 'DELIMITER') {
      delimiter = value;
      i++;
    } else if (word === 'NULL') {
      nullString = value;
      i++;
    } else if (word === 'QUOTE' || word === 'ESCAPE' || word === 'ENCODING' || word === 'FORCE_QUOTE') {
      throw new FeatureNotSupportedError(`COPY option ${word} is not supported`);
    } else throw new InvalidSqlError(`COPY: unexpected ${tokens[i]!.text}`);
  }
  if (delimiter !== undefined && [...delimiter].length !== 1) throw new InvalidSqlError('COPY delimiter must be a single character');
  return { kind: 'copy_out', query, format, header, delimiter, nullString };
}

function settingName(tokens: readonly Token[]): string {
  const name = tokens.map((t) => (t.quoted ? t.text.slice(1, -1) : t.text)).join('').toLowerCase();
  if (!/^[a-z_][a-z0-9_.]*$/.test(name)) throw new InvalidSqlError(`invalid setting name ${name.slice(0, 64)}`);
  return name;
}

function settingValue(tokens: readonly Token[]): string {
  if (tokens.length === 0) throw new InvalidSqlError('SET needs a value');
  if (tokens.length === 1 && tokens[0]!.word === 'DEFAULT') return 'DEFAULT';
  return tokens
    .filter((t) => t.text !== ',')
    .map((t) => unquote(t.text))
    .join(', ');
}

function identifierAt(tokens: readonly Token[], at: number, what: string): string {
  const token = tokens[at];
  if (token === undefined || (token.word === undefined && !token.quoted)) throw new InvalidSqlError(`${what} needs a name`);
  return token.quoted ? token.text.slice(1, -1).replaceAll('""', '"') : token.text.toLowerCase();
}

function unquote(text: string): string {
  if (text.startsWith("'") && text.endsWith("'")) return text.slice(1, -1).replaceAll("''", "'");
  if (/^[Ee]'/.test(text)) return text.slice(2, -1).replace(/\\(.)/g, '$1').replaceAll("''", "'");
  if (text.startsWith('"') && text.endsWith('"')) return text.slice(1, -1).replaceAll('""', '"');
  return text;
}

/** PostgreSQL's lexical structure, just enough to find words, punctuation and statement ends. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (text[i] === '/' && text[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (text[i] === '*' && text[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    const start = i;
    if (c === "'" || ((c === 'E' || c === 'e') && text[i + 1] === "'")) {
      const escapes = c !== "'";
      i += escapes ? 2 : 1;
      while (i < n) {
        if (escapes && text[i] === '\\') i += 2;
        else if (text[i] === "'" && text[i + 1] === "'") i += 2;
        else if (text[i] === "'") {
          i++;
          break;
        } else i++;
      }
      tokens.push({ text: text.slice(start, i), word: undefined, quoted: false, start, end: i });
      continue;
    }
    if (c === '"') {
      i++;
      while (i < n) {
        if (text[i] === '"' && text[i + 1] === '"') i += 2;
        else if (text[i] === '"') {
          i++;
          break;
        } else i++;
      }
      tokens.push({ text: text.slice(start, i), word: undefined, quoted: true, start, end: i });
      continue;
    }
    if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i));
      if (tag !== null) {
        const close = text.indexOf(tag[0], i + tag[0].length);
        i = close < 0 ? n : close + tag[0].length;
        tokens.push({ text: text.slice(start, i), word: undefined, quoted: false, start, end: i });
        continue;
      }
    }
    if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      while (i < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(text[i]!)) i++;
      const word = text.slice(start, i);
      tokens.push({ text: word, word: word.toUpperCase(), quoted: false, start, end: i });
      continue;
    }
    if (/[0-9]/.test(c)) {
      while (i < n && /[0-9.eE]/.test(text[i]!)) i++;
      tokens.push({ text: text.slice(start, i), word: undefined, quoted: false, start, end: i });
      continue;
    }
    i++;
    tokens.push({ text: c, word: undefined, quoted: false, start, end: i });
  }
  return tokens;
}
