import type { DuckDbEngine } from '../engine/index.ts';
import { sqlString } from '../engine/index.ts';
import { PolicyNotApplicableError, VeilError } from '../errors/index.ts';
import type { Principal } from '../identity/index.ts';
import type { JsonValue } from '../util/lossless-json.ts';
import { isAstObject, stringField, type AstObject } from './ast.ts';
import { isAllowedFunction } from './function-allowlist.ts';
import { parseExpression, printSelect } from './sql-parser.ts';

/** Alias of the raw source inside every policy-applied scan. */
export const RAW_ALIAS = '__veil_raw';

/**
 * Identity functions usable in row filters and mask conditions. They are replaced by constants at
 * compile time (docs/security.md invariant 6): nothing the caller sets at run time can change them.
 */
export const IDENTITY_FUNCTIONS = ['user_attribute', 'user_attribute_values', 'current_user_name', 'user_in_group', 'user_groups'] as const;

/**
 * Compiles an admin-written predicate (row filter or mask condition) for one principal and one
 * dataset: DuckDB parses it; only allowlisted scalar functions and the identity functions may
 * appear; every column reference must be a column of the dataset and is qualified with the raw
 * alias; identity functions become constants. Returns DuckDB-printed SQL, safe to embed in parens.
 */
export async function compilePolicyPredicate(
  engine: DuckDbEngine,
  predicate: string,
  principal: Principal,
  columns: ReadonlySet<string>,
  context: { policy: string; dataset: string },
): Promise<string> {
  // The result depends only on these inputs (DuckDB's parser and printer are pure), so it is kept:
  // after a policy change, the predicates that did not change are not parsed again. Refusals are
  // not kept (their message names the policy).
  const key = JSON.stringify([predicate, principal, [...columns].sort()]);
  const known = COMPILED.get(key);
  if (known !== undefined) return known;
  const expression = await bindPolicyPredicate(engine, predicate, principal, columns, context, RAW_ALIAS);
  const printed = await printSelect(engine, selectOf(expression));
  const match = /^SELECT ([\s\S]*)$/.exec(printed);
  if (!match?.[1]) throw new PolicyNotApplicableError(context.policy, context.dataset, 'predicate could not be printed');
  const compiled = match[1];
  if (COMPILED.size >= COMPILED_LIMIT) COMPILED.delete(COMPILED.keys().next().value as string);
  COMPILED.set(key, compiled);
  return compiled;
}

/** Compiled predicates by their inputs (least recently added dropped first). */
const COMPILED = new Map<string, string>();
const COMPILED_LIMIT = 20_000;

/**
 * The checks of compilePolicyPredicate, returning DuckDB's syntax tree with identity functions
 * replaced by constants and column names lower-cased (qualified with `qualifier` when given), for
 * a printer: DuckDB's own here, Trino's for Trino's row filters (src/sql/trino-printer.ts).
 */
export async function bindPolicyPredicate(
  engine: DuckDbEngine,
  predicate: string,
  principal: Principal,
  columns: ReadonlySet<string>,
  context: { policy: string; dataset: string },
  qualifier?: string,
): Promise<AstObject> {
  const fail = (reason: string): never => {
    throw new PolicyNotApplicableError(context.policy, context.dataset, reason);
  };
  let expression: AstObject;
  try {
    expression = await parseExpression(engine, predicate);
  } catch (error) {
    if (error instanceof VeilError) return fail(`invalid predicate: ${error.message}`);
    throw error;
  }
  const substitutions: Array<{ holder: AstObject; sql: string }> = [];

  const visit = (value: JsonValue, depth: number): void => {
    if (depth > 200) fail('predicate nests too deeply');
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    if (!isAstObject(value)) return;
    const nodeClass = value['class'];
    if (typeof nodeClass === 'string') {
      switch (nodeClass) {
        case 'FUNCTION': {
          const name = stringField(value, 'function_name').toLowerCase();
          const schema = stringField(value, 'schema');
          const catalog = stringField(value, 'catalog');
          if (!((catalog === '' || catalog === 'system') && (schema === '' || schema === 'main'))) fail(`schema-qualified function ${name}`);
          if ((IDENTITY_FUNCTIONS as readonly string[]).includes(name)) {
            substitutions.push({ holder: value, sql: identityValue(name, value, principal, fail) });
            return;
          }
          if (!isAllowedFunction(name)) fail(`function ${name} is not allowed in policies`);
          break;
        }
        case 'COLUMN_REF': {
          const names = value['column_names'];
          if (!Array.isArray(names) || names.length !== 1 || typeof names[0] !== 'string') fail('column references in policies are plain column names');
          const name = (names as string[])[0]!.toLowerCase();
          if (!columns.has(name)) fail(`unknown column ${name}`);
          value['column_names'] = qualifier === undefined ? [name] : [qualifier, name];
          return;
        }
        case 'SUBQUERY':
        case 'WINDOW':
        case 'STAR':
        case 'PARAMETER':
        case 'DEFAULT':
        case 'POSITIONAL_REFERENCE':
          fail(`${nodeClass.toLowerCase()} is not allowed in policy predicates`);
          break;
        default:
          break;
      }
    }
    for (const key of Object.keys(value)) {
      const child = value[key];
      if (child !== undefined && typeof child === 'object' && child !== null) visit(child, depth + 1);
    }
  };
  visit(expression, 0);

  for (const { holder, sql } of substitutions) {
    const constant = await parseExpression(engine, sql);
    for (const key of Object.keys(holder)) delete holder[key];
    Object.assign(holder, constant);
  }
  return expression;
}

function identityValue(name: string, node: AstObject, principal: Principal, fail: (reason: string) => never): string {
  const args = node['children'];
  const stringArg = (): string => {
    const first = Array.isArray(args) && args.length === 1 ? args[0] : undefined;
    const value = isAstObject(first) && first['class'] === 'CONSTANT' && isAstObject(first['value']) ? first['value']['value'] : undefined;
    if (typeof value !== 'string') fail(`${name} takes one string constant`);
    return value;
  };
  const noArgs = (): void => {
    if (Array.isArray(args) && args.length > 0) fail(`${name} takes no arguments`);
  };
  const list = (values: readonly string[]): string => (values.length === 0 ? 'CAST([] AS VARCHAR[])' : `[${values.map(sqlString).join(', ')}]`);
  switch (name) {
    case 'user_attribute': {
      const values = principal.attributes[stringArg()] ?? [];
      // A multi-valued attribute has no single value: fail closed instead of picking one.
      if (values.length > 1) fail(`attribute ${stringArg()} has several values; use user_attribute_values`);
      return values[0] === undefined ? 'CAST(NULL AS VARCHAR)' : sqlString(values[0]);
    }
    case 'user_attribute_values':
      return list(principal.attributes[stringArg()] ?? []);
    case 'current_user_name':
      noArgs();
      return sqlString(principal.user);
    case 'user_in_group':
      return principal.groups.includes(stringArg()) ? 'TRUE' : 'FALSE';
    case 'user_groups':
      noArgs();
      return list(principal.groups);
    default:
      return fail(`unknown identity function ${name}`);
  }
}

function selectOf(expression: AstObject): AstObject {
  return {
    type: 'SELECT_NODE',
    modifiers: [],
    cte_map: { map: [] },
    select_list: [expression],
    from_table: { type: 'EMPTY', alias: '', sample: null, query_location: 0 },
    where_clause: null,
    group_expressions: [],
    group_sets: [],
    aggregate_handling: 'STANDARD_HANDLING',
    having: null,
    sample: null,
    qualify: null,
  };
}
