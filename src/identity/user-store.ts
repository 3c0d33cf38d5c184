import { InvalidRequestError, NotFoundError } from '../errors/index.ts';
import { bumpGeneration, nowIso, type SqliteDatabase } from '../store/index.ts';
import { ATTRIBUTE_NAME_PATTERN, GROUP_NAME_PATTERN, USER_NAME_PATTERN, type AttributeValue, type UserRecord } from './user-types.ts';

export class UserStore {
  constructor(private readonly db: SqliteDatabase) {}

  list(): UserRecord[] {
    const rows = this.db.prepare('SELECT definition FROM users ORDER BY name').all() as { definition: string }[];
    return rows.map((r) => JSON.parse(r.definition) as UserRecord);
  }

  find(name: string): UserRecord | undefined {
    const row = this.db.prepare('SELECT definition FROM users WHERE name = ?').get(name) as { definition: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.definition) as UserRecord);
  }

  get(name: string): UserRecord {
    const user = this.find(name);
    if (user === undefined) throw new NotFoundError(`user ${name}`);
    return user;
  }

  /** Creates or replaces a user. */
  put(user: UserRecord): UserRecord {
    const valid = validateUser(user);
    const now = nowIso();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO users (name, definition, created_at, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
        )
        .run(valid.name, JSON.stringify(valid), now, now);
      bumpGeneration(this.db);
    })();
    return valid;
  }

  delete(name: string): void {
    this.db.transaction(() => {
      if (this.db.prepare('DELETE FROM users WHERE name = ?').run(name).changes === 0) throw new NotFoundError(`user ${name}`);
      // Their API tokens die with them: a user re-created later under the same name must not
      // inherit tokens issued to the old one.
      this.db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL').run(nowIso(), name);
      bumpGeneration(this.db);
    })();
  }
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
