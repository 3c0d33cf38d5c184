import type { JsonValue } from '../util/lossless-json.ts';
import { asciiLower, isNode, text, type AstNode } from './pg-catalog-ast.ts';
import { CATALOG_TABLE_FUNCTIONS, isCatalogFunction, SESSION_KEYWORDS } from './pg-catalog-functions.ts';
import { PG_CATALOG_RELATION_NAMES } from './pg-catalog-relations.ts';

/**
 * Where a parsed statement (json_serialize_sql's `statements[0].node`, or the whole document)
 * should run:
 * - `catalog`: every table reference is a pg_catalog / information_schema relation (or a table
 *   function such as generate_series or pg_get_keywords()): the catalog sandbox;
 * - `data`: every reference is a dataset: the data pipeline;
 * - `mixed`: both (a dataset joined with pg_class): neither can answer it alone;
 * - `none`: no table at all (SELECT 1, SELECT version()); see usesCatalogFunctions.
 *
 * A reference is catalog when its schema is pg_catalog or information_schema, or when it is
 * unqualified and names a pg_catalog relation the sandbox provides (pg_class, pg_type, …) —
 * unless a CTE of that name is in scope, since then it is no table at all. SHOW name counts as
 * catalog (its answer is a setting).
 */
export type StatementTarget = 'catalog' | 'data' | 'mixed' | 'none';

const QUERY_NODES = new Set(['SELECT_NODE', 'SET_OPERATION_NODE', 'RECURSIVE_CTE_NODE', 'CTE_NODE']);
const CATALOG_SCHEMAS = new Set(['pg_catalog', 'information_schema']);

export function statementTarget(ast: unknown): StatementTarget {
  let catalog = false;
  let data = false;
  walk(rootOf(ast), new Set(), 0, {
    table: (node, scope) => {
      const schema = asciiLower(text(node, 'schema_name'));
      const name = asciiLower(text(node, 'table_name'));
      if (schema === '' && text(node, 'catalog_name') === '' && scope.has(name)) return;
      if (CATALOG_SCHEMAS.has(schema) || (schema === '' && PG_CATALOG_RELATION_NAMES.has(name))) catalog = true;
      else data = true;
    },
    tableFunction: (node) => {
      // generate_series, pg_get_keywords(), … are the sandbox's; any other table function
      // (read_csv, glob, …) goes to the pipeline, which refuses it as it would over HTTP.
      const fn = node['function'];
      if (isNode(fn) && CATALOG_TABLE_FUNCTIONS.has(asciiLower(text(fn, 'function_name')))) catalog = true;
      else data = true;
    },
    show: () => {
      // DESCRIBE / SUMMARIZE of a dataset: the pipeline answers them as over HTTP (SHOW of a
      // setting never gets here, the session answers it).
      data = true;
    },
  });
  if (catalog && data) return 'mixed';
  if (catalog) return 'catalog';
  if (data) return 'data';
  return 'none';
}

/**
 * Whether a statement calls something only the catalog sandbox answers: version(),
 * current_schema(), current_user and the other session keywords, has_*_privilege, format_type,
 * any pg_* function, a reg* cast ('pg_class'::regclass), or SHOW. A statement with no table that
 * uses none of these (SELECT 1 + 1) belongs to the data pipeline.
 */
export function usesCatalogFunctions(ast: unknown): boolean {
  let found = false;
  walk(rootOf(ast), new Set(), 0, {
    expression: (node) => {
      const cls = node['class'];
      if (cls === 'FUNCTION' || cls === 'WINDOW') {
        const schema = asciiLower(text(node, 'schema'));
        if (isCatalogFunction(text(node, 'function_name')) || CATALOG_SCHEMAS.has(schema)) found = true;
      } else if (cls === 'COLUMN_REF') {
        const names = node['column_names'];
        if (Array.isArray(names) && names.length === 1 && typeof names[0] === 'string' && SESSION_KEYWORDS.has(asciiLower(names[0]))) found = true;
      } else if (cls === 'CAST') {
        const target = node['cast_type'];
        const info = isNode(target) ? target['type_info'] : undefined;
        if (isNode(target) && target['id'] === 'UNBOUND' && isNode(info) && /^(reg|name$|oidvector$|int2vector$)/.test(asciiLower(text(info, 'name')))) found = true;
      }
    },
    tableFunction: (node) => {
      const fn = node['function'];
      if (isNode(fn) && CATALOG_TABLE_FUNCTIONS.has(asciiLower(text(fn, 'function_name'))) && asciiLower(text(fn, 'function_name')) !== 'range') found = true;
    },
    show: () => {
      found = true;
    },
  });
  return found;
}

interface Visitor {
  table?(node: AstNode, scope: ReadonlySet<string>): void;
  tableFunction?(node: AstNode): void;
  show?(node: AstNode): void;
  expression?(node: AstNode): void;
}

/** Accepts the whole json_serialize_sql document, a statement, or a query node. */
function rootOf(ast: unknown): JsonValue {
  const value = ast as JsonValue;
  if (!isNode(value)) return value;
  const statements = value['statements'];
  if (Array.isArray(statements)) return statements;
  const node = value['node'];
  return isNode(node) && value['type'] === undefined ? node : value;
}

/** Every object of the tree is visited (the same generic walk as the query checker), with CTE scopes. */
function walk(value: JsonValue, scope: ReadonlySet<string>, depth: number, visitor: Visitor): void {
  if (depth > 1000) return;
  if (Array.isArray(value)) {
    for (const item of value) walk(item, scope, depth + 1, visitor);
    return;
  }
  if (!isNode(value)) return;
  let inner = scope;
  const type = value['type'];
  if (typeof value['class'] === 'string') visitor.expression?.(value);
  else if (typeof type === 'string') {
    if (QUERY_NODES.has(type)) inner = walkCtes(value, scope, depth, visitor);
    else if (type === 'BASE_TABLE') visitor.table?.(value, scope);
    else if (type === 'TABLE_FUNCTION') visitor.tableFunction?.(value);
    else if (type === 'SHOW_REF') {
      // SHOW name parses as DESCRIBE of a table called name: not a table reference.
      visitor.show?.(value);
      return;
    }
  }
  for (const [key, child] of Object.entries(value)) {
    if (key === 'cte_map' && inner !== scope) continue;
    if (typeof child === 'object' && child !== null) walk(child, inner, depth + 1, visitor);
  }
}

/** WITH scoping: a CTE body sees the CTEs before it (and itself when recursive); the query sees all. */
function walkCtes(node: AstNode, outer: ReadonlySet<string>, depth: number, visitor: Visitor): ReadonlySet<string> {
  const cteMap = node['cte_map'];
  const entries = isNode(cteMap) ? cteMap['map'] : undefined;
  if (!Array.isArray(entries) || entries.length === 0) return outer;
  const scope = new Set(outer);
  for (const entry of entries) {
    if (!isNode(entry) || typeof entry['key'] !== 'string') continue;
    const name = asciiLower(entry['key']);
    const definition = entry['value'];
    const query = isNode(definition) ? definition['query'] : undefined;
    const body = isNode(query) ? query['node'] : undefined;
    const recursive = isNode(body) && body['type'] === 'RECURSIVE_CTE_NODE';
    walk(definition ?? null, recursive ? new Set([...scope, name]) : new Set(scope), depth + 1, visitor);
    scope.add(name);
  }
  return scope;
}
