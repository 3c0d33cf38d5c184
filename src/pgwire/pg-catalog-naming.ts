import type { JsonValue } from '../util/lossless-json.ts';
import { asciiLower, children, isNode, text, varcharConstantValue, type AstNode } from './pg-catalog-ast.ts';
import { SESSION_KEYWORDS } from './pg-catalog-functions.ts';
import { CATALOG_RELATIONS } from './pg-catalog-relations.ts';

/**
 * What the translation reads from an expression's shape alone: whether it is a name or an oid
 * (for reg* casts), how PostgreSQL names it as an output column, how it reads a qualified name.
 */

/** Column names of the emulated relations that are always text (relname, nspname, …): a cast of one to regclass reads it as a name. */
const TEXT_COLUMNS: ReadonlySet<string> = (() => {
  const textual = new Set<string>();
  const other = new Set<string>();
  for (const relation of CATALOG_RELATIONS) for (const c of relation.columns) (c.type === 'VARCHAR' ? textual : other).add(c.name);
  return new Set([...textual].filter((n) => !other.has(n)));
})();

const TEXT_FUNCTIONS = new Set([
  'format', 'concat', 'concat_ws', '||', 'lower', 'upper', 'replace', 'quote_ident', 'trim', 'ltrim', 'rtrim', 'btrim', 'substring', 'substr', 'split_part',
  'current_schema', 'current_user', 'session_user', 'string_agg', 'lpad', 'rpad', 'left', 'right', 'initcap', 'regexp_replace', 'translate', 'textcat',
]);

/** PostgreSQL's reading of a (possibly qualified, possibly quoted) name: unquoted parts fold to lower case. */
export function parseIdentifier(name: string): string[] {
  const parts: string[] = [];
  const re = /\s*(?:"((?:[^"]|"")*)"|([^."]+))\s*(?:\.|$)/gy;
  let match: RegExpExecArray | null;
  while (re.lastIndex < name.length && (match = re.exec(name)) !== null) {
    if (match[1] !== undefined) parts.push(match[1].replaceAll('""', '"'));
    else parts.push(asciiLower((match[2] ?? '').trim()));
    if (match[0] === '') break;
  }
  return parts;
}

/**
 * Whether an expression is text (a name) rather than an oid, read from its shape: PostgreSQL's
 * reg* casts go text → oid for names and oid → text for oids, and DuckDB has no reg* types to
 * carry the difference, so the translation decides from the expression.
 */
export function isTextLike(node: AstNode): boolean {
  switch (node['class']) {
    case 'CONSTANT':
      return varcharConstantValue(node) !== undefined;
    case 'PARAMETER':
      return true;
    case 'CAST': {
      const target = node['cast_type'];
      if (!isNode(target)) return false;
      if (target['id'] === 'VARCHAR') return true;
      if (target['id'] === 'UNBOUND') {
        const info = target['type_info'];
        const name = isNode(info) ? asciiLower(text(info, 'name')) : '';
        if (['name', 'text', 'varchar', 'bpchar', 'char'].includes(name)) return true;
        const child = node['child'];
        // regclass of an oid is a name, regclass of a name is an oid.
        if (name.startsWith('reg') && isNode(child)) return !isTextLike(child);
      }
      return false;
    }
    case 'FUNCTION':
      return TEXT_FUNCTIONS.has(asciiLower(text(node, 'function_name')));
    case 'COLUMN_REF': {
      const names = node['column_names'];
      const last = Array.isArray(names) ? names[names.length - 1] : undefined;
      return typeof last === 'string' && (TEXT_COLUMNS.has(asciiLower(last)) || SESSION_KEYWORDS.has(asciiLower(last)));
    }
    case 'CASE': {
      const checks = node['case_checks'];
      const first = Array.isArray(checks) ? checks[0] : undefined;
      const then = isNode(first) ? first['then_expr'] : undefined;
      return isNode(then) && isTextLike(then);
    }
    case 'OPERATOR': {
      const first = children(node)[0];
      return node['type'] === 'OPERATOR_COALESCE' && first !== undefined && isTextLike(first);
    }
    default:
      return false;
  }
}

/**
 * Output column names as PostgreSQL gives them (FigureColname): a function's name, a cast's
 * argument name or type name, "?column?" for other expressions. DuckDB would name them after the
 * expression text (`count_star()`, `'veil'` for a replaced current_database()). Only the output
 * columns of the statement are named; inner queries keep DuckDB's names.
 * @see https://github.com/postgres/postgres/blob/REL_15_STABLE/src/backend/parser/parse_target.c
 */
export function nameOutputColumns(root: AstNode): void {
  let node: AstNode | undefined = root;
  while (node !== undefined && node['type'] === 'SET_OPERATION_NODE') {
    const left: JsonValue | undefined = node['left'];
    node = isNode(left) ? left : undefined;
  }
  if (node === undefined || node['type'] !== 'SELECT_NODE' || !Array.isArray(node['select_list'])) return;
  for (const item of node['select_list']) {
    if (!isNode(item) || text(item, 'alias') !== '' || item['class'] === 'STAR' || item['class'] === 'COLUMN_REF') continue;
    const name = figureName(item);
    item['alias'] = name ?? '?column?';
  }
}

export function figureName(node: AstNode): string | undefined {
  switch (node['class']) {
    case 'COLUMN_REF': {
      const names = node['column_names'];
      const last = Array.isArray(names) ? names[names.length - 1] : undefined;
      return typeof last === 'string' ? last : undefined;
    }
    case 'FUNCTION':
    case 'WINDOW': {
      if (node['is_operator'] === true) return undefined;
      const name = asciiLower(text(node, 'function_name'));
      if (name === 'count_star') return 'count';
      if (name === 'regexp_full_match' || name === 'list_value') return name === 'list_value' ? 'array' : undefined;
      return name;
    }
    case 'CAST': {
      const child = node['child'];
      const inner = isNode(child) ? figureName(child) : undefined;
      if (inner !== undefined) return inner;
      const target = node['cast_type'];
      if (!isNode(target)) return undefined;
      const info = target['type_info'];
      if (target['id'] === 'UNBOUND' && isNode(info)) return asciiLower(text(info, 'name'));
      const pgNames: Record<string, string> = { BOOLEAN: 'bool', INTEGER: 'int4', BIGINT: 'int8', SMALLINT: 'int2', VARCHAR: 'text', DOUBLE: 'float8', FLOAT: 'float4', DATE: 'date', DECIMAL: 'numeric' };
      return typeof target['id'] === 'string' ? pgNames[target['id']] : undefined;
    }
    case 'CASE':
      return 'case';
    case 'OPERATOR': {
      if (node['type'] === 'OPERATOR_COALESCE') return 'coalesce';
      if (node['type'] === 'STRUCT_EXTRACT') {
        const field = children(node)[1];
        return field === undefined ? undefined : varcharConstantValue(field);
      }
      if (node['type'] === 'ARRAY_EXTRACT') {
        const first = children(node)[0];
        return first === undefined ? undefined : figureName(first);
      }
      return undefined;
    }
    case 'SUBQUERY': {
      const kind = text(node, 'subquery_type');
      if (kind === 'EXISTS') return 'exists';
      if (kind !== 'SCALAR') return undefined;
      const subquery = node['subquery'];
      const inner = isNode(subquery) ? subquery['node'] : undefined;
      const list = isNode(inner) ? inner['select_list'] : undefined;
      const first = Array.isArray(list) ? list[0] : undefined;
      if (!isNode(first)) return undefined;
      // ARRAY(subquery) arrives as CASE WHEN array_agg(…) IS NULL THEN [] ELSE array_agg(…) END.
      const otherwise = first['else_expr'];
      if (first['class'] === 'CASE' && isNode(otherwise) && text(otherwise, 'function_name') === 'array_agg') return 'array';
      return text(first, 'alias') !== '' ? text(first, 'alias') : figureName(first);
    }
    default:
      return undefined;
  }
}
