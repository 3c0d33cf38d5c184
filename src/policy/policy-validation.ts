import { InvalidPolicyError } from '../errors/index.ts';
import { parseTransform } from './transforms.ts';
import type {
  ColumnSelector,
  MaskRule,
  PolicyAction,
  PolicyDefinition,
  PolicyEffect,
  ResourceSelector,
  SubjectSelector,
} from './policy-types.ts';

const POLICY_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const DATASET = /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/;
const DATABASE = /^[a-z_][a-z0-9_]*$/;
const TAG_PATTERN = /^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$/;
const COLUMN = /^[a-z_][a-z0-9_]*$/;

type Raw = Record<string, unknown>;

/**
 * Validates one authored policy (YAML or JSON, snake_case keys) into a PolicyDefinition. Unknown keys
 * are errors: a misspelt `row_fliter` must not silently produce a policy without a filter.
 */
export function validatePolicy(input: unknown): PolicyDefinition {
  const raw = asObject(input, 'a policy');
  const name = raw['name'];
  if (typeof name !== 'string' || !POLICY_NAME.test(name)) throw new InvalidPolicyError(`policy name must match ${POLICY_NAME}`);
  const at = (msg: string): never => {
    throw new InvalidPolicyError(`policy ${name}: ${msg}`, { policy: name });
  };
  checkKeys(raw, ['name', 'description', 'effect', 'actions', 'subjects', 'resources', 'row_filter', 'hide', 'masks', 'valid_from', 'valid_until', 'enabled'], at);

  const effect = raw['effect'] ?? 'grant';
  if (effect !== 'grant' && effect !== 'deny' && effect !== 'restrict') at('effect must be grant, deny or restrict');
  const actions = stringList(raw['actions'] ?? ['select'], 'actions', at);
  for (const action of actions) if (action !== 'select' && action !== 'describe') at(`unknown action "${action}" (select, describe)`);
  if (actions.length === 0) at('actions must not be empty');

  const subjects = validateSubjects(raw['subjects'], at);
  const resources = validateResources(raw['resources'], at);
  const rowFilter = optionalString(raw['row_filter'], 'row_filter', at);
  const hide = raw['hide'] === undefined ? undefined : validateColumnSelector(raw['hide'], 'hide', at);
  const masks = raw['masks'] === undefined ? undefined : validateMasks(raw['masks'], at);
  const validFrom = optionalTime(raw['valid_from'], 'valid_from', at);
  const validUntil = optionalTime(raw['valid_until'], 'valid_until', at);
  if (validFrom !== undefined && validUntil !== undefined && Date.parse(validFrom) >= Date.parse(validUntil)) at('valid_from must be before valid_until');
  const enabled = raw['enabled'] ?? true;
  if (typeof enabled !== 'boolean') at('enabled must be true or false');
  if (effect === 'deny' && (rowFilter !== undefined || hide !== undefined || masks !== undefined)) {
    at('a deny policy takes no row_filter, hide or masks (use effect: restrict)');
  }
  const description = optionalString(raw['description'], 'description', at);

  return {
    name,
    ...(description === undefined ? {} : { description }),
    effect: effect as PolicyEffect,
    actions: [...new Set(actions)].sort() as PolicyAction[],
    subjects,
    resources,
    ...(rowFilter === undefined ? {} : { rowFilter }),
    ...(hide === undefined ? {} : { hide }),
    ...(masks === undefined ? {} : { masks }),
    ...(validFrom === undefined ? {} : { validFrom }),
    ...(validUntil === undefined ? {} : { validUntil }),
    enabled: enabled as boolean,
  };
}

/** The authored (snake_case) form of a policy, for export. Round-trips through validatePolicy. */
export function policyToAuthored(policy: PolicyDefinition): Raw {
  const out: Raw = { name: policy.name };
  if (policy.description !== undefined) out['description'] = policy.description;
  out['effect'] = policy.effect;
  out['actions'] = [...policy.actions];
  out['subjects'] = policy.subjects;
  out['resources'] = policy.resources;
  if (policy.rowFilter !== undefined) out['row_filter'] = policy.rowFilter;
  if (policy.hide !== undefined) out['hide'] = policy.hide;
  if (policy.masks !== undefined) out['masks'] = policy.masks;
  if (policy.validFrom !== undefined) out['valid_from'] = policy.validFrom;
  if (policy.validUntil !== undefined) out['valid_until'] = policy.validUntil;
  out['enabled'] = policy.enabled;
  return out;
}

function validateSubjects(input: unknown, at: (m: string) => never): SubjectSelector {
  const raw = asObject(input ?? at('subjects are required'), 'subjects');
  checkKeys(raw, ['everyone', 'users', 'groups', 'attributes', 'except'], at);
  const everyone = raw['everyone'] ?? false;
  if (typeof everyone !== 'boolean') at('subjects.everyone must be true or false');
  const users = stringList(raw['users'] ?? [], 'subjects.users', at);
  const groups = stringList(raw['groups'] ?? [], 'subjects.groups', at);
  const attributes: Record<string, string[]> = {};
  if (raw['attributes'] !== undefined) {
    for (const [key, value] of Object.entries(asObject(raw['attributes'], 'subjects.attributes'))) {
      attributes[key] = typeof value === 'string' ? [value] : stringList(value, `subjects.attributes.${key}`, at);
    }
  }
  if (!everyone && users.length === 0 && groups.length === 0 && Object.keys(attributes).length === 0) {
    at('subjects must name users, groups, attributes or everyone: true');
  }
  let except: { users: string[]; groups: string[] } | undefined;
  if (raw['except'] !== undefined) {
    const rawExcept = asObject(raw['except'], 'subjects.except');
    checkKeys(rawExcept, ['users', 'groups'], at);
    except = { users: stringList(rawExcept['users'] ?? [], 'subjects.except.users', at), groups: stringList(rawExcept['groups'] ?? [], 'subjects.except.groups', at) };
  }
  return {
    ...(everyone ? { everyone: true } : {}),
    ...(users.length > 0 ? { users } : {}),
    ...(groups.length > 0 ? { groups } : {}),
    ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
    ...(except === undefined ? {} : { except }),
  };
}

function validateResources(input: unknown, at: (m: string) => never): ResourceSelector[] {
  if (!Array.isArray(input) || input.length === 0) return at('resources must be a non-empty list');
  return input.map((item, i): ResourceSelector => {
    const raw = asObject(item, `resources[${i}]`);
    const keys = Object.keys(raw);
    if (keys.length !== 1) return at(`resources[${i}] must have exactly one of database, dataset, tag`);
    const value = raw[keys[0] as string];
    if (typeof value !== 'string') return at(`resources[${i}] must be a string`);
    const lower = value.toLowerCase();
    switch (keys[0]) {
      case 'database':
        if (!DATABASE.test(lower)) at(`resources[${i}].database "${value}" is not a database name`);
        return { database: lower };
      case 'dataset':
        if (!DATASET.test(lower)) at(`resources[${i}].dataset "${value}" must be database.name`);
        return { dataset: lower };
      case 'tag':
        if (!TAG_PATTERN.test(lower)) at(`resources[${i}].tag "${value}" is not a tag pattern`);
        return { tag: lower };
      default:
        return at(`resources[${i}]: unknown resource kind "${keys[0]}"`);
    }
  });
}

function validateColumnSelector(input: unknown, where: string, at: (m: string) => never, extraKeys: string[] = []): ColumnSelector {
  const raw = asObject(input, where);
  checkKeys(raw, ['columns', 'tags', ...extraKeys], at);
  const columns = stringList(raw['columns'] ?? [], `${where}.columns`, at).map((c) => c.toLowerCase());
  const tags = stringList(raw['tags'] ?? [], `${where}.tags`, at).map((t) => t.toLowerCase());
  for (const c of columns) if (!COLUMN.test(c)) at(`${where}.columns: "${c}" is not a column name`);
  for (const t of tags) if (!TAG_PATTERN.test(t)) at(`${where}.tags: "${t}" is not a tag pattern`);
  if (columns.length === 0 && tags.length === 0) at(`${where} must list columns or tags`);
  return { ...(columns.length > 0 ? { columns } : {}), ...(tags.length > 0 ? { tags } : {}) };
}

function validateMasks(input: unknown, at: (m: string) => never): MaskRule[] {
  if (!Array.isArray(input)) return at('masks must be a list');
  return input.map((item, i) => {
    const where = `masks[${i}]`;
    const selector = validateColumnSelector(item, where, at, ['transform', 'when']);
    const raw = item as Raw;
    const transform = raw['transform'];
    if (typeof transform !== 'string') return at(`${where}.transform is required`);
    let canonical: string;
    try {
      canonical = parseTransform(transform).text;
    } catch (error) {
      return at(`${where}: ${(error as Error).message}`);
    }
    const when = optionalString(raw['when'], `${where}.when`, at);
    return { ...selector, transform: canonical, ...(when === undefined ? {} : { when }) };
  });
}

function asObject(input: unknown, what: string): Raw {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidPolicyError(`${what} must be a mapping`);
  return input as Raw;
}

function checkKeys(raw: Raw, allowed: readonly string[], at: (m: string) => never): void {
  for (const key of Object.keys(raw)) if (!allowed.includes(key)) at(`unknown key "${key}" (expected one of ${allowed.join(', ')})`);
}

function stringList(input: unknown, what: string, at: (m: string) => never): string[] {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || !input.every((v) => typeof v === 'string' && v.length > 0)) return at(`${what} must be a list of strings`);
  return [...new Set(input as string[])];
}

function optionalString(input: unknown, what: string, at: (m: string) => never): string | undefined {
  if (input === undefined || input === null) return undefined;
  if (typeof input !== 'string' || input.trim() === '') return at(`${what} must be a non-empty string`);
  return input;
}

function optionalTime(input: unknown, what: string, at: (m: string) => never): string | undefined {
  if (input === undefined || input === null) return undefined;
  const text = input instanceof Date ? input.toISOString() : input;
  if (typeof text !== 'string' || Number.isNaN(Date.parse(text))) return at(`${what} must be an ISO 8601 date or time`);
  return new Date(Date.parse(text)).toISOString();
}
