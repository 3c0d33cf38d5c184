import { CATALOG_RELATIONS, PG_CATALOG_NAMESPACE_OID, type CatalogRelation } from './pg-catalog-relations.ts';
import { PG_TYPE_ROWS } from './pg-catalog-types.ts';
import { PG_SCALAR_TYPES } from './pg-types.ts';

/**
 * Where the emulated catalog lives inside the sandbox, and the SQL that creates it.
 *
 * DuckDB 1.5 cannot shadow its own pg_catalog and information_schema: they are "default schemas"
 * that exist virtually in every catalog (CREATE SCHEMA pg_catalog fails with "already exists",
 * CREATE TABLE memory.pg_catalog.x with "schema does not exist"), and a name qualified with them
 * always resolves to the system catalog first. Its built-in views there are also not PostgreSQL's
 * (DuckDB's own OIDs and columns; pg_class lists duckdb internals). So the emulation lives in an
 * attached in-memory catalog under neutral schema names, and the translation step
 * (pg-catalog-translate.ts) rewrites every relation and function reference of a client query to
 * a fully qualified name there; nothing is left to DuckDB's search path. The caller's Veil
 * databases are schemas of the default catalog ("memory"), holding empty tables.
 */
export const EMULATION_CATALOG = 'veil_pg';
export const PG_CATALOG_SCHEMA = 'pgcat';
export const INFORMATION_SCHEMA_SCHEMA = 'infoschema';
/** DuckDB's name for the default catalog of an in-memory instance: the caller's schemas. */
export const DATA_CATALOG = 'memory';

/** The caller's role (pg_authid.oid). PostgreSQL's bootstrap role has OID 10; every object is owned by it. */
export const ROLE_OID = 10;
/** pg_database.oid of the startup database (PostgreSQL's first normal object OID). */
export const DATABASE_OID = 16384;
export const HEAP_AM_OID = 2;
export const PG_CLASS_OID = 1259;
export const PG_NAMESPACE_OID = 2615;

/** Relations whose rows depend on the session (database or user name): table macros taking (veil_db, veil_user). */
export const SESSION_RELATIONS: ReadonlySet<string> = new Set([
  'pg_catalog.pg_database',
  'pg_catalog.pg_authid',
  'pg_catalog.pg_roles',
  'pg_catalog.pg_user',
  'pg_catalog.pg_tables',
  'pg_catalog.pg_views',
  'information_schema.schemata',
  'information_schema.tables',
  'information_schema.columns',
  'information_schema.views',
]);
/** pg_settings takes the session's values of its settings: (names, values). */
export const SETTINGS_RELATION = 'pg_catalog.pg_settings';

const PG = `${EMULATION_CATALOG}.${PG_CATALOG_SCHEMA}`;
const IS = `${EMULATION_CATALOG}.${INFORMATION_SCHEMA_SCHEMA}`;

export function qualifiedRelation(relation: Pick<CatalogRelation, 'schema' | 'name'>): string {
  return `${relation.schema === 'pg_catalog' ? PG : IS}.${relation.name}`;
}

/** SELECT list in the relation's column order; columns not given are typed NULLs. */
function selectList(relation: CatalogRelation, values: Readonly<Record<string, string>>): string {
  for (const name of Object.keys(values)) {
    if (!relation.columns.some((c) => c.name === name)) throw new Error(`${relation.name} has no column ${name}`);
  }
  return relation.columns.map((c) => `CAST(${values[c.name] ?? 'NULL'} AS ${c.type}) AS ${c.name}`).join(', ');
}

const NAMESPACES_OF = `${PG}.pg_class c JOIN ${PG}.pg_namespace n ON n.oid = c.relnamespace`;
/**
 * Inside macros every alias is veil_-prefixed: a macro is expanded in place, so an argument such as
 * `c.oid` would otherwise bind to the macro's own `c`.
 */
const MACRO_NAMESPACES_OF = `${PG}.pg_class veil_c JOIN ${PG}.pg_namespace veil_n ON veil_n.oid = veil_c.relnamespace`;

/** Relations computed from the data tables, by schema.name: view (static) or table macro (session). */
const DERIVED: Readonly<Record<string, { readonly values: Readonly<Record<string, string>>; readonly from: string }>> = {
  'pg_catalog.pg_database': {
    values: {
      oid: String(DATABASE_OID), datname: 'veil_db', datdba: String(ROLE_OID), encoding: '6', datlocprovider: "'c'", datistemplate: 'false',
      datallowconn: 'true', datconnlimit: '-1', datfrozenxid: '0', datminmxid: '1', dattablespace: '1663', datcollate: "'C.UTF-8'", datctype: "'C.UTF-8'",
    },
    from: '',
  },
  'pg_catalog.pg_authid': {
    values: {
      oid: String(ROLE_OID), rolname: 'veil_user', rolsuper: 'false', rolinherit: 'true', rolcreaterole: 'false', rolcreatedb: 'false',
      rolcanlogin: 'true', rolreplication: 'false', rolbypassrls: 'false', rolconnlimit: '-1',
    },
    from: '',
  },
  'pg_catalog.pg_roles': {
    values: {
      rolname: 'veil_user', rolsuper: 'false', rolinherit: 'true', rolcreaterole: 'false', rolcreatedb: 'false', rolcanlogin: 'true',
      rolreplication: 'false', rolconnlimit: '-1', rolpassword: "'********'", rolbypassrls: 'false', oid: String(ROLE_OID),
    },
    from: '',
  },
  'pg_catalog.pg_user': {
    values: {
      usename: 'veil_user', usesysid: String(ROLE_OID), usecreatedb: 'false', usesuper: 'false', userepl: 'false', usebypassrls: 'false', passwd: "'********'",
    },
    from: '',
  },
  'pg_catalog.pg_tables': {
    values: {
      schemaname: 'n.nspname', tablename: 'c.relname', tableowner: 'veil_user', hasindexes: 'c.relhasindex', hasrules: 'c.relhasrules',
      hastriggers: 'c.relhastriggers', rowsecurity: 'c.relrowsecurity',
    },
    from: `FROM ${NAMESPACES_OF} WHERE c.relkind IN ('r', 'p')`,
  },
  'pg_catalog.pg_views': {
    values: { schemaname: 'n.nspname', viewname: 'c.relname', viewowner: 'veil_user' },
    from: `FROM ${NAMESPACES_OF} WHERE c.relkind = 'v'`,
  },
  'pg_catalog.pg_stat_user_tables': statTables(`n.nspname NOT IN ('pg_catalog', 'information_schema')`),
  'pg_catalog.pg_stat_all_tables': statTables('true'),
  'pg_catalog.pg_statio_user_tables': {
    values: {
      relid: 'c.oid', schemaname: 'n.nspname', relname: 'c.relname', heap_blks_read: '0', heap_blks_hit: '0', idx_blks_read: '0', idx_blks_hit: '0',
      toast_blks_read: '0', toast_blks_hit: '0', tidx_blks_read: '0', tidx_blks_hit: '0',
    },
    from: `FROM ${NAMESPACES_OF} WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
  },
  'information_schema.schemata': {
    values: { catalog_name: 'veil_db', schema_name: 'n.nspname', schema_owner: 'veil_user' },
    from: `FROM ${PG}.pg_namespace n`,
  },
  'information_schema.tables': {
    values: {
      table_catalog: 'veil_db', table_schema: 'n.nspname', table_name: 'c.relname',
      table_type: "CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'BASE TABLE' END", is_insertable_into: "'NO'", is_typed: "'NO'",
    },
    from: `FROM ${NAMESPACES_OF} WHERE c.relkind IN ('r', 'p', 'v')`,
  },
  'information_schema.views': {
    values: {
      table_catalog: 'veil_db', table_schema: 'n.nspname', table_name: 'c.relname', check_option: "'NONE'", is_updatable: "'NO'",
      is_insertable_into: "'NO'", is_trigger_updatable: "'NO'", is_trigger_deletable: "'NO'", is_trigger_insertable_into: "'NO'",
    },
    from: `FROM ${NAMESPACES_OF} WHERE c.relkind = 'v'`,
  },
  'information_schema.columns': {
    values: {
      table_catalog: 'veil_db', table_schema: 'n.nspname', table_name: 'c.relname', column_name: 'a.attname', ordinal_position: 'a.attnum',
      is_nullable: "CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END",
      data_type: 'ti.data_type',
      character_octet_length: 'ti.character_octet_length',
      numeric_precision: `CASE WHEN a.atttypid = ${PG_SCALAR_TYPES.numeric.oid} AND a.atttypmod >= 4 THEN (a.atttypmod - 4) >> 16 ELSE ti.numeric_precision END`,
      numeric_precision_radix: `CASE WHEN a.atttypid = ${PG_SCALAR_TYPES.numeric.oid} THEN 10 ELSE ti.numeric_precision_radix END`,
      numeric_scale: `CASE WHEN a.atttypid = ${PG_SCALAR_TYPES.numeric.oid} AND a.atttypmod >= 4 THEN (a.atttypmod - 4) & 65535 ELSE ti.numeric_scale END`,
      datetime_precision: 'ti.datetime_precision',
      udt_catalog: 'veil_db', udt_schema: "'pg_catalog'", udt_name: 't.typname', dtd_identifier: 'CAST(a.attnum AS VARCHAR)',
      is_self_referencing: "'NO'", is_identity: "'NO'", identity_cycle: "'NO'", is_generated: "'NEVER'", is_updatable: "'NO'",
    },
    from:
      `FROM ${NAMESPACES_OF} JOIN ${PG}.pg_attribute a ON a.attrelid = c.oid JOIN ${PG}.pg_type t ON t.oid = a.atttypid ` +
      `LEFT JOIN ${PG}.veil_type_info ti ON ti.oid = a.atttypid WHERE c.relkind IN ('r', 'p', 'v') AND a.attnum > 0 AND NOT a.attisdropped`,
  },
};

function statTables(filter: string): { values: Record<string, string>; from: string } {
  const zero = ['seq_scan', 'seq_tup_read', 'idx_scan', 'idx_tup_fetch', 'n_tup_ins', 'n_tup_upd', 'n_tup_del', 'n_tup_hot_upd', 'n_live_tup', 'n_dead_tup', 'n_mod_since_analyze', 'n_ins_since_vacuum', 'vacuum_count', 'autovacuum_count', 'analyze_count', 'autoanalyze_count'];
  // Row counts stay 0: a dataset's size is not catalog information, and rows differ per caller anyway.
  return {
    values: { relid: 'c.oid', schemaname: 'n.nspname', relname: 'c.relname', ...Object.fromEntries(zero.map((z) => [z, '0'])) },
    from: `FROM ${NAMESPACES_OF} WHERE c.relkind IN ('r', 'p') AND ${filter}`,
  };
}

function relationDdl(relation: CatalogRelation): string {
  const key = `${relation.schema}.${relation.name}`;
  const name = qualifiedRelation(relation);
  const derived = DERIVED[key];
  if (key === SETTINGS_RELATION) {
    const columns = relation.columns.map((c) => (c.name === 'setting' ? 'coalesce(o.v, s.setting) AS setting' : `s.${c.name}`)).join(', ');
    return `CREATE MACRO ${name}(veil_names, veil_values) AS TABLE SELECT ${columns} FROM ${PG}.veil_settings s ` +
      `LEFT JOIN (SELECT unnest(veil_names) AS k, unnest(veil_values) AS v) o ON lower(o.k) = lower(s.name) ORDER BY lower(s.name)`;
  }
  if (derived === undefined) return `CREATE TABLE ${name} (${relation.columns.map((c) => `${c.name} ${c.type}`).join(', ')})`;
  const select = `SELECT ${selectList(relation, derived.values)} ${derived.from}`;
  return SESSION_RELATIONS.has(key) ? `CREATE MACRO ${name}(veil_db, veil_user) AS TABLE ${select}` : `CREATE VIEW ${name} AS ${select}`;
}

/** format_type(oid, typmod) with the spellings of formatPgType (pg-types.ts), so \d shows what results announce. */
function formatTypeCase(): string {
  const cases = PG_TYPE_ROWS.map((row) => `WHEN ${row.type.oid} THEN '${row.formatName.replaceAll("'", "''")}'`).join(' ');
  const numeric = PG_SCALAR_TYPES.numeric.oid;
  return `CASE WHEN type_oid IS NULL THEN NULL ` +
    `WHEN type_oid = ${numeric} AND typemod >= 4 THEN 'numeric(' || CAST((typemod - 4) >> 16 AS VARCHAR) || ',' || CAST((typemod - 4) & 65535 AS VARCHAR) || ')' ` +
    `WHEN type_oid = ${PG_SCALAR_TYPES.varchar.oid} AND typemod >= 4 THEN 'character varying(' || CAST(typemod - 4 AS VARCHAR) || ')' ` +
    `WHEN type_oid = 1042 AND typemod >= 4 THEN 'character(' || CAST(typemod - 4 AS VARCHAR) || ')' ` +
    `ELSE CASE type_oid ${cases} ELSE '???' END END`;
}

/**
 * Scalar macros standing in for PostgreSQL's catalog functions. The translation calls them fully
 * qualified, adding the session's values (user, search path) as trailing arguments where needed.
 */
function macroDdl(): string[] {
  const m = (signature: string, body: string): string => `CREATE MACRO ${PG}.${signature} AS ${body}`;
  const readable = `list_has_any(list_transform(string_split(lower(priv), ','), veil_x -> trim(veil_x)), ['select', 'usage', 'connect', 'execute'])`;
  return [
    m('format_type(type_oid, typemod)', formatTypeCase()),
    m('pg_get_userbyid(role_oid, veil_user)', `CASE WHEN role_oid IS NULL THEN NULL WHEN role_oid = ${ROLE_OID} THEN veil_user ELSE 'unknown (OID=' || CAST(role_oid AS VARCHAR) || ')' END`),
    m('obj_description(obj_oid, catalog_name)',
      `(SELECT veil_d.description FROM ${PG}.pg_description veil_d JOIN ${PG}.pg_class veil_k ON veil_k.oid = veil_d.classoid AND veil_k.relnamespace = ${PG_CATALOG_NAMESPACE_OID} ` +
      `WHERE veil_d.objoid = obj_oid AND veil_d.objsubid = 0 AND veil_k.relname = catalog_name LIMIT 1)`),
    m('obj_description_any(obj_oid)', `(SELECT veil_d.description FROM ${PG}.pg_description veil_d WHERE veil_d.objoid = obj_oid AND veil_d.objsubid = 0 LIMIT 1)`),
    m('col_description(rel_oid, column_number)',
      `(SELECT veil_d.description FROM ${PG}.pg_description veil_d WHERE veil_d.objoid = rel_oid AND veil_d.classoid = ${PG_CLASS_OID} AND veil_d.objsubid = column_number LIMIT 1)`),
    m('parse_ident(ident)', `list_transform(regexp_extract_all(ident, '("([^"]|"")*"|[^."]+)'), veil_x -> CASE WHEN starts_with(veil_x, '"') THEN replace(veil_x[2:-2], '""', '"') ELSE lower(trim(veil_x)) END)`),
    m('quote_ident(ident)',
      `CASE WHEN ident IS NULL THEN NULL WHEN regexp_full_match(ident, '[a-z_][a-z0-9_$]*') AND NOT EXISTS (SELECT 1 FROM ${PG}.veil_keywords veil_k WHERE veil_k.word = ident AND veil_k.catcode <> 'U') ` +
      `THEN ident ELSE '"' || replace(ident, '"', '""') || '"' END`),
    m('quote_literal(v)', `'''' || replace(CAST(v AS VARCHAR), '''', '''''') || ''''`),
    m('quote_nullable(v)', `CASE WHEN v IS NULL THEN 'NULL' ELSE '''' || replace(CAST(v AS VARCHAR), '''', '''''') || '''' END`),
    // text → oid as PostgreSQL's regclassin: a number is an oid; a name is looked up along the path.
    m('regclass_in(rel_text, search_path)',
      `CASE WHEN rel_text IS NULL THEN NULL WHEN regexp_full_match(rel_text, '[0-9]+') THEN CAST(rel_text AS INTEGER) ELSE (` +
      `SELECT veil_c.oid FROM ${MACRO_NAMESPACES_OF} WHERE veil_c.relname = ${PG}.parse_ident(rel_text)[-1] AND CASE WHEN len(${PG}.parse_ident(rel_text)) > 1 ` +
      `THEN veil_n.nspname = ${PG}.parse_ident(rel_text)[-2] ELSE list_contains(search_path, veil_n.nspname) END ORDER BY list_position(search_path, veil_n.nspname) LIMIT 1) END`),
    m('regclass_out(rel_oid, search_path)',
      `coalesce((SELECT CASE WHEN list_contains(search_path, veil_n.nspname) THEN ${PG}.quote_ident(veil_c.relname) ELSE ${PG}.quote_ident(veil_n.nspname) || '.' || ${PG}.quote_ident(veil_c.relname) END ` +
      `FROM ${MACRO_NAMESPACES_OF} WHERE veil_c.oid = rel_oid), CAST(rel_oid AS VARCHAR))`),
    m('regnamespace_in(nsp_text)',
      `CASE WHEN nsp_text IS NULL THEN NULL WHEN regexp_full_match(nsp_text, '[0-9]+') THEN CAST(nsp_text AS INTEGER) ELSE ` +
      `(SELECT veil_n.oid FROM ${PG}.pg_namespace veil_n WHERE veil_n.nspname = ${PG}.parse_ident(nsp_text)[-1]) END`),
    m('regnamespace_out(nsp_oid)', `coalesce((SELECT ${PG}.quote_ident(veil_n.nspname) FROM ${PG}.pg_namespace veil_n WHERE veil_n.oid = nsp_oid), CAST(nsp_oid AS VARCHAR))`),
    m('regtype_in(type_text)',
      `CASE WHEN type_text IS NULL THEN NULL WHEN regexp_full_match(type_text, '[0-9]+') THEN CAST(type_text AS INTEGER) ELSE ` +
      `(SELECT veil_t.oid FROM ${PG}.veil_type_names veil_t WHERE veil_t.name = regexp_replace(lower(trim(type_text)), '^pg_catalog\\.', '') LIMIT 1) END`),
    m('regtype_out(type_oid)', `coalesce(${PG}.format_type(type_oid, NULL), CAST(type_oid AS VARCHAR))`),
    m('regrole_in(role_text, veil_user)', `CASE WHEN role_text IS NULL THEN NULL WHEN role_text = veil_user OR ${PG}.parse_ident(role_text)[-1] = veil_user THEN ${ROLE_OID} END`),
    m('regrole_out(role_oid, veil_user)', `CASE WHEN role_oid = ${ROLE_OID} THEN veil_user ELSE CAST(role_oid AS VARCHAR) END`),
    m('regproc_in(proc_text)', `regexp_replace(lower(trim(proc_text)), '^pg_catalog\\.', '')`),
    m('privilege_readable(priv)', readable),
    m('has_table_privilege(rel_oid, priv)', `${readable} AND EXISTS (SELECT 1 FROM ${PG}.pg_class veil_c WHERE veil_c.oid = rel_oid) AND NOT EXISTS (SELECT 1 FROM ${PG}.veil_unreadable veil_u WHERE veil_u.oid = rel_oid)`),
    // A column the caller cannot see does not exist for them: no privilege on it.
    m('has_column_privilege(rel_oid, col, priv)',
      `${PG}.has_table_privilege(rel_oid, priv) AND EXISTS (SELECT 1 FROM ${PG}.pg_attribute veil_a WHERE veil_a.attrelid = rel_oid AND (veil_a.attname = CAST(col AS VARCHAR) OR CAST(veil_a.attnum AS VARCHAR) = CAST(col AS VARCHAR)))`),
    m('has_schema_privilege(nsp_oid, priv)', `${readable} AND EXISTS (SELECT 1 FROM ${PG}.pg_namespace veil_n WHERE veil_n.oid = nsp_oid)`),
    m('pg_table_is_visible(rel_oid, search_path)',
      `EXISTS (SELECT 1 FROM ${MACRO_NAMESPACES_OF} WHERE veil_c.oid = rel_oid AND list_contains(search_path, veil_n.nspname) AND NOT EXISTS (` +
      `SELECT 1 FROM ${PG}.pg_class veil_c2 JOIN ${PG}.pg_namespace veil_n2 ON veil_n2.oid = veil_c2.relnamespace WHERE veil_c2.relname = veil_c.relname ` +
      `AND list_position(search_path, veil_n2.nspname) < list_position(search_path, veil_n.nspname)))`),
    // PostgreSQL arrays here are one-dimensional and 1-based, like DuckDB lists; empty arrays have no bounds.
    m('array_upper(arr, dim)', 'CASE WHEN len(arr) > 0 AND dim = 1 THEN CAST(len(arr) AS INTEGER) END'),
    m('array_lower(arr, dim)', 'CASE WHEN len(arr) > 0 AND dim = 1 THEN CAST(1 AS INTEGER) END'),
    m('array_length(arr, dim)', 'CASE WHEN len(arr) > 0 AND dim = 1 THEN CAST(len(arr) AS INTEGER) END'),
    m('expandarray(arr)', `unnest(list_transform(arr, (veil_x, veil_i) -> {'x': veil_x, 'n': CAST(veil_i AS INTEGER)}))`),
    `CREATE MACRO ${PG}.expandarray_table(arr) AS TABLE SELECT veil_e.x AS x, veil_e.n AS n FROM (SELECT unnest(list_transform(arr, (veil_x, veil_i) -> {'x': veil_x, 'n': CAST(veil_i AS INTEGER)})) AS veil_e)`,
    m('pg_encoding_to_char(encoding)', `CASE encoding WHEN 6 THEN 'UTF8' WHEN 0 THEN 'SQL_ASCII' ELSE '' END`),
    m('pg_char_to_encoding(encoding_name)', `CASE upper(encoding_name) WHEN 'UTF8' THEN 6 WHEN 'UTF-8' THEN 6 WHEN 'SQL_ASCII' THEN 0 ELSE -1 END`),
    m('current_setting_any(setting_name)', `(SELECT veil_s.setting FROM ${PG}.veil_settings veil_s WHERE lower(veil_s.name) = lower(setting_name))`),
    `CREATE MACRO ${PG}.pg_get_keywords() AS TABLE SELECT word, catcode, barelabel, catdesc, baredesc FROM ${PG}.veil_keywords`,
  ];
}

/** Helper tables of the emulation; their names (veil_*) are never reachable from client SQL. */
function helperDdl(): string[] {
  return [
    `CREATE TABLE ${PG}.veil_keywords (word VARCHAR, catcode VARCHAR, barelabel BOOLEAN, catdesc VARCHAR, baredesc VARCHAR)`,
    // DuckDB's grammar is PostgreSQL's, and so is its keyword list and categories.
    `INSERT INTO ${PG}.veil_keywords SELECT keyword_name, ` +
      `CASE keyword_category WHEN 'reserved' THEN 'R' WHEN 'unreserved' THEN 'U' WHEN 'column_name' THEN 'C' ELSE 'T' END, true, ` +
      `CASE keyword_category WHEN 'reserved' THEN 'reserved' WHEN 'unreserved' THEN 'unreserved' WHEN 'column_name' THEN 'unreserved (cannot be function or type name)' ` +
      `ELSE 'reserved (can be function or type name)' END, 'can be bare label' FROM duckdb_keywords() ORDER BY keyword_name`,
    `CREATE TABLE ${PG}.veil_settings (name VARCHAR, setting VARCHAR, unit VARCHAR, category VARCHAR, short_desc VARCHAR, extra_desc VARCHAR, context VARCHAR, ` +
      `vartype VARCHAR, source VARCHAR, min_val VARCHAR, max_val VARCHAR, enumvals VARCHAR[], boot_val VARCHAR, reset_val VARCHAR, sourcefile VARCHAR, ` +
      `sourceline INTEGER, pending_restart BOOLEAN)`,
    `CREATE TABLE ${PG}.veil_type_info (oid INTEGER, data_type VARCHAR, numeric_precision INTEGER, numeric_precision_radix INTEGER, numeric_scale INTEGER, ` +
      `datetime_precision INTEGER, character_octet_length INTEGER)`,
    `CREATE TABLE ${PG}.veil_type_names (name VARCHAR, oid INTEGER)`,
    // The caller's tables they may describe but not read (has_table_privilege answers false).
    `CREATE TABLE ${PG}.veil_unreadable (oid INTEGER)`,
  ];
}

let cachedDdl: string | undefined;

/** Every statement that creates the (snapshot-independent) emulated catalog, as one script. */
export function emulationDdl(): string {
  cachedDdl ??= [
    `ATTACH ':memory:' AS ${EMULATION_CATALOG}`,
    `CREATE SCHEMA ${PG}`,
    `CREATE SCHEMA ${IS}`,
    ...helperDdl(),
    ...CATALOG_RELATIONS.filter((r) => DERIVED[`${r.schema}.${r.name}`] === undefined && `${r.schema}.${r.name}` !== SETTINGS_RELATION).map(relationDdl),
    ...macroDdl(),
    ...CATALOG_RELATIONS.filter((r) => DERIVED[`${r.schema}.${r.name}`] !== undefined || `${r.schema}.${r.name}` === SETTINGS_RELATION).map(relationDdl),
  ].join(';\n');
  return cachedDdl;
}

