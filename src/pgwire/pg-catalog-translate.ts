import { NotFoundError, QueryFailedError, SqlNotAllowedError } from '../errors/index.ts';
import type { JsonValue } from '../util/lossless-json.ts';
import {
  asciiLower,
  cast,
  children,
  constant,
  functionCall,
  isNode,
  listTypeInfo,
  nullConstant,
  text,
  varcharConstantValue,
  type AstNode,
} from './pg-catalog-ast.ts';
import {
  DATA_CATALOG,
  EMULATION_CATALOG,
  INFORMATION_SCHEMA_SCHEMA,
  PG_CATALOG_SCHEMA,
  SESSION_RELATIONS,
  SETTINGS_RELATION,
} from './pg-catalog-ddl.ts';
import { CATALOG_FUNCTIONS, CATALOG_TABLE_FUNCTIONS, OPERATOR_FUNCTIONS, SESSION_KEYWORDS, sandboxMacro, type FunctionContext } from './pg-catalog-functions.ts';
import { figureName, isTextLike, nameOutputColumns, parseIdentifier } from './pg-catalog-naming.ts';
import { INFORMATION_SCHEMA_RELATION_NAMES, PG_CATALOG_RELATION_NAMES } from './pg-catalog-relations.ts';
import type { CatalogIndex } from './pg-catalog-snapshot.ts';
import { PG_TYPE_ROWS } from './pg-catalog-types.ts';
import { parsePgArrayLiteral } from '../engine/index.ts';

/** How deep a tree is walked (DuckDB's own parser limit is similar). */
const MAX_DEPTH = 1000;

export interface TranslationSession extends Omit<FunctionContext, 'relationOid' | 'namespaceOid'> {
  /** pg_settings names with this session's values, in SETTINGS order. */
  readonly settings: readonly { readonly name: string; readonly value: string }[];
}

const QUERY_NODES = new Set(['SELECT_NODE', 'SET_OPERATION_NODE', 'RECURSIVE_CTE_NODE', 'CTE_NODE']);

/** PostgreSQL types DuckDB does not know, by the plain DuckDB type the translation uses instead. */
const PLAIN_TYPES: Readonly<Record<string, AstNode>> = {
  name: { id: 'VARCHAR', type_info: null },
  aclitem: { id: 'VARCHAR', type_info: null },
  pg_node_tree: { id: 'VARCHAR', type_info: null },
  cstring: { id: 'VARCHAR', type_info: null },
  unknown: { id: 'VARCHAR', type_info: null },
  char: { id: 'VARCHAR', type_info: null },
  bpchar: { id: 'VARCHAR', type_info: null },
  tid: { id: 'VARCHAR', type_info: null },
  xid: { id: 'BIGINT', type_info: null },
  xid8: { id: 'BIGINT', type_info: null },
  cid: { id: 'BIGINT', type_info: null },
  int2vector: { id: 'LIST', type_info: listTypeInfo('SMALLINT') },
  oidvector: { id: 'LIST', type_info: listTypeInfo('INTEGER') },
};

/**
 * Rewrites a parsed client query so that it runs in the sandbox with PostgreSQL's meaning: every
 * relation and function reference is resolved here (the emulated catalog, the caller's schemas, or
 * a refusal), session functions become constants, reg* casts become lookups. Nothing is left for
 * DuckDB's own name resolution, so DuckDB's built-in pg_catalog is never reached.
 */
export class CatalogTranslator {
  private readonly ctx: FunctionContext;
  /** Catalog relations of the enclosing FROM clauses, innermost last (for tableoid). */
  private readonly tableOids: Map<string, number>[] = [];

  constructor(private readonly index: CatalogIndex, private readonly session: TranslationSession) {
    this.ctx = {
      ...session,
      setting: (name) => session.setting(name),
      relationOid: (node) => this.relationOid(node),
      namespaceOid: (node) => this.namespaceOid(node),
    };
  }

  translate(root: AstNode): AstNode {
    nameOutputColumns(root);
    return this.queryNode(root, new Set(), 0);
  }

  // ---- query nodes and CTE scopes -------------------------------------------------------------

  /**
   * A query node with DuckDB's (and PostgreSQL's) WITH scoping: a CTE body sees the CTEs before it
   * and itself only when recursive; the query body sees all of them.
   */
  private queryNode(node: AstNode, outer: ReadonlySet<string>, depth: number): AstNode {
    const cteMap = node['cte_map'];
    const entries = isNode(cteMap) && Array.isArray(cteMap['map']) ? cteMap['map'] : [];
    const scope = new Set(outer);
    const newEntries: JsonValue[] = [];
    for (const entry of entries) {
      if (!isNode(entry) || typeof entry['key'] !== 'string' || !isNode(entry['value'])) throw new SqlNotAllowedError('WITH', 'unexpected shape of a WITH clause');
      const name = asciiLower(entry['key']);
      const definition = entry['value'];
      const query = definition['query'];
      const body = isNode(query) ? query['node'] : undefined;
      const recursive = isNode(body) && body['type'] === 'RECURSIVE_CTE_NODE';
      const bodyScope = recursive ? new Set([...scope, name]) : new Set(scope);
      newEntries.push({ ...entry, value: this.visit(definition, bodyScope, depth + 1) });
      scope.add(name);
    }
    const result: AstNode = {};
    this.tableOids.push(this.catalogTablesOf(node['from_table'], scope));
    try {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'cte_map' && isNode(cteMap)) result[key] = { ...cteMap, map: newEntries };
        else if (key === 'select_list' && Array.isArray(value)) result[key] = value.map((item) => this.selectItem(item, scope, depth + 1));
        else result[key] = this.visit(value, scope, depth + 1);
      }
    } finally {
      this.tableOids.pop();
    }
    return result;
  }

  /**
   * The catalog relations a FROM clause binds, by the name queries use for them: PostgreSQL's
   * system column tableoid (psql's \dd and \dL join pg_description on it) is their pg_class oid.
   */
  private catalogTablesOf(from: JsonValue | undefined, scope: ReadonlySet<string>): Map<string, number> {
    const tables = new Map<string, number>();
    const collect = (ref: JsonValue | undefined): void => {
      if (!isNode(ref)) return;
      if (ref['type'] === 'JOIN') {
        collect(ref['left']);
        collect(ref['right']);
        return;
      }
      if (ref['type'] !== 'BASE_TABLE') return;
      const schema = asciiLower(text(ref, 'schema_name'));
      const name = asciiLower(text(ref, 'table_name'));
      if (schema === '' && scope.has(name)) return;
      const found = schema !== '' ? schema : this.session.effectivePath.find((s) => this.relationExists(s, name));
      const oid = found === 'pg_catalog' || found === 'information_schema' ? this.index.relations.get(`${found}.${name}`) : undefined;
      if (oid !== undefined) tables.set(asciiLower(text(ref, 'alias') || name), oid);
    };
    collect(from);
    return tables;
  }

  private visit(value: JsonValue, scope: ReadonlySet<string>, depth: number): JsonValue {
    if (depth > MAX_DEPTH) throw new SqlNotAllowedError('nesting', `the query nests deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(value)) return value.map((item) => this.visit(item, scope, depth + 1));
    if (!isNode(value)) return value;
    const cls = value['class'];
    const type = value['type'];
    if (typeof cls === 'string') return this.expression(value, cls, scope, depth);
    if (typeof type === 'string') {
      if (QUERY_NODES.has(type)) return this.queryNode(value, scope, depth);
      if (type === 'BASE_TABLE') return this.baseTable(value, scope);
      if (type === 'TABLE_FUNCTION') return this.tableFunction(value, scope, depth);
      if (type === 'SHOW_REF') throw new SqlNotAllowedError('SHOW', 'DESCRIBE, SUMMARIZE and SHOW of a query are not supported');
    }
    return this.visitFields(value, scope, depth);
  }

  private visitFields(node: AstNode, scope: ReadonlySet<string>, depth: number): AstNode {
    const result: AstNode = {};
    for (const [key, value] of Object.entries(node)) result[key] = this.visit(value, scope, depth + 1);
    return result;
  }

  // ---- relations --------------------------------------------------------------------------------

  private baseTable(node: AstNode, scope: ReadonlySet<string>): AstNode {
    const catalog = asciiLower(text(node, 'catalog_name'));
    let schema = asciiLower(text(node, 'schema_name'));
    const name = asciiLower(text(node, 'table_name'));
    const typed = [text(node, 'catalog_name'), text(node, 'schema_name'), text(node, 'table_name')].filter((s) => s !== '').join('.');
    if (node['at_clause'] !== null && node['at_clause'] !== undefined) throw new SqlNotAllowedError('AT', 'time travel (AT clause) is not supported');
    if (catalog !== '' && catalog !== asciiLower(this.session.database)) throw new NotFoundError(`relation "${typed}"`);
    if (schema === '') {
      if (catalog === '' && scope.has(name)) return node;
      const found = this.session.effectivePath.find((s) => this.relationExists(s, name));
      if (found === undefined) throw new NotFoundError(`relation "${typed}"`);
      schema = found;
    }
    const alias = text(node, 'alias') !== '' ? text(node, 'alias') : text(node, 'table_name');
    if (schema === 'pg_catalog' || schema === 'information_schema') {
      const key = `${schema}.${name}`;
      if (!this.relationExists(schema, name)) throw new NotFoundError(`relation "${typed}"`);
      const target = schema === 'pg_catalog' ? PG_CATALOG_SCHEMA : INFORMATION_SCHEMA_SCHEMA;
      if (key === SETTINGS_RELATION || SESSION_RELATIONS.has(key)) {
        const args = key === SETTINGS_RELATION
          ? [stringList(this.session.settings.map((s) => s.name)), stringList(this.session.settings.map((s) => s.value))]
          : [constant(this.session.database), constant(this.session.user)];
        return {
          type: 'TABLE_FUNCTION',
          alias,
          sample: node['sample'] ?? null,
          query_location: node['query_location'] ?? null,
          function: functionCall(name, args, { catalog: EMULATION_CATALOG, schema: target }),
          column_name_alias: node['column_name_alias'] ?? [],
          with_ordinality: 'WITHOUT_ORDINALITY',
        };
      }
      return { ...node, catalog_name: EMULATION_CATALOG, schema_name: target, table_name: name, alias };
    }
    if (!this.index.userTables.has(`${schema}.${name}`)) throw new NotFoundError(`relation "${typed}"`);
    return { ...node, catalog_name: DATA_CATALOG, schema_name: schema, table_name: name, alias };
  }

  private relationExists(schema: string, name: string): boolean {
    if (schema === 'pg_catalog') return PG_CATALOG_RELATION_NAMES.has(name);
    if (schema === 'information_schema') return INFORMATION_SCHEMA_RELATION_NAMES.has(name);
    return this.index.userTables.has(`${schema}.${name}`);
  }

  private tableFunction(node: AstNode, scope: ReadonlySet<string>, depth: number): AstNode {
    const fn = node['function'];
    if (!isNode(fn)) throw new SqlNotAllowedError('table function', 'unexpected shape of a table function');
    const name = asciiLower(text(fn, 'function_name'));
    const schema = asciiLower(text(fn, 'schema'));
    if (!CATALOG_TABLE_FUNCTIONS.has(name) || !['', 'main', 'pg_catalog', 'information_schema'].includes(schema) || text(fn, 'catalog') !== '') {
      throw new SqlNotAllowedError(name, `table function ${name} is not available in catalog queries`);
    }
    const args = children(fn).map((a) => this.visit(a, scope, depth + 1)).filter(isNode);
    const alias = text(node, 'alias');
    const aliases = node['column_name_alias'];
    const result: AstNode = { ...node };
    if (name === 'pg_get_keywords') result['function'] = sandboxMacro('pg_get_keywords', []);
    else if (name === '_pg_expandarray') result['function'] = sandboxMacro('expandarray_table', args);
    else {
      result['function'] = { ...functionCall(name, args), query_location: fn['query_location'] ?? null };
      // PostgreSQL names a function's single output column after the alias: FROM generate_series(1, 3) s → column s.
      if (alias !== '' && (!Array.isArray(aliases) || aliases.length === 0)) result['column_name_alias'] = [alias];
    }
    return result;
  }

  // ---- expressions ------------------------------------------------------------------------------

  private expression(node: AstNode, cls: string, scope: ReadonlySet<string>, depth: number): JsonValue {
    switch (cls) {
      case 'FUNCTION':
      case 'WINDOW':
        return this.functionCall(node, scope, depth);
      case 'COLUMN_REF':
        return this.columnRef(node);
      case 'CAST':
        return this.cast(node, scope, depth);
      case 'COLLATE': {
        // PostgreSQL's collations here are all the default one (psql adds COLLATE pg_catalog.default).
        const collation = asciiLower(text(node, 'collation')).replaceAll('"', '');
        if (['default', 'pg_catalog.default', 'c', 'pg_catalog.c', 'posix', 'pg_catalog.posix'].includes(collation)) {
          return this.keepAlias(node, this.visit(node['child'] ?? null, scope, depth + 1));
        }
        return this.visitFields(node, scope, depth);
      }
      default:
        return this.visitFields(node, scope, depth);
    }
  }

  /** A replacement keeps the original's alias (DuckDB prints an alias of a function argument as a named argument, so none is added). */
  private keepAlias(original: AstNode, replacement: JsonValue): JsonValue {
    const alias = text(original, 'alias');
    return alias !== '' && isNode(replacement) ? { ...replacement, alias } : replacement;
  }

  /**
   * A select-list entry that the translation replaces keeps the name PostgreSQL gives it
   * (current_database() stays "current_database", not the constant's text).
   */
  private selectItem(item: JsonValue, scope: ReadonlySet<string>, depth: number): JsonValue {
    const translated = this.visit(item, scope, depth + 1);
    if (!isNode(item) || !isNode(translated) || text(item, 'alias') !== '') return translated;
    const cls = item['class'];
    const names = item['column_names'];
    const keyword = cls === 'COLUMN_REF' && Array.isArray(names) && names.length === 1 && typeof names[0] === 'string' && SESSION_KEYWORDS.has(asciiLower(names[0]));
    if (cls !== 'FUNCTION' && cls !== 'CAST' && !keyword) return translated;
    const name = figureName(item);
    return name === undefined ? translated : { ...translated, alias: name };
  }

  private functionCall(node: AstNode, scope: ReadonlySet<string>, depth: number): JsonValue {
    const name = asciiLower(text(node, 'function_name'));
    const schema = asciiLower(text(node, 'schema'));
    const catalog = asciiLower(text(node, 'catalog'));
    const qualified = [catalog, schema, name].filter((s) => s !== '').join('.');
    const allowedSchema = schema === '' || schema === 'main' || schema === 'pg_catalog' || (schema === 'information_schema' && name === '_pg_expandarray');
    if (!allowedSchema || (catalog !== '' && catalog !== 'system')) throw new NotFoundError(`function ${qualified}`);
    const visited = this.visitFields(node, scope, depth);
    const args = children(visited);
    if (node['class'] === 'FUNCTION') {
      const operator = OPERATOR_FUNCTIONS[name];
      if (operator !== undefined && (node['is_operator'] === true || name === 'regexp_full_match')) return this.keepAlias(node, operator(args, this.ctx, node));
      const handler = Object.hasOwn(CATALOG_FUNCTIONS, name) ? CATALOG_FUNCTIONS[name] : undefined;
      if (handler !== undefined && node['is_operator'] !== true) return this.keepAlias(node, handler(args, this.ctx, node));
    }
    // Anything else is DuckDB's function of that name (PostgreSQL's string, math and array functions mostly exist there).
    return { ...visited, schema: schema === 'main' ? 'main' : '', catalog: '' };
  }

  private columnRef(node: AstNode): JsonValue {
    const names = Array.isArray(node['column_names']) ? node['column_names'].filter((n): n is string => typeof n === 'string') : [];
    if (names.length === 2 && asciiLower(names[1] ?? '') === 'tableoid') {
      const alias = asciiLower(names[0] ?? '');
      const oid = [...this.tableOids].reverse().find((tables) => tables.has(alias))?.get(alias);
      if (oid !== undefined) return this.keepAlias(node, constant(oid));
    }
    const only = names.length === 1 ? asciiLower(names[0] ?? '') : undefined;
    if (only !== undefined && SESSION_KEYWORDS.has(only)) {
      const handler = CATALOG_FUNCTIONS[only];
      if (handler !== undefined) return this.keepAlias(node, handler([], this.ctx, node));
    }
    // pg_catalog.pg_class.relname: the relation is bound under its own name here.
    const first = asciiLower(names[0] ?? '');
    if (names.length >= 3 && (first === 'pg_catalog' || first === 'information_schema' || first === asciiLower(this.session.database))) {
      const rest = names.slice(first === asciiLower(this.session.database) && names.length >= 4 ? 2 : 1);
      return { ...node, column_names: rest };
    }
    return node;
  }

  /** Casts to PostgreSQL's OID alias types (regclass, regtype, …) and to catalog-only types. */
  private cast(node: AstNode, scope: ReadonlySet<string>, depth: number): JsonValue {
    const target = node['cast_type'];
    const child = node['child'];
    if (!isNode(target) || !isNode(child)) return this.visitFields(node, scope, depth);
    const typeInfo = target['type_info'];
    // '{a,b}'::text[]: PostgreSQL's array literal, which DuckDB does not read.
    const literal = varcharConstantValue(child);
    if (target['id'] === 'LIST' && literal !== undefined && literal.trim().startsWith('{')) {
      const items = parsePgArrayLiteral(literal).map((item) => (item === null ? nullConstant() : constant(item)));
      return this.keepAlias(node, { ...node, child: functionCall('list_value', items) });
    }
    // 'pg_class'::regclass::text is the relation's (canonical) name, not its oid.
    const canonical = target['id'] === 'VARCHAR' ? this.canonicalName(child, scope, depth) : undefined;
    if (canonical !== undefined) return this.keepAlias(node, canonical);
    if (target['id'] !== 'UNBOUND' || !isNode(typeInfo)) return this.visitFields(node, scope, depth);
    const typeName = asciiLower(text(typeInfo, 'name'));
    const typeSchema = asciiLower(text(typeInfo, 'schema'));
    if (typeSchema !== '' && typeSchema !== 'pg_catalog') return this.visitFields(node, scope, depth);
    const textLike = isTextLike(child);
    const argument = this.visit(child, scope, depth + 1);
    if (!isNode(argument)) return this.visitFields(node, scope, depth);
    const plain = PLAIN_TYPES[typeName];
    if (plain !== undefined) return { ...node, child: argument, cast_type: plain };
    const path = stringList(this.session.effectivePath);
    let replacement: AstNode | undefined;
    switch (typeName) {
      case 'regclass':
        replacement = textLike ? this.relationOid(argument) : sandboxMacro('regclass_out', [argument, path]);
        break;
      case 'regtype':
        replacement = textLike ? this.typeOid(argument) : sandboxMacro('regtype_out', [argument]);
        break;
      case 'regnamespace':
        replacement = textLike ? this.namespaceOid(argument) : sandboxMacro('regnamespace_out', [argument]);
        break;
      case 'regrole':
        replacement = textLike ? sandboxMacro('regrole_in', [argument, constant(this.session.user)]) : sandboxMacro('regrole_out', [argument, constant(this.session.user)]);
        break;
      case 'regproc':
      case 'regprocedure':
      case 'regoper':
      case 'regoperator':
      case 'regconfig':
      case 'regdictionary':
      case 'regcollation':
        // Functions are compared by name (pg_type.typinput holds 'array_in'), so these stay text.
        replacement = textLike ? sandboxMacro('regproc_in', [argument]) : cast(argument, 'VARCHAR');
        break;
      default:
        return { ...node, child: argument };
    }
    return this.keepAlias(node, replacement);
  }

  /** For `<name>::regclass` (regtype, regnamespace, regrole) cast to text: the output function of the looked-up oid. */
  private canonicalName(child: AstNode, scope: ReadonlySet<string>, depth: number): AstNode | undefined {
    const target = child['cast_type'];
    const info = isNode(target) ? target['type_info'] : undefined;
    const inner = child['child'];
    if (child['class'] !== 'CAST' || !isNode(target) || target['id'] !== 'UNBOUND' || !isNode(info) || !isNode(inner) || !isTextLike(inner)) return undefined;
    const argument = this.visit(inner, scope, depth + 1);
    if (!isNode(argument)) return undefined;
    switch (asciiLower(text(info, 'name'))) {
      case 'regclass':
        return sandboxMacro('regclass_out', [this.relationOid(argument), stringList(this.session.effectivePath)]);
      case 'regtype':
        return sandboxMacro('regtype_out', [this.typeOid(argument)]);
      case 'regnamespace':
        return sandboxMacro('regnamespace_out', [this.namespaceOid(argument)]);
      case 'regrole':
        return sandboxMacro('regrole_out', [sandboxMacro('regrole_in', [argument, constant(this.session.user)]), constant(this.session.user)]);
      default:
        return undefined;
    }
  }

  /** A relation (text or oid) as its oid; a constant name is resolved now, as PostgreSQL's regclassin does. */
  relationOid(node: AstNode): AstNode {
    if (!isTextLike(node)) return node;
    const name = varcharConstantValue(node);
    if (name === undefined) return sandboxMacro('regclass_in', [node, stringList(this.session.effectivePath)]);
    if (/^\d+$/.test(name.trim())) return constant(Number(name.trim()));
    const parts = parseIdentifier(name);
    const relation = parts[parts.length - 1] ?? '';
    let oid: number | undefined;
    if (parts.length === 1) {
      for (const schema of this.session.effectivePath) {
        oid = this.index.relations.get(`${schema}.${relation}`);
        if (oid !== undefined) break;
      }
    } else if (parts.length === 2 || (parts.length === 3 && parts[0] === asciiLower(this.session.database))) {
      oid = this.index.relations.get(`${parts[parts.length - 2] ?? ''}.${relation}`);
    }
    if (oid === undefined) throw new NotFoundError(`relation "${name.slice(0, 200)}"`);
    return constant(oid);
  }

  namespaceOid(node: AstNode): AstNode {
    if (!isTextLike(node)) return node;
    const name = varcharConstantValue(node);
    if (name === undefined) return sandboxMacro('regnamespace_in', [node]);
    if (/^\d+$/.test(name.trim())) return constant(Number(name.trim()));
    const oid = this.index.namespaces.get(parseIdentifier(name)[0] ?? '');
    if (oid === undefined) throw new NotFoundError(`schema "${name.slice(0, 200)}"`);
    return constant(oid);
  }

  private typeOid(node: AstNode): AstNode {
    const name = varcharConstantValue(node);
    if (name === undefined) return sandboxMacro('regtype_in', [node]);
    const wanted = asciiLower(name.trim()).replace(/^pg_catalog\./, '').replace(/^"(.*)"$/, '$1');
    if (/^\d+$/.test(wanted)) return constant(Number(wanted));
    const arrayOf = wanted.endsWith('[]') ? wanted.slice(0, -2).trim() : undefined;
    const find = (n: string): number | undefined => PG_TYPE_ROWS.find((r) => r.type.name === n || r.formatName === n || (n === 'integer' && r.type.name === 'int4') || (n === 'int' && r.type.name === 'int4'))?.type.oid;
    const element = arrayOf === undefined ? undefined : find(arrayOf);
    const oid = arrayOf === undefined ? find(wanted) : PG_TYPE_ROWS.find((r) => r.type.elementOid === element && r.type.name.startsWith('_'))?.type.oid;
    if (oid === undefined) throw new QueryFailedError(`type "${name.slice(0, 200)}" does not exist`);
    return constant(oid);
  }
}

function stringList(values: readonly string[]): AstNode {
  return cast(functionCall('list_value', values.map((v) => constant(v))), 'LIST', listTypeInfo('VARCHAR'));
}
