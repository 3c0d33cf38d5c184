import type { DuckDbEngine } from '../engine/index.ts';
import { InvalidSqlError, SqlNotAllowedError } from '../errors/index.ts';
import { parseLosslessJson, stringifyLosslessJson } from '../util/lossless-json.ts';
import { isAstObject, type AstObject } from './ast.ts';

export interface ParsedSelect {
  /** The statement's root query node. */
  readonly node: AstObject;
}

/** How deep a tree Veil walks; DuckDB's own parser limit is similar. */
export const MAX_AST_DEPTH = 1000;

/**
 * Parses with DuckDB's own parser. json_serialize_sql does not raise on bad SQL: it returns
 * {"error": true}, which is a rejection here (docs/security.md invariant 1). Only SELECT statements
 * serialize, and exactly one must be present.
 */
export async function parseSelect(engine: DuckDbEngine, sql: string, maxLength: number, options: { readonly parameters?: boolean } = {}): Promise<ParsedSelect> {
  if (sql.length > maxLength) throw new InvalidSqlError(`query text is ${sql.length} characters; the limit is ${maxLength}`);
  if (sql.includes('\u0000')) throw new InvalidSqlError('query text contains a NUL character');
  if (sql.trim() === '') throw new InvalidSqlError('query text is empty');
  const text = await engine.serializeSql(sql);
  const parsed = parseLosslessJson(text);
  if (!isAstObject(parsed)) throw new InvalidSqlError('the parser returned an unexpected result');
  if (parsed['error'] !== false) {
    const kind = String(parsed['error_type'] ?? '');
    const message = String(parsed['error_message'] ?? 'syntax error');
    if (kind === 'not implemented' || /Only SELECT statements/.test(message)) {
      throw new SqlNotAllowedError('statement', 'only a single SELECT statement is allowed (no COPY, ATTACH, SET, PRAGMA, DDL, DML or multi-statement PIVOT)');
    }
    throw new InvalidSqlError(firstLine(message));
  }
  const statements = parsed['statements'];
  if (!Array.isArray(statements) || statements.length !== 1) {
    throw new SqlNotAllowedError('multiple statements', 'exactly one SELECT statement is allowed');
  }
  const statement = statements[0];
  if (!isAstObject(statement) || !isAstObject(statement['node'])) throw new InvalidSqlError('the parser returned an unexpected result');
  const params = statement['named_param_map'];
  // Positional parameters are checked one by one by the query checker when the caller binds values.
  if (Array.isArray(params) && params.length > 0 && options.parameters !== true) throw new SqlNotAllowedError('parameters', 'query parameters ($1, ?, $name) are not supported');
  return { node: statement['node'] };
}

/** Parses a single expression (policy predicates, substitution constants). */
export async function parseExpression(engine: DuckDbEngine, expression: string): Promise<AstObject> {
  const { node } = await parseSelect(engine, `SELECT (${expression})`, 64 * 1024);
  const list = node['select_list'];
  const from = node['from_table'];
  const simple =
    node['type'] === 'SELECT_NODE' &&
    Array.isArray(list) && list.length === 1 &&
    isAstObject(from) && from['type'] === 'EMPTY' &&
    node['where_clause'] === null && node['having'] === null && node['qualify'] === null &&
    Array.isArray(node['modifiers']) && node['modifiers'].length === 0 &&
    Array.isArray(node['group_expressions']) && node['group_expressions'].length === 0;
  const expr = Array.isArray(list) ? list[0] : undefined;
  if (!simple || !isAstObject(expr)) throw new InvalidSqlError(`not a single SQL expression: ${expression.slice(0, 200)}`);
  return expr;
}

/** Prints an AST back to SQL with DuckDB's own printer. */
export async function printSelect(engine: DuckDbEngine, node: AstObject): Promise<string> {
  const document = { error: false, statements: [{ node, named_param_map: [] }] };
  return engine.deserializeSql(stringifyLosslessJson(document));
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).slice(0, 500);
}
