import { RawJsonNumber, type JsonValue } from '../util/lossless-json.ts';

/**
 * The parts of DuckDB's serialized parse tree (json_serialize_sql) that the catalog translation
 * reads and builds. Expressions carry `class`, table references and query nodes a string `type`.
 * @see https://duckdb.org/docs/stable/data/json/sql_to_and_from_json
 */
export type AstNode = { [key: string]: JsonValue };

export function isNode(value: JsonValue | undefined): value is AstNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof RawJsonNumber);
}

export function text(node: AstNode, key: string): string {
  const value = node[key];
  return typeof value === 'string' ? value : '';
}

export function children(node: AstNode, key = 'children'): AstNode[] {
  const value = node[key];
  return Array.isArray(value) ? value.filter(isNode) : [];
}

/** DuckDB folds unquoted identifiers in ASCII only. */
export function asciiLower(value: string): string {
  return value.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** "No source position" as DuckDB writes it (2^64 - 1). */
const NO_LOCATION = 18446744073709551615n;

const base = (cls: string, type: string): AstNode => ({ class: cls, type, alias: '', query_location: NO_LOCATION });

export type ConstantType = 'VARCHAR' | 'INTEGER' | 'BIGINT';

export function constant(value: string | number | bigint, type?: ConstantType): AstNode {
  const id = type ?? (typeof value === 'string' ? 'VARCHAR' : typeof value === 'bigint' || !Number.isSafeInteger(value) || Math.abs(value) > 2147483647 ? 'BIGINT' : 'INTEGER');
  return { ...base('CONSTANT', 'VALUE_CONSTANT'), value: { type: { id, type_info: null }, is_null: false, value } };
}

/** A typed literal: CAST('t' AS BOOLEAN), CAST(NULL AS VARCHAR), … */
export function cast(child: AstNode, typeId: string, typeInfo: JsonValue = null): AstNode {
  return { ...base('CAST', 'OPERATOR_CAST'), child, cast_type: { id: typeId, type_info: typeInfo }, try_cast: false };
}

export function nullConstant(): AstNode {
  return { ...base('CONSTANT', 'VALUE_CONSTANT'), value: { type: { id: 'NULL', type_info: null }, is_null: true } };
}

export function typedNull(typeId: string): AstNode {
  return cast(nullConstant(), typeId);
}

export function booleanConstant(value: boolean): AstNode {
  return cast(constant(value ? 't' : 'f'), 'BOOLEAN');
}

export function listTypeInfo(childTypeId: string): JsonValue {
  return { type: 'LIST_TYPE_INFO', alias: '', extension_info: null, child_type: { id: childTypeId, type_info: null } };
}

export function functionCall(name: string, args: readonly AstNode[], qualifier: { readonly catalog?: string; readonly schema?: string } = {}): AstNode {
  return {
    ...base('FUNCTION', 'FUNCTION'),
    function_name: name,
    schema: qualifier.schema ?? '',
    children: [...args],
    filter: null,
    order_bys: { type: 'ORDER_MODIFIER', orders: [] },
    distinct: false,
    is_operator: false,
    export_state: false,
    catalog: qualifier.catalog ?? '',
  };
}

/** A VARCHAR[] literal built from constants (an empty list keeps its type). */
export function varcharList(values: readonly string[]): AstNode {
  return cast(functionCall('list_value', values.map((v) => constant(v))), 'LIST', listTypeInfo('VARCHAR'));
}

export function coalesce(...args: AstNode[]): AstNode {
  return { ...base('OPERATOR', 'OPERATOR_COALESCE'), children: args };
}

export function notOperator(child: AstNode): AstNode {
  return { ...base('OPERATOR', 'OPERATOR_NOT'), children: [child] };
}

/** The constant value of a VARCHAR literal, else undefined. */
export function varcharConstantValue(node: AstNode): string | undefined {
  if (node['class'] !== 'CONSTANT') return undefined;
  const value = node['value'];
  if (!isNode(value) || value['is_null'] === true) return undefined;
  const type = value['type'];
  if (!isNode(type) || type['id'] !== 'VARCHAR') return undefined;
  const v = value['value'];
  return typeof v === 'string' ? v : undefined;
}

/** The constant value of a boolean literal (DuckDB writes TRUE as CAST('t' AS BOOLEAN)). */
export function booleanConstantValue(node: AstNode): boolean | undefined {
  if (node['class'] === 'CAST') {
    const target = node['cast_type'];
    const child = node['child'];
    if (!isNode(target) || target['id'] !== 'BOOLEAN' || !isNode(child)) return undefined;
    const v = varcharConstantValue(child);
    return v === undefined ? undefined : ['t', 'true', 'on', 'yes', '1'].includes(v.toLowerCase());
  }
  if (node['class'] !== 'CONSTANT') return undefined;
  const value = node['value'];
  if (!isNode(value)) return undefined;
  const v = value['value'];
  return typeof v === 'boolean' ? v : undefined;
}
