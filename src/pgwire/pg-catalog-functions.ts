import { FeatureNotSupportedError, QueryFailedError } from '../errors/index.ts';
import {
  booleanConstant,
  booleanConstantValue,
  cast,
  coalesce,
  constant,
  functionCall,
  notOperator,
  typedNull,
  varcharConstantValue,
  varcharList,
  type AstNode,
} from './pg-catalog-ast.ts';
import { EMULATION_CATALOG, PG_CATALOG_SCHEMA } from './pg-catalog-ddl.ts';

/**
 * PostgreSQL's catalog and session functions, as the translation answers them: session values
 * become constants, catalog functions become calls of the sandbox's macros (pg-catalog-ddl.ts),
 * the rest of PostgreSQL's admin functions become typed constants. A function not listed here is
 * left to DuckDB (most of PostgreSQL's string and array functions exist there under the same name).
 */
export interface FunctionContext {
  readonly user: string;
  readonly database: string;
  readonly serverVersion: string;
  readonly backendPid: number;
  /** Schemas of search_path that exist, without implicit ones (current_schemas(false)). */
  readonly currentSchemas: readonly string[];
  /** The path as PostgreSQL searches it: pg_catalog first unless listed (current_schemas(true)). */
  readonly effectivePath: readonly string[];
  /** A setting's value for this session; undefined when PostgreSQL would not know the name. */
  setting(name: string): string | undefined;
  /** An expression of a relation (text name or oid) as its oid. */
  relationOid(node: AstNode): AstNode;
  /** An expression of a schema (text name or oid) as its oid. */
  namespaceOid(node: AstNode): AstNode;
}

type Handler = (args: readonly AstNode[], ctx: FunctionContext, call: AstNode) => AstNode;

export function sandboxMacro(name: string, args: readonly AstNode[]): AstNode {
  return functionCall(name, args, { catalog: EMULATION_CATALOG, schema: PG_CATALOG_SCHEMA });
}

const macro = (name: string): Handler => (args) => sandboxMacro(name, args);
const nullOf = (typeId: string): Handler => () => typedNull(typeId);
const always = (value: boolean): Handler => () => booleanConstant(value);
const zero: Handler = () => cast(constant(0), 'BIGINT');
const last = (args: readonly AstNode[]): AstNode => args[args.length - 1] ?? typedNull('VARCHAR');
const arg = (args: readonly AstNode[], i: number): AstNode => args[i] ?? typedNull('VARCHAR');
const userName: Handler = (_args, ctx) => constant(ctx.user);
const pathList = (ctx: FunctionContext): AstNode => varcharList(ctx.effectivePath);

/** Privilege checks: the caller may read (SELECT, USAGE, CONNECT, EXECUTE) what exists, never change it. */
const tablePrivilege: Handler = (args, ctx) => sandboxMacro('has_table_privilege', [ctx.relationOid(arg(args, args.length - 2)), last(args)]);
const readablePrivilege: Handler = (args) => sandboxMacro('privilege_readable', [last(args)]);

const current_setting: Handler = (args, ctx) => {
  const name = varcharConstantValue(arg(args, 0));
  if (name === undefined) return sandboxMacro('current_setting_any', [arg(args, 0)]);
  const value = ctx.setting(name);
  if (value !== undefined) return constant(value);
  if (args.length > 1 && booleanConstantValue(arg(args, 1)) === true) return typedNull('VARCHAR');
  throw new QueryFailedError(`unrecognized configuration parameter "${name.slice(0, 100)}"`);
};

const current_schemas: Handler = (args, ctx) => {
  const implicit = booleanConstantValue(arg(args, 0));
  if (implicit !== undefined) return varcharList(implicit ? ctx.effectivePath : ctx.currentSchemas);
  return functionCall('if', [arg(args, 0), varcharList(ctx.effectivePath), varcharList(ctx.currentSchemas)]);
};

/** PostgreSQL's format(): %s, %I, %L and %% with a constant format string, compiled to concatenation. */
const format: Handler = (args) => {
  const template = varcharConstantValue(arg(args, 0));
  if (template === undefined) throw new FeatureNotSupportedError('format() with a format string that is not a constant is not supported in catalog queries');
  const parts: AstNode[] = [];
  let next = 1;
  let literal = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '%') {
      literal += c;
      continue;
    }
    const spec = /^(\d+\$)?([sIL%])/.exec(template.slice(i + 1));
    if (spec === null) throw new QueryFailedError('unrecognized format() type specifier');
    i += spec[0].length;
    if (spec[2] === '%') {
      literal += '%';
      continue;
    }
    if (literal !== '') parts.push(constant(literal));
    literal = '';
    const position = spec[1] === undefined ? next++ : Number(spec[1].slice(0, -1));
    const value = args[position];
    if (value === undefined) throw new QueryFailedError('too few arguments for format()');
    const text = cast(value, 'VARCHAR');
    if (spec[2] === 's') parts.push(coalesce(text, constant('')));
    else if (spec[2] === 'I') parts.push(sandboxMacro('quote_ident', [text]));
    else parts.push(sandboxMacro('quote_nullable', [value]));
  }
  if (literal !== '') parts.push(constant(literal));
  return parts.length === 0 ? constant('') : functionCall('concat', parts);
};

const REGEX_OPERATORS: Readonly<Record<string, Handler>> = {
  // DuckDB parses `a ~ b` as regexp_full_match; PostgreSQL's ~ finds the pattern anywhere.
  regexp_full_match: (args) => functionCall('regexp_matches', [arg(args, 0), arg(args, 1)]),
  '~*': (args) => functionCall('regexp_matches', [arg(args, 0), arg(args, 1), constant('i')]),
  '!~*': (args) => notOperator(functionCall('regexp_matches', [arg(args, 0), arg(args, 1), constant('i')])),
  // PostgreSQL's LIKE escapes with a backslash by default (JDBC metadata patterns rely on it); DuckDB's does not.
  '~~': (args) => (args.length === 2 ? functionCall('like_escape', [arg(args, 0), arg(args, 1), constant('\\')]) : functionCall('~~', args)),
  '!~~': (args) => (args.length === 2 ? functionCall('not_like_escape', [arg(args, 0), arg(args, 1), constant('\\')]) : functionCall('!~~', args)),
  '~~*': (args) => (args.length === 2 ? functionCall('ilike_escape', [arg(args, 0), arg(args, 1), constant('\\')]) : functionCall('~~*', args)),
  '!~~*': (args) => (args.length === 2 ? notOperator(functionCall('ilike_escape', [arg(args, 0), arg(args, 1), constant('\\')])) : functionCall('!~~*', args)),
};

/** Functions answered by the sandbox, by lower-case name. */
export const CATALOG_FUNCTIONS: Readonly<Record<string, Handler>> = {
  version: (_args, ctx) => constant(`PostgreSQL ${ctx.serverVersion} on x86_64-pc-linux-gnu, compiled by Veil, 64-bit`),
  current_database: (_args, ctx) => constant(ctx.database),
  current_catalog: (_args, ctx) => constant(ctx.database),
  current_schema: (_args, ctx) => (ctx.currentSchemas[0] === undefined ? typedNull('VARCHAR') : constant(ctx.currentSchemas[0])),
  current_schemas,
  current_user: userName,
  session_user: userName,
  user: userName,
  current_role: userName,
  getpgusername: userName,
  current_setting,
  pg_backend_pid: (_args, ctx) => constant(ctx.backendPid),
  format_type: (args) => sandboxMacro('format_type', [arg(args, 0), arg(args, 1)]),
  pg_get_userbyid: (args, ctx) => sandboxMacro('pg_get_userbyid', [arg(args, 0), constant(ctx.user)]),
  obj_description: (args) => (args.length >= 2 ? sandboxMacro('obj_description', [arg(args, 0), arg(args, 1)]) : sandboxMacro('obj_description_any', [arg(args, 0)])),
  col_description: macro('col_description'),
  shobj_description: nullOf('VARCHAR'),
  pg_table_is_visible: (args, ctx) => sandboxMacro('pg_table_is_visible', [arg(args, 0), pathList(ctx)]),
  has_table_privilege: tablePrivilege,
  has_any_column_privilege: tablePrivilege,
  has_column_privilege: (args, ctx) => sandboxMacro('has_column_privilege', [ctx.relationOid(arg(args, args.length - 3)), arg(args, args.length - 2), last(args)]),
  has_schema_privilege: (args, ctx) => sandboxMacro('has_schema_privilege', [ctx.namespaceOid(arg(args, args.length - 2)), last(args)]),
  has_database_privilege: readablePrivilege,
  has_function_privilege: readablePrivilege,
  has_type_privilege: readablePrivilege,
  has_language_privilege: readablePrivilege,
  has_foreign_data_wrapper_privilege: readablePrivilege,
  has_server_privilege: readablePrivilege,
  has_tablespace_privilege: readablePrivilege,
  has_parameter_privilege: readablePrivilege,
  has_sequence_privilege: always(false),
  pg_has_role: always(true),
  array_upper: macro('array_upper'),
  array_lower: macro('array_lower'),
  array_length: (args) => (args.length === 2 ? sandboxMacro('array_length', [...args]) : functionCall('array_length', args)),
  _pg_expandarray: macro('expandarray'),
  pg_encoding_to_char: macro('pg_encoding_to_char'),
  pg_client_encoding: () => constant('UTF8'),
  getdatabaseencoding: () => constant('UTF8'),
  // The text DuckDB would return is the translated statement, which names the emulation's internals.
  current_query: nullOf('VARCHAR'),
  pg_char_to_encoding: macro('pg_char_to_encoding'),
  quote_ident: (args) => sandboxMacro('quote_ident', [cast(arg(args, 0), 'VARCHAR')]),
  quote_literal: macro('quote_literal'),
  quote_nullable: macro('quote_nullable'),
  parse_ident: (args) => sandboxMacro('parse_ident', [arg(args, 0)]),
  to_regclass: (args, ctx) => sandboxMacro('regclass_in', [arg(args, 0), pathList(ctx)]),
  to_regtype: (args) => sandboxMacro('regtype_in', [arg(args, 0)]),
  to_regnamespace: (args) => sandboxMacro('regnamespace_in', [arg(args, 0)]),
  to_regrole: (args, ctx) => sandboxMacro('regrole_in', [arg(args, 0), constant(ctx.user)]),
  format,
  // SQLAlchemy's column reflection builds identity options with json_build_object.
  json_build_object: (args) => functionCall('json_object', args),
  jsonb_build_object: (args) => functionCall('json_object', args),
  json_build_array: (args) => functionCall('json_array', args),
  jsonb_build_array: (args) => functionCall('json_array', args),
  pg_is_in_recovery: always(false),
  pg_relation_is_publishable: always(false),
  pg_is_other_temp_schema: always(false),
  pg_type_is_visible: always(true),
  pg_function_is_visible: always(true),
  pg_collation_is_visible: always(true),
  pg_conversion_is_visible: always(true),
  pg_operator_is_visible: always(true),
  pg_opclass_is_visible: always(true),
  pg_opfamily_is_visible: always(true),
  pg_my_temp_schema: () => constant(0),
  pg_table_size: zero,
  pg_relation_size: zero,
  pg_total_relation_size: zero,
  pg_indexes_size: zero,
  pg_database_size: zero,
  pg_stat_get_numscans: zero,
  pg_stat_get_live_tuples: zero,
  pg_stat_get_dead_tuples: zero,
  inet_client_port: nullOf('INTEGER'),
  inet_server_port: nullOf('INTEGER'),
  ...Object.fromEntries(
    [
      'pg_get_expr', 'pg_get_constraintdef', 'pg_get_indexdef', 'pg_get_viewdef', 'pg_get_triggerdef', 'pg_get_ruledef', 'pg_get_functiondef',
      'pg_get_function_arguments', 'pg_get_function_result', 'pg_get_function_identity_arguments', 'pg_get_partkeydef', 'pg_get_partition_constraintdef',
      'pg_get_statisticsobjdef_columns', 'pg_get_serial_sequence', 'pg_tablespace_location', 'inet_client_addr', 'inet_server_addr',
    ].map((name) => [name, nullOf('VARCHAR')]),
  ),
};

/** Operator spellings (DuckDB function names) that get PostgreSQL's semantics. */
export const OPERATOR_FUNCTIONS: Readonly<Record<string, Handler>> = REGEX_OPERATORS;

/** Table functions a catalog query may call (all but these are refused). */
export const CATALOG_TABLE_FUNCTIONS: ReadonlySet<string> = new Set(['generate_series', 'range', 'unnest', 'pg_get_keywords', '_pg_expandarray']);

/** Keywords DuckDB's parser leaves as column references that PostgreSQL evaluates as session functions. */
export const SESSION_KEYWORDS: ReadonlySet<string> = new Set(['current_user', 'session_user', 'user', 'current_role', 'current_catalog', 'current_schema']);

/**
 * Whether a function only makes sense against the catalog sandbox: the ones above (version,
 * current_schema, has_*_privilege, format_type, …) and any pg_* function.
 */
export function isCatalogFunction(name: string): boolean {
  const n = name.toLowerCase();
  const general = ['format', 'array_upper', 'array_lower', 'array_length', 'quote_literal', 'quote_nullable', 'quote_ident', 'parse_ident', 'json_build_object', 'jsonb_build_object', 'json_build_array', 'jsonb_build_array'];
  if (Object.hasOwn(CATALOG_FUNCTIONS, n) && !general.includes(n)) return true;
  return n.startsWith('pg_') || /^has_.*_privilege$/.test(n) || n === 'txid_current' || n === 'obj_description' || n === 'col_description';
}
