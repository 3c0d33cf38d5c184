import { DatasetNotFoundError, SqlNotAllowedError } from '../errors/index.ts';
import type { JsonValue } from '../util/lossless-json.ts';
import {
  EXPRESSION_CLASSES,
  MODIFIER_TYPES,
  ORDER_TYPES,
  QUERY_NODE_TYPES,
  TABLE_REF_TYPES,
  TYPE_INFO_TYPES,
  includes,
  isAstObject,
  stringField,
  type AstObject,
} from './ast.ts';
import { isAllowedFunction } from './function-allowlist.ts';
import { MAX_AST_DEPTH } from './sql-parser.ts';

/** A base-table reference in the user's query, to be replaced by its policy-applied scan. */
export interface TableReference {
  /** The BASE_TABLE node itself; the rewriter turns it into a SUBQUERY node in place. */
  readonly node: AstObject;
  /** database.name, lower case */
  readonly dataset: string;
  /** The name the rest of the query uses for it (alias, else the table name as typed). */
  readonly alias: string;
}

export interface CheckedQuery {
  readonly root: AstObject;
  readonly tables: readonly TableReference[];
  /** Lower-case names used in column references (every part), for audit and error mapping. */
  readonly columnNames: ReadonlySet<string>;
  /**
   * Lower-case names the query itself defines (select-list, table, column and CTE aliases, lambda
   * parameters): a reference to one of them is not a reference to a dataset column.
   */
  readonly definedNames: ReadonlySet<string>;
  /** True when a * or COLUMNS(...) may expand to every visible column. */
  readonly usesStar: boolean;
  /**
   * True when something may read a table's columns without naming them: a star, a positional
   * reference (`#1`), a NATURAL join, PIVOT, or DESCRIBE/SUMMARIZE. Otherwise every column the
   * query can resolve is among `columnNames` (USING columns included), or the whole row of a
   * table named by its alias (see `scanColumns`).
   */
  readonly readsUnnamedColumns: boolean;
  /** Lower-case last parts of column references: `t` or `x.t` may be table t's whole row. */
  readonly referenceEnds: ReadonlySet<string>;
  /** Lower-case names of the functions (scalar, aggregate, window) the query calls. */
  readonly functionNames: ReadonlySet<string>;
  /** True when anything is sampled (TABLESAMPLE, USING SAMPLE): its rows vary from run to run. */
  readonly samples: boolean;
  /** Bare keywords that DuckDB would evaluate as session functions unless a column has that name. */
  readonly sessionKeywords: ReadonlySet<string>;
  /** How many positional parameters ($1 … $n) the statement uses (0 without parameters). */
  readonly parameterCount: number;
}

/**
 * Keywords the parser turns into column references but the binder falls back to session functions
 * for (current_user, current_schema…). They are allowed only as names of real dataset columns.
 */
const SESSION_KEYWORDS = new Set(['current_user', 'user', 'session_user', 'current_role', 'current_schema', 'current_catalog', 'current_database', 'current_query']);

/** Names a node introduces: its alias, column aliases (`t(a, b)`, `WITH c(a, b)`) and lambda parameters. */
function collectDefinedNames(node: AstObject, into: Set<string>): void {
  const alias = node['alias'];
  if (typeof alias === 'string' && alias !== '') into.add(asciiLower(alias));
  for (const key of ['aliases', 'column_name_alias'] as const) {
    const names = node[key];
    if (Array.isArray(names)) for (const n of names) if (typeof n === 'string') into.add(asciiLower(n));
  }
  // `x -> x + 1` names a parameter; `col -> '$.path'` (JSON, a constant on the right) reads a column.
  const body = node['expr'];
  if (node['class'] === 'LAMBDA' && !(isAstObject(body) && body['class'] === 'CONSTANT')) {
    const parameters = node['lhs'];
    const refs = isAstObject(parameters) && parameters['class'] === 'FUNCTION' ? parameters['children'] : [parameters];
    for (const ref of Array.isArray(refs) ? refs : []) {
      const names = isAstObject(ref) ? ref['column_names'] : undefined;
      if (Array.isArray(names)) for (const n of names) if (typeof n === 'string') into.add(asciiLower(n));
    }
  }
}

/**
 * Walks every object of a parsed user query (docs/security.md invariants 2 and 3): node kinds, functions
 * and table references are checked against allowlists; unknown kinds are rejected, never skipped.
 * Because the walk is generic (every field of every object), a table reference or function in any
 * position (LIMIT, QUALIFY, PIVOT, lambda, sample…) is found.
 */
export interface CheckOptions {
  /**
   * Positional parameters ($1 … $n) are allowed: their values are bound to the prepared statement
   * by the engine, never spliced into the text (the PostgreSQL door's extended protocol).
   */
  readonly parameters?: boolean;
}

export function checkUserQuery(root: AstObject, options: CheckOptions = {}): CheckedQuery {
  const tables: TableReference[] = [];
  const columnNames = new Set<string>();
  const definedNames = new Set<string>();
  const sessionKeywords = new Set<string>();
  let usesStar = false;
  let readsUnnamedColumns = false;
  const referenceEnds = new Set<string>();
  const functionNames = new Set<string>();
  let samples = false;
  let parameterCount = 0;

  let cteCounter = 0;
  const visit = (value: JsonValue, ctes: CteScope, depth: number): void => {
    if (depth > MAX_AST_DEPTH) throw new SqlNotAllowedError('nesting', `the query nests deeper than ${MAX_AST_DEPTH} levels`);
    if (Array.isArray(value)) {
      for (const item of value) visit(item, ctes, depth + 1);
      return;
    }
    if (!isAstObject(value)) return;
    let scope = ctes;
    collectDefinedNames(value, definedNames);
    if (value['sample'] !== undefined && value['sample'] !== null) samples = true;
    const nodeClass = value['class'];
    const nodeType = value['type'];
    if (typeof nodeClass === 'string') {
      if (nodeClass === 'PARAMETER' && options.parameters === true) parameterCount = Math.max(parameterCount, positionalParameter(value));
      else checkExpression(value, nodeClass);
      if (nodeClass === 'COLUMN_REF') {
        const names = value['column_names'];
        if (Array.isArray(names)) {
          for (const n of names) if (typeof n === 'string') columnNames.add(asciiLower(n));
          const last: unknown = names[names.length - 1];
          if (typeof last === 'string') referenceEnds.add(asciiLower(last));
          const only = names.length === 1 ? names[0] : undefined;
          if (typeof only === 'string' && SESSION_KEYWORDS.has(asciiLower(only))) sessionKeywords.add(asciiLower(only));
        }
      }
      if (nodeClass === 'STAR') usesStar = true;
      if (nodeClass === 'STAR' || nodeClass === 'POSITIONAL_REFERENCE') readsUnnamedColumns = true;
      if (nodeClass === 'FUNCTION' || nodeClass === 'WINDOW') functionNames.add(asciiLower(stringField(value, 'function_name')));
    } else if (typeof nodeType === 'string') {
      if (nodeType === 'PIVOT' || nodeType === 'SHOW_REF' || value['ref_type'] === 'NATURAL') readsUnnamedColumns = true;
      const using = value['using_columns'];
      if (Array.isArray(using)) for (const n of using) if (typeof n === 'string') columnNames.add(asciiLower(n));
      if (includes(QUERY_NODE_TYPES, nodeType)) {
        scope = bindCtes(value, ctes, depth);
      } else if (includes(TABLE_REF_TYPES, nodeType)) {
        const reference = checkTableRef(value, nodeType, ctes);
        if (reference !== undefined) {
          tables.push(reference);
          return; // replaced wholesale; nothing inside a BASE_TABLE node needs a walk
        }
      } else if (!includes(MODIFIER_TYPES, nodeType) && !includes(ORDER_TYPES, nodeType) && !includes(TYPE_INFO_TYPES, nodeType)) {
        throw new SqlNotAllowedError(nodeType, `${describe(nodeType)} is not supported in Veil queries`);
      }
    }
    for (const key of Object.keys(value)) {
      if (key === 'cte_map' && scope !== ctes) continue; // already walked by bindCtes
      const child = value[key];
      if (child !== undefined && typeof child === 'object' && child !== null) visit(child, scope, depth + 1);
    }
  };

  /**
   * Walks the WITH list of a query node with DuckDB's scoping: a CTE body sees the CTEs before
   * it (and itself only when it is recursive); the query body sees them all. Every CTE gets a
   * generated name and every reference to it is renamed, so a reference that DuckDB would not
   * bind to the CTE cannot silently bind to a catalog object of the same name instead.
   */
  const bindCtes = (node: AstObject, outer: CteScope, depth: number): CteScope => {
    const cteMap = node['cte_map'];
    const entries = isAstObject(cteMap) ? cteMap['map'] : undefined;
    if (!Array.isArray(entries) || entries.length === 0) return outer;
    const scope = new Map(outer);
    for (const entry of entries) {
      if (!isAstObject(entry) || typeof entry['key'] !== 'string' || !isAstObject(entry['value'])) {
        throw new SqlNotAllowedError('WITH', 'unexpected shape of a WITH clause');
      }
      const name = asciiLower(entry['key']);
      const generated = `__veil_cte_${cteCounter++}`;
      const definition = entry['value'];
      const query = definition['query'];
      const body = isAstObject(query) ? query['node'] : undefined;
      const recursive = isAstObject(body) && body['type'] === 'RECURSIVE_CTE_NODE';
      const bodyScope = recursive ? new Map([...scope, [name, generated]]) : new Map(scope);
      if (recursive) body['cte_name'] = generated;
      visit(definition, bodyScope, depth + 1);
      entry['key'] = generated;
      scope.set(name, generated);
    }
    return scope;
  };

  visit(root, new Map(), 0);
  return { root, tables, columnNames, definedNames, usesStar, readsUnnamedColumns, referenceEnds, functionNames, samples, sessionKeywords, parameterCount };
}

/** CTE names in scope (ASCII lower case, as DuckDB folds them) to their generated names. */
type CteScope = ReadonlyMap<string, string>;

/** DuckDB folds identifiers to lower case in ASCII only; JavaScript's toLowerCase folds more (K → k). */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** The number of a $n parameter; named parameters ($name) are refused. */
function positionalParameter(node: AstObject): number {
  const identifier = node['identifier'];
  const position = typeof identifier === 'string' && /^[1-9][0-9]{0,4}$/.test(identifier) ? Number(identifier) : Number.NaN;
  if (!Number.isInteger(position)) throw new SqlNotAllowedError('PARAMETER', 'only positional parameters ($1, $2, …) are supported');
  return position;
}

function checkExpression(node: AstObject, nodeClass: string): void {
  if (!includes(EXPRESSION_CLASSES, nodeClass)) {
    throw new SqlNotAllowedError(nodeClass, nodeClass === 'PARAMETER' ? 'query parameters are not supported' : `${describe(nodeClass)} expressions are not supported`);
  }
  if (nodeClass === 'FUNCTION' || nodeClass === 'WINDOW') {
    const name = stringField(node, 'function_name');
    const catalog = stringField(node, 'catalog');
    const schema = stringField(node, 'schema');
    // The parser itself qualifies some built-ins (list and struct literals) as main.<fn>; the
    // system catalog's main schema is where every built-in lives. Any other qualifier (our
    // internal schema, a user schema) is refused.
    const builtIn = (catalog === '' || catalog === 'system') && (schema === '' || schema === 'main');
    const qualifier = [catalog, schema].filter((s) => s !== '').join('.');
    if (!builtIn) throw new SqlNotAllowedError(`${qualifier}.${name}`, `schema-qualified function ${qualifier}.${name} is not allowed`);
    if (!isAllowedFunction(name)) throw new SqlNotAllowedError(name, `function ${name} is not allowed`);
    if (node['export_state'] === true) throw new SqlNotAllowedError('EXPORT_STATE', 'EXPORT_STATE is not allowed');
  }
}

function checkTableRef(node: AstObject, type: string, ctes: CteScope): TableReference | undefined {
  switch (type) {
    case 'BASE_TABLE': {
      if (node['at_clause'] !== null && node['at_clause'] !== undefined) throw new SqlNotAllowedError('AT', 'time travel (AT clause) is not supported');
      const catalog = stringField(node, 'catalog_name');
      const schema = stringField(node, 'schema_name');
      const table = stringField(node, 'table_name');
      const typed = [catalog, schema, table].filter((s) => s !== '').join('.');
      if (catalog === '' && schema === '') {
        // An unqualified name is a CTE in scope; datasets are always database.name.
        const generated = ctes.get(asciiLower(table));
        if (generated === undefined) throw new DatasetNotFoundError(table);
        if (stringField(node, 'alias') === '') node['alias'] = table;
        node['table_name'] = generated;
        return undefined;
      }
      if (catalog !== '') throw new DatasetNotFoundError(typed);
      const alias = stringField(node, 'alias');
      return { node, dataset: asciiLower(`${schema}.${table}`), alias: alias !== '' ? alias : table };
    }
    case 'TABLE_FUNCTION': {
      const fn = node['function'];
      const name = isAstObject(fn) ? stringField(fn, 'function_name') : 'unknown';
      throw new SqlNotAllowedError(name, `table function ${name} is not allowed: read datasets by name (database.name)`);
    }
    case 'SHOW_REF': {
      const showType = stringField(node, 'show_type');
      if ((showType !== 'SUMMARY' && showType !== 'DESCRIBE') || stringField(node, 'table_name') !== '' || !isAstObject(node['query'])) {
        throw new SqlNotAllowedError(`SHOW ${showType}`, `${showType || 'SHOW'} of this form is not supported`);
      }
      return undefined;
    }
    case 'PIVOT':
      if (stringField(node, 'pivot_enum') !== '') throw new SqlNotAllowedError('PIVOT ENUM', 'PIVOT over an enum type is not supported');
      return undefined;
    default:
      return undefined;
  }
}

function describe(kind: string): string {
  return kind.toLowerCase().replaceAll('_', ' ');
}
