/**
 * Two PostgreSQL spellings that DuckDB's parser (a fork of PostgreSQL's) does not take, rewritten
 * in the SQL text before parsing, outside string literals, quoted identifiers and comments:
 *
 * - `a OPERATOR(pg_catalog.~) b` (psql's pattern matching) parses in DuckDB as a function named
 *   "pg_catalog" and loses the operator; it becomes `a ~ b`.
 * - `x::pg_catalog.text` and `CAST(x AS pg_catalog.text)` are syntax errors for type names that
 *   are keywords in DuckDB's grammar (text, varchar, name); a type qualified with pg_catalog loses
 *   the qualifier (an alias cannot be qualified, so `AS pg_catalog.` is always a type).
 *
 * @see https://www.postgresql.org/docs/current/sql-syntax-lexical.html
 */
export function rewritePgSyntax(sql: string): string {
  let out = '';
  let code = '';
  const flush = (): void => {
    out += code
      .replace(/OPERATOR\s*\(\s*(?:pg_catalog\s*\.\s*)?([~!@#%^&|`?+\-*/<>=]+)\s*\)/gi, ' $1 ')
      .replace(/::\s*pg_catalog\s*\.\s*/gi, '::')
      .replace(/\bAS(\s+)pg_catalog\s*\.\s*/gi, 'AS$1');
    code = '';
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    let end = -1;
    if (c === "'") {
      // E'…' strings escape with backslashes; standard strings only double the quote.
      const escaped = i > 0 && /[eE]/.test(sql[i - 1] ?? '') && !/[A-Za-z0-9_$]/.test(sql[i - 2] ?? '');
      end = quotedEnd(sql, i, "'", escaped);
    } else if (c === '"') {
      end = quotedEnd(sql, i, '"', false);
    } else if (c === '-' && next === '-') {
      const newline = sql.indexOf('\n', i);
      end = newline === -1 ? sql.length : newline + 1;
    } else if (c === '/' && next === '*') {
      end = blockCommentEnd(sql, i);
    } else if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      const before = sql[i - 1] ?? '';
      if (tag !== null && !/[A-Za-z0-9_]/.test(before)) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        end = close === -1 ? sql.length : close + tag[0].length;
      }
    }
    if (end === -1) {
      code += c;
      i++;
    } else {
      flush();
      out += sql.slice(i, end);
      i = end;
    }
  }
  flush();
  return out;
}

function quotedEnd(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

/** PostgreSQL block comments nest. */
function blockCommentEnd(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return sql.length;
}
