import { sqlIdentifier, type AppendValue, type ResultColumn, type SandboxLoader } from '../engine/index.ts';
import {
  DATA_CATALOG,
  DATABASE_OID,
  EMULATION_CATALOG,
  emulationDdl,
  HEAP_AM_OID,
  PG_CATALOG_SCHEMA,
  PG_CLASS_OID,
  PG_NAMESPACE_OID,
  qualifiedRelation,
  ROLE_OID,
  SESSION_RELATIONS,
  SETTINGS_RELATION,
} from './pg-catalog-ddl.ts';
import { CATALOG_RELATIONS, INFORMATION_SCHEMA_NAMESPACE_OID, PG_CATALOG_NAMESPACE_OID, type CatalogRelation } from './pg-catalog-relations.ts';
import { INFORMATION_SCHEMA_TYPES, ioFunctionNames, PG_TYPE_ROWS } from './pg-catalog-types.ts';
import { pgColumnType, PG_SCALAR_TYPES } from './pg-types.ts';

/** What the caller may see, as the door hands it over (hidden columns and tables are simply absent). */
export interface CatalogSnapshot {
  readonly schemas: readonly { readonly name: string; readonly description: string }[];
  readonly tables: readonly {
    readonly schema: string;
    readonly name: string;
    readonly description: string;
    /** False for a dataset the caller may see but not read (has_table_privilege answers false); default true. */
    readonly readable?: boolean;
    readonly columns: readonly { readonly name: string; readonly type: string; readonly description: string }[];
  }[];
}

/** Names and OIDs the translation resolves against (all names lower case). */
export interface CatalogIndex {
  /** Schema name → pg_namespace.oid, for pg_catalog, information_schema and the caller's schemas. */
  readonly namespaces: ReadonlyMap<string, number>;
  /** The caller's schemas (Veil databases). */
  readonly userSchemas: ReadonlySet<string>;
  /** 'schema.name' → pg_class.oid, catalog relations and the caller's tables. */
  readonly relations: ReadonlyMap<string, number>;
  /** 'schema.name' of the caller's tables that exist as (empty) DuckDB tables. */
  readonly userTables: ReadonlySet<string>;
}

/** Schema names PostgreSQL reserves; a Veil database of that name cannot be shown as a schema. */
const RESERVED_SCHEMAS = new Set(['pg_catalog', 'information_schema', 'pg_toast', 'pg_temp']);

const FIRST_USER_OID = DATABASE_OID + 1;

/**
 * Stable OIDs for the caller's objects: a hash of kind and name, so that a schema or table keeps
 * its OID across snapshots (a client that cached one keeps finding it) and no OID says anything
 * about other, invisible objects.
 */
function oidAllocator(): (key: string) => number {
  const used = new Set<number>();
  const span = 2 ** 31 - FIRST_USER_OID - 1;
  return (key) => {
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) {
      hash ^= key.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    let oid = FIRST_USER_OID + (hash % span);
    while (used.has(oid)) oid = oid + 1 >= FIRST_USER_OID + span ? FIRST_USER_OID : oid + 1;
    used.add(oid);
    return oid;
  };
}

/**
 * A DuckDB type as the snapshot spells it goes into CREATE TABLE text; a spelling that could end
 * the statement or open a string or comment is not used (the column becomes VARCHAR).
 */
function safeType(type: string): string {
  const t = type.trim();
  if (t === '' || /[;']|--|\/\*/.test(t) || (t.split('"').length - 1) % 2 !== 0) return 'VARCHAR';
  let depth = 0;
  for (const c of t) {
    if (c === '(' || c === '[') depth++;
    if (c === ')' || c === ']') depth--;
    if (depth < 0) return 'VARCHAR';
  }
  return depth === 0 ? t : 'VARCHAR';
}

interface UserTable {
  readonly schema: string;
  readonly name: string;
  readonly description: string;
  readonly readable?: boolean;
  readonly columns: readonly { readonly name: string; readonly type: string; readonly description: string }[];
}

let catalogShapes: Promise<ReadonlyMap<CatalogRelation, ResultColumn[]>> | undefined;

/** The column types of the emulated relations: the same in every sandbox, so described once per process. */
async function describeCatalogRelations(loader: SandboxLoader): Promise<ReadonlyMap<CatalogRelation, ResultColumn[]>> {
  const shapes = new Map<CatalogRelation, ResultColumn[]>();
  for (const relation of CATALOG_RELATIONS) {
    const key = `${relation.schema}.${relation.name}`;
    const source = key === SETTINGS_RELATION
      ? `${qualifiedRelation(relation)}(CAST([] AS VARCHAR[]), CAST([] AS VARCHAR[]))`
      : SESSION_RELATIONS.has(key) ? `${qualifiedRelation(relation)}('', '')` : qualifiedRelation(relation);
    shapes.set(relation, await loader.describe(`SELECT * FROM ${source}`));
  }
  return shapes;
}

/**
 * The caller-independent part: the emulated catalog (relations, macros) and, once per process,
 * the description of its relations' column types.
 */
export async function prepareCatalog(loader: SandboxLoader): Promise<void> {
  await loader.run(emulationDdl());
  if (catalogShapes === undefined) {
    const described = describeCatalogRelations(loader);
    catalogShapes = described;
    described.catch(() => {
      if (catalogShapes === described) catalogShapes = undefined;
    });
  }
  await catalogShapes;
}

/** The caller's part, on a prepared sandbox: its schemas and empty tables, then every catalog row. */
export async function loadSnapshot(loader: SandboxLoader, snapshot: CatalogSnapshot): Promise<CatalogIndex> {
  if (catalogShapes === undefined) await prepareCatalog(loader);
  const shapes = await (catalogShapes as Promise<ReadonlyMap<CatalogRelation, ResultColumn[]>>);

  const allocate = oidAllocator();
  const lower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const namespaces = new Map<string, number>([
    ['pg_catalog', PG_CATALOG_NAMESPACE_OID],
    ['information_schema', INFORMATION_SCHEMA_NAMESPACE_OID],
  ]);
  const schemaDescriptions = new Map<string, string>();
  const addSchema = (name: string, description: string): boolean => {
    const key = lower(name);
    if (RESERVED_SCHEMAS.has(key) || key.startsWith('pg_temp') || key.startsWith('pg_toast')) return false;
    if (!namespaces.has(key)) namespaces.set(key, allocate(`n:${key}`));
    if (description !== '') schemaDescriptions.set(key, description);
    return true;
  };
  for (const schema of snapshot.schemas) addSchema(schema.name, schema.description);
  const tables: UserTable[] = [];
  const seen = new Set<string>();
  for (const table of snapshot.tables) {
    const key = `${lower(table.schema)}.${lower(table.name)}`;
    if (seen.has(key) || !addSchema(table.schema, '')) continue;
    seen.add(key);
    tables.push({ ...table, schema: lower(table.schema), name: lower(table.name) });
  }
  const userSchemas = new Set([...namespaces.keys()].filter((n) => n !== 'pg_catalog' && n !== 'information_schema'));

  // The caller's schemas and empty tables, in the default catalog.
  const schemaDdl = [...userSchemas].map((s) => `CREATE SCHEMA IF NOT EXISTS ${DATA_CATALOG}.${sqlIdentifier(s)}`);
  const tableDdl = (table: UserTable, varcharOnly: boolean): string =>
    `CREATE TABLE ${DATA_CATALOG}.${sqlIdentifier(table.schema)}.${sqlIdentifier(table.name)} (` +
    table.columns.map((c) => `${sqlIdentifier(c.name)} ${varcharOnly ? 'VARCHAR' : safeType(c.type)}`).join(', ') + ')';
  const withColumns = tables.filter((t) => t.columns.length > 0 && new Set(t.columns.map((c) => lower(c.name))).size === t.columns.length);
  if (schemaDdl.length > 0) await loader.run(schemaDdl.join(';\n'));
  try {
    if (withColumns.length > 0) await loader.run(withColumns.map((t) => tableDdl(t, false)).join(';\n'));
  } catch {
    // One unknown type spelling fails the whole script: create table by table, falling back to VARCHAR.
    for (const table of withColumns) {
      try {
        await loader.run(`${tableDdl(table, false).replace(/^CREATE TABLE/, 'CREATE TABLE IF NOT EXISTS')}`);
      } catch {
        await loader.run(tableDdl(table, true).replace(/^CREATE TABLE/, 'CREATE TABLE IF NOT EXISTS'));
      }
    }
  }
  const userShapes = new Map<UserTable, ResultColumn[]>();
  // One statement binds many tables at once: far cheaper than one prepare per table.
  for (let i = 0; i < withColumns.length; i += 64) {
    const batch = withColumns.slice(i, i + 64);
    const columns = await loader.describe(`SELECT * FROM ${batch.map((t, k) => `${DATA_CATALOG}.${sqlIdentifier(t.schema)}.${sqlIdentifier(t.name)} AS t${k}`).join(', ')}`);
    let offset = 0;
    for (const table of batch) {
      userShapes.set(table, columns.slice(offset, offset + table.columns.length));
      offset += table.columns.length;
    }
  }

  // Catalog rows.
  const relations = new Map<string, number>();
  const classRows: AppendValue[][] = [];
  const attributeRows: AppendValue[][] = [];
  const descriptionRows: AppendValue[][] = [];
  const addRelation = (oid: number, name: string, namespace: number, kind: 'r' | 'v', columns: readonly ResultColumn[]): void => {
    classRows.push(classRow(oid, name, namespace, kind, columns.length));
    columns.forEach((column, i) => attributeRows.push(attributeRow(oid, column, i + 1)));
  };
  for (const relation of CATALOG_RELATIONS) {
    relations.set(`${relation.schema}.${relation.name}`, relation.oid);
    addRelation(relation.oid, relation.name, relation.schema === 'pg_catalog' ? PG_CATALOG_NAMESPACE_OID : INFORMATION_SCHEMA_NAMESPACE_OID, relation.kind, shapes.get(relation) ?? []);
  }
  const unreadableRows: AppendValue[][] = [];
  for (const table of tables) {
    const oid = allocate(`r:${table.schema}.${table.name}`);
    relations.set(`${table.schema}.${table.name}`, oid);
    if (table.readable === false) unreadableRows.push([oid]);
    const shape = userShapes.get(table) ?? [];
    addRelation(oid, table.name, namespaces.get(table.schema) ?? 0, 'r', shape.map((c, i) => ({ ...c, name: lower(table.columns[i]?.name ?? c.name) })));
    if (table.description !== '') descriptionRows.push([oid, PG_CLASS_OID, 0, table.description]);
    table.columns.forEach((column, i) => {
      if (column.description !== '' && shape[i] !== undefined) descriptionRows.push([oid, PG_CLASS_OID, i + 1, column.description]);
    });
  }
  for (const [name, description] of schemaDescriptions) descriptionRows.push([namespaces.get(name) ?? 0, PG_NAMESPACE_OID, 0, description]);

  const at = (schema: string, name: string): { catalog: string; schema: string; name: string } => ({ catalog: EMULATION_CATALOG, schema, name });
  const pg = (name: string): { catalog: string; schema: string; name: string } => at(PG_CATALOG_SCHEMA, name);
  await loader.append(pg('pg_namespace'), [...namespaces].map(([name, oid]) => [oid, name, ROLE_OID, null]));
  await loader.append(pg('pg_class'), classRows);
  await loader.append(pg('pg_attribute'), attributeRows);
  await loader.append(pg('pg_description'), descriptionRows);
  await loader.append(pg('pg_type'), PG_TYPE_ROWS.map(typeRow));
  await loader.append(pg('veil_type_info'), INFORMATION_SCHEMA_TYPES.map((t) => [t.oid, t.dataType, t.numericPrecision, t.numericRadix, t.numericScale, t.datetimePrecision, t.characterOctetLength]));
  await loader.append(pg('veil_type_names'), typeNameRows());
  await loader.append(pg('veil_unreadable'), unreadableRows);
  await loader.append(pg('veil_settings'), SETTINGS.map((s) => [s.name, s.setting, null, s.category, s.description, null, s.context, s.vartype, 'default', null, null, null, s.setting, s.setting, null, null, false]));
  await loader.append(pg('pg_am'), [[HEAP_AM_OID, 'heap', 'heap_tableam_handler', 't'], [403, 'btree', 'bthandler', 'i']]);
  await loader.append(pg('pg_tablespace'), [[1663, 'pg_default', ROLE_OID, null, null], [1664, 'pg_global', ROLE_OID, null, null]]);
  await loader.append(pg('pg_collation'), [
    [100, 'default', PG_CATALOG_NAMESPACE_OID, ROLE_OID, 'd', true, -1, null, null, null, null],
    [950, 'C', PG_CATALOG_NAMESPACE_OID, ROLE_OID, 'c', true, -1, 'C', 'C', null, null],
    [951, 'POSIX', PG_CATALOG_NAMESPACE_OID, ROLE_OID, 'c', true, -1, 'POSIX', 'POSIX', null, null],
  ]);
  return { namespaces, userSchemas, relations, userTables: new Set(withColumns.map((t) => `${t.schema}.${t.name}`)) };
}

function classRow(oid: number, name: string, namespace: number, kind: 'r' | 'v', columnCount: number): AppendValue[] {
  const table = kind === 'r';
  // Column order of pg_class (pg-catalog-relations.ts).
  return [
    oid, name, namespace, 0, 0, ROLE_OID, table ? HEAP_AM_OID : 0, table ? oid : 0, 0, 0, -1, 0, 0, false, false, 'p', kind, columnCount, 0,
    !table, false, false, false, false, true, table ? 'd' : 'n', false, 0, 0, 0, null, null, null,
  ];
}

function attributeRow(relationOid: number, column: ResultColumn, position: number): AppendValue[] {
  const pg = pgColumnType(column);
  const row = PG_TYPE_ROWS.find((r) => r.type.oid === pg.type.oid);
  return [
    relationOid, column.name, pg.type.oid, -1, pg.type.length, position, pg.type.elementOid === 0 ? 0 : 1, -1, pg.modifier, row?.byValue ?? false,
    row?.align ?? 'i', row?.storage ?? 'x', '', false, false, false, '', '', false, true, 0, row?.collation ?? 0, null, null, null, null,
  ];
}

function typeRow(row: (typeof PG_TYPE_ROWS)[number]): AppendValue[] {
  const { type } = row;
  const io = ioFunctionNames(row.input);
  const isArray = type.category === 'A' && type.name.startsWith('_');
  // Column order of pg_type (pg-catalog-relations.ts).
  return [
    type.oid, type.name, PG_CATALOG_NAMESPACE_OID, ROLE_OID, type.length, row.byValue, type.oid === 705 ? 'p' : 'b', type.category, row.preferred, true, ',', 0,
    type.elementOid !== 0 ? 'array_subscript_handler' : '-', type.elementOid, type.arrayOid, row.input, io.output, io.receive, io.send, row.typmodIn,
    row.typmodIn === '-' ? '-' : row.typmodIn.replace(/in$/, 'out'), isArray ? 'array_typanalyze' : '-', row.align, row.storage, false, 0, -1, 0, row.collation, null, null, null,
  ];
}

/** Names regtype input accepts: typname, format_type's spelling, `x[]` for arrays and common aliases. */
function typeNameRows(): AppendValue[][] {
  const rows: AppendValue[][] = [];
  for (const row of PG_TYPE_ROWS) {
    rows.push([row.type.name, row.type.oid], [row.formatName, row.type.oid]);
    const element = PG_TYPE_ROWS.find((r) => r.type.arrayOid === row.type.oid && row.type.name.startsWith('_'));
    if (element !== undefined) rows.push([`${element.type.name}[]`, row.type.oid]);
  }
  const aliases: Record<string, number> = {
    int: PG_SCALAR_TYPES.int4.oid, integer: PG_SCALAR_TYPES.int4.oid, decimal: PG_SCALAR_TYPES.numeric.oid, 'timestamp without time zone': PG_SCALAR_TYPES.timestamp.oid,
    'double precision': PG_SCALAR_TYPES.float8.oid, 'character varying': PG_SCALAR_TYPES.varchar.oid, 'time without time zone': PG_SCALAR_TYPES.time.oid,
  };
  for (const [name, oid] of Object.entries(aliases)) rows.push([name, oid]);
  return rows;
}

interface Setting {
  readonly name: string;
  readonly setting: string;
  readonly category: string;
  readonly description: string;
  readonly context: string;
  readonly vartype: string;
}

const s = (name: string, setting: string, category: string, description: string, context = 'user', vartype = 'string'): Setting => ({ name, setting, category, description, context, vartype });

/**
 * pg_settings' defaults; the session's own values (server_version, search_path, TimeZone, …)
 * replace them per query. Names keep PostgreSQL's capitalisation.
 */
export const SETTINGS: readonly Setting[] = [
  s('application_name', '', 'Reporting and Logging / What to Log', 'Sets the application name to be reported in statistics and logs.'),
  s('block_size', '8192', 'Preset Options', 'Shows the size of a disk block.', 'internal', 'integer'),
  s('bytea_output', 'hex', 'Client Connection Defaults / Statement Behavior', 'Sets the output format for bytea.', 'user', 'enum'),
  s('client_encoding', 'UTF8', 'Client Connection Defaults / Locale and Formatting', "Sets the client's character set encoding."),
  s('DateStyle', 'ISO, MDY', 'Client Connection Defaults / Locale and Formatting', 'Sets the display format for date and time values.'),
  s('default_transaction_isolation', 'read committed', 'Client Connection Defaults / Statement Behavior', 'Sets the transaction isolation level of each new transaction.', 'user', 'enum'),
  s('default_transaction_read_only', 'off', 'Client Connection Defaults / Statement Behavior', 'Sets the default read-only status of new transactions.', 'user', 'bool'),
  s('extra_float_digits', '1', 'Client Connection Defaults / Locale and Formatting', 'Sets the number of digits displayed for floating-point values.', 'user', 'integer'),
  s('integer_datetimes', 'on', 'Preset Options', 'Shows whether datetimes are integer based.', 'internal', 'bool'),
  s('IntervalStyle', 'postgres', 'Client Connection Defaults / Locale and Formatting', 'Sets the display format for interval values.', 'user', 'enum'),
  s('is_superuser', 'off', 'Preset Options', 'Shows whether the current user is a superuser.', 'internal', 'bool'),
  s('lc_collate', 'C.UTF-8', 'Preset Options', 'Shows the collation order locale.', 'internal'),
  s('lc_ctype', 'C.UTF-8', 'Preset Options', 'Shows the character classification and case conversion locale.', 'internal'),
  s('max_connections', '100', 'Connections and Authentication / Connection Settings', 'Sets the maximum number of concurrent connections.', 'postmaster', 'integer'),
  s('max_identifier_length', '63', 'Preset Options', 'Shows the maximum identifier length.', 'internal', 'integer'),
  s('max_index_keys', '32', 'Preset Options', 'Shows the maximum number of index keys.', 'internal', 'integer'),
  s('search_path', '"$user", public', 'Client Connection Defaults / Statement Behavior', 'Sets the schema search order for names that are not schema-qualified.'),
  s('server_encoding', 'UTF8', 'Preset Options', 'Shows the server (database) character set encoding.', 'internal'),
  s('server_version', '15.0', 'Preset Options', 'Shows the server version.', 'internal'),
  s('server_version_num', '150000', 'Preset Options', 'Shows the server version as an integer.', 'internal', 'integer'),
  s('session_authorization', '', 'Customized Options', 'Sets the session user name.'),
  s('standard_conforming_strings', 'on', 'Version and Platform Compatibility / Previous PostgreSQL Versions', "Causes '...' strings to treat backslashes literally.", 'user', 'bool'),
  s('statement_timeout', '0', 'Client Connection Defaults / Statement Behavior', 'Sets the maximum allowed duration of any statement.', 'user', 'integer'),
  s('TimeZone', 'UTC', 'Client Connection Defaults / Locale and Formatting', 'Sets the time zone for displaying and interpreting time stamps.'),
  s('transaction_isolation', 'read committed', 'Client Connection Defaults / Statement Behavior', "Sets the current transaction's isolation level.", 'user', 'enum'),
  s('transaction_read_only', 'off', 'Client Connection Defaults / Statement Behavior', "Sets the current transaction's read-only status.", 'user', 'bool'),
];

