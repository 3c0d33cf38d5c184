import { RawJsonNumber, type JsonValue } from '../util/lossless-json.ts';

/**
 * DuckDB's serialized parse tree (json_serialize_sql), as far as Veil depends on it. Nodes are
 * recognised by their discriminants: expressions carry `class`, table references, query nodes,
 * result modifiers and order nodes carry a string `type`. Anything else is a plain record.
 */
export type AstObject = { [key: string]: JsonValue };

export const QUERY_NODE_TYPES = ['SELECT_NODE', 'SET_OPERATION_NODE', 'RECURSIVE_CTE_NODE', 'CTE_NODE'] as const;
export const TABLE_REF_TYPES = ['BASE_TABLE', 'JOIN', 'SUBQUERY', 'EMPTY', 'EXPRESSION_LIST', 'PIVOT', 'SHOW_REF', 'TABLE_FUNCTION'] as const;
export const MODIFIER_TYPES = ['ORDER_MODIFIER', 'LIMIT_MODIFIER', 'LIMIT_PERCENT_MODIFIER', 'DISTINCT_MODIFIER'] as const;
export const ORDER_TYPES = ['ORDER_DEFAULT', 'ORDER_ASCENDING', 'ORDER_DESCENDING', 'ASCENDING', 'DESCENDING'] as const;
/** Extra type information inside a cast target or constant type. */
export const TYPE_INFO_TYPES = [
  'DECIMAL_TYPE_INFO', 'STRING_TYPE_INFO', 'LIST_TYPE_INFO', 'STRUCT_TYPE_INFO', 'ENUM_TYPE_INFO', 'USER_TYPE_INFO', 'ARRAY_TYPE_INFO',
  'INTEGER_LITERAL_TYPE_INFO', 'GENERIC_TYPE_INFO',
] as const;

export type QueryNodeType = (typeof QUERY_NODE_TYPES)[number];
export type TableRefType = (typeof TABLE_REF_TYPES)[number];

/** Expression classes a user query may contain. PARAMETER and DEFAULT are not among them. */
export const EXPRESSION_CLASSES = [
  'BETWEEN', 'CASE', 'CAST', 'COLLATE', 'COLUMN_REF', 'COMPARISON', 'CONJUNCTION', 'CONSTANT', 'FUNCTION', 'LAMBDA', 'LAMBDA_REF',
  'OPERATOR', 'POSITIONAL_REFERENCE', 'STAR', 'SUBQUERY', 'WINDOW',
] as const;
export type ExpressionClass = (typeof EXPRESSION_CLASSES)[number];

export function isAstObject(value: JsonValue | undefined): value is AstObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof RawJsonNumber);
}

export function stringField(node: AstObject, key: string): string {
  const value = node[key];
  return typeof value === 'string' ? value : '';
}

export function includes<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}
