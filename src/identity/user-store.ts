import { InvalidRequestError } from '../errors/index.ts';
import { ATTRIBUTE_NAME_PATTERN, GROUP_NAME_PATTERN, USER_NAME_PATTERN, type AttributeValue, type UserRecord } from './user-types.ts';

/**
 * Where users live (docs/scale-out.md): the control store, SQLite or PostgreSQL
 * (src/store/user-repository.ts). Every write bumps the generation.
 */
export interface UserRepository {
  list(): Promise<UserRecord[]>;
  find(name: string): Promise<UserRecord | undefined>;
  /** NotFoundError when there is none. */
  get(name: string): Promise<UserRecord>;
  /** Creates or replaces a user (validated by validateUser); returns it as stored. */
  put(user: UserRecord): Promise<UserRecord>;
  /** Removes a user and revokes their API tokens, in one transaction. */
  delete(name: string): Promise<void>;
}

export function validateUser(input: unknown): UserRecord {
  if (typeof input !== 'object' || input === null) throw new InvalidRequestError('a user is an object with name, groups and attributes');
  const { name, groups = [], attributes = {} } = input as Record<string, unknown>;
  if (typeof name !== 'string' || !USER_NAME_PATTERN.test(name)) {
    throw new InvalidRequestError(`user name must match ${USER_NAME_PATTERN}`);
  }
  if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string' && GROUP_NAME_PATTERN.test(g))) {
    throw new InvalidRequestError(`groups of ${name} must be a list of names matching ${GROUP_NAME_PATTERN}`);
  }
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw new InvalidRequestError(`attributes of ${name} must be a mapping`);
  }
  const validAttributes: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (!ATTRIBUTE_NAME_PATTERN.test(key)) throw new InvalidRequestError(`attribute name "${key}" must match ${ATTRIBUTE_NAME_PATTERN}`);
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      validAttributes[key] = String(value);
    } else if (Array.isArray(value) && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) {
      validAttributes[key] = value.map(String);
    } else {
      throw new InvalidRequestError(`attribute ${key} of ${name} must be a value or a list of values`);
    }
  }
  return { name, groups: [...new Set(groups as string[])].sort(), attributes: validAttributes };
}
