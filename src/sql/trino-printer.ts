import { VeilError } from '../errors/index.ts';
import { isAstObject, stringField, type AstObject } from './ast.ts';
import type { JsonValue } from '../util/lossless-json.ts';

/**
 * Prints a policy predicate — parsed by DuckDB, identity functions already replaced by constants
 * (policy-expression-compiler.ts) — in Trino's SQL dialect, for Trino's row filters and mask
 * conditions (docs/scale-out.md).
 *
 * Only constructs whose meaning is the same in both engines are printed; anything else is refused
 * (TrinoTranslationError), and the caller denies the table rather than drop a filter. Left out on
 * purpose: `/` (DuckDB divides integers to a double, Trino truncates), ILIKE and regular
 * expressions (different dialects), and every function not listed below.
 */
export class TrinoTranslationError extends VeilError {
  constructor(reason: string) {
    super('POLICY_NOT_APPLICABLE', `no Trino equivalent: ${reason}`);
  }
}

const COMPARISONS: Record<string, string> = {
  COMPARE_EQUAL: '=',
  COMPARE_NOTEQUAL: '<>',
  COMPARE_LESSTHAN: '<',
  COMPARE_GREATERTHAN: '>',
  COMPARE_LESSTHANOREQUALTO: '<=',
  COMPARE_GREATERTHANOREQUALTO: '>=',
  COMPARE_DISTINCT_FROM: 'IS DISTINCT FROM',
  COMPARE_NOT_DISTINCT_FROM: 'IS NOT DISTINCT FROM',
};

/** Operators written as functions in DuckDB's tree, with the same meaning in Trino. */
const INFIX: Record<string, string> = { '+': '+', '-': '-', '*': '*', '%': '%', '||': '||', '~~': 'LIKE', '!~~': 'NOT LIKE' };

/** Scalar functions with the same name, arguments and result in both engines. */
const SAME_FUNCTIONS = new Set(['lower', 'upper', 'length', 'coalesce', 'abs', 'year', 'month', 'day', 'starts_with', 'greatest', 'least', 'nullif']);

/** DuckDB type ids and the Trino type of the same values. */
const TYPES: Record<string, string> = {
  VARCHAR: 'varchar',
  BOOLEAN: 'boolean',
  TINYINT: 'tinyint',
  SMALLINT: 'smallint',
  INTEGER: 'integer',
  BIGINT: 'bigint',
  DOUBLE: 'double',
  FLOAT: 'real',
  DATE: 'date',
  TIMESTAMP: 'timestamp(6)',
};

export function trinoIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function trinoString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function printTrinoExpression(node: JsonValue): string {
  return print(node, 0);
}

function print(node: JsonValue, depth: number): string {
  if (depth > 200) throw new TrinoTranslationError('the predicate nests too deeply');
  if (!isAstObject(node)) throw new TrinoTranslationError('unexpected syntax');
  const children = (): JsonValue[] => (Array.isArray(node['children']) ? node['children'] : []);
  const sub = (child: JsonValue | undefined): string => print(child ?? null, depth + 1);
  const type = stringField(node, 'type');
  switch (node['class']) {
    case 'COLUMN_REF': {
      const names = node['column_names'];
      if (!Array.isArray(names) || names.length !== 1 || typeof names[0] !== 'string') throw new TrinoTranslationError('qualified column reference');
      return trinoIdentifier(names[0]);
    }
    case 'CONSTANT':
      return constant(node);
    case 'CONJUNCTION': {
      const op = type === 'CONJUNCTION_AND' ? ' AND ' : type === 'CONJUNCTION_OR' ? ' OR ' : undefined;
      if (op === undefined) throw new TrinoTranslationError(type);
      return `(${children().map(sub).join(op)})`;
    }
    case 'COMPARISON': {
      const op = COMPARISONS[type];
      if (op === undefined) throw new TrinoTranslationError(type);
      return `(${sub(node['left'])} ${op} ${sub(node['right'])})`;
    }
    case 'BETWEEN':
      return `(${sub(node['input'])} BETWEEN ${sub(node['lower'])} AND ${sub(node['upper'])})`;
    case 'OPERATOR':
      return operator(type, children().map(sub));
    case 'CAST': {
      const target = castType(node['cast_type']);
      const child = node['child'] ?? null;
      // DuckDB prints TRUE and FALSE as casts of 't' and 'f'.
      if (target === 'boolean' && isAstObject(child) && child['class'] === 'CONSTANT') {
        const text = isAstObject(child['value']) ? child['value']['value'] : undefined;
        if (text === 't') return 'TRUE';
        if (text === 'f') return 'FALSE';
      }
      return `${node['try_cast'] === true ? 'TRY_CAST' : 'CAST'}(${sub(child)} AS ${target})`;
    }
    case 'CASE': {
      const checks = Array.isArray(node['case_checks']) ? node['case_checks'] : [];
      const whens = checks.map((check) => {
        if (!isAstObject(check)) throw new TrinoTranslationError('CASE');
        return `WHEN ${sub(check['when_expr'])} THEN ${sub(check['then_expr'])}`;
      });
      return `(CASE ${whens.join(' ')} ELSE ${sub(node['else_expr'])} END)`;
    }
    case 'FUNCTION':
      return functionCall(node, children().map(sub));
    default:
      throw new TrinoTranslationError(String(node['class']).toLowerCase());
  }
}

function operator(type: string, args: string[]): string {
  switch (type) {
    case 'OPERATOR_NOT':
      return `(NOT ${args[0]})`;
    case 'OPERATOR_IS_NULL':
      return `(${args[0]} IS NULL)`;
    case 'OPERATOR_IS_NOT_NULL':
      return `(${args[0]} IS NOT NULL)`;
    case 'COMPARE_IN':
      return `(${args[0]} IN (${args.slice(1).join(', ')}))`;
    case 'COMPARE_NOT_IN':
      return `(${args[0]} NOT IN (${args.slice(1).join(', ')}))`;
    case 'OPERATOR_COALESCE':
      return `coalesce(${args.join(', ')})`;
    default:
      throw new TrinoTranslationError(type.toLowerCase());
  }
}

function functionCall(node: AstObject, args: string[]): string {
  const name = stringField(node, 'function_name').toLowerCase();
  if (node['distinct'] === true || (node['filter'] !== null && node['filter'] !== undefined)) throw new TrinoTranslationError(`${name} with DISTINCT or FILTER`);
  const infix = INFIX[name];
  if (infix !== undefined) {
    if (args.length === 1 && name === '-') return `(- ${args[0]})`;
    if (args.length !== 2) throw new TrinoTranslationError(`${name} with ${args.length} operands`);
    return `(${args[0]} ${infix} ${args[1]})`;
  }
  if (name === 'list_value') return `ARRAY[${args.join(', ')}]`;
  if (name === 'list_contains' && args.length === 2) return `contains(${args[0]}, ${args[1]})`;
  if (SAME_FUNCTIONS.has(name)) return `${name}(${args.join(', ')})`;
  throw new TrinoTranslationError(`function ${name}`);
}

function castType(type: JsonValue | undefined): string {
  if (!isAstObject(type)) throw new TrinoTranslationError('cast');
  const id = stringField(type, 'id');
  if (id === 'LIST') {
    const child = isAstObject(type['type_info']) ? type['type_info']['child_type'] : undefined;
    return `array(${castType(child)})`;
  }
  const trino = TYPES[id];
  if (trino === undefined) throw new TrinoTranslationError(`type ${id.toLowerCase()}`);
  return trino;
}

function constant(node: AstObject): string {
  const value = node['value'];
  if (!isAstObject(value)) throw new TrinoTranslationError('constant');
  if (value['is_null'] === true) return 'NULL';
  const type = isAstObject(value['type']) ? value['type'] : {};
  const id = stringField(type, 'id');
  const raw = value['value'];
  switch (id) {
    case 'VARCHAR':
      if (typeof raw !== 'string') break;
      return trinoString(raw);
    case 'BOOLEAN':
      return raw === true ? 'TRUE' : 'FALSE';
    case 'TINYINT':
    case 'SMALLINT':
    case 'INTEGER':
    case 'BIGINT':
      if (typeof raw !== 'number' && typeof raw !== 'bigint' && typeof raw !== 'string') break;
      if (!/^-?\d+$/.test(String(raw))) break;
      return String(raw).startsWith('-') ? `(${String(raw)})` : String(raw);
    case 'DECIMAL': {
      // DuckDB keeps a decimal as its unscaled integer and its scale: 2.5 is 25 at scale 1.
      const scale = isAstObject(type['type_info']) ? type['type_info']['scale'] : undefined;
      if (typeof scale !== 'number' || !/^-?\d+$/.test(String(raw))) break;
      const digits = String(raw).replace('-', '').padStart(scale + 1, '0');
      const text = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
      return String(raw).startsWith('-') ? `(-${text})` : text;
    }
    default:
      break;
  }
  throw new TrinoTranslationError(`constant of type ${id.toLowerCase()}`);
}
