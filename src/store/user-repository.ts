import { NotFoundError } from '../errors/index.ts';
import { validateUser, type UserRecord, type UserRepository } from '../identity/index.ts';
import { bumpGeneration, nowIso, type SqlStore } from './sql-store.ts';

/** Users in the control store (table users; the record as JSON). */
export class SqlUserRepository implements UserRepository {
  constructor(private readonly db: SqlStore) {}

  async list(): Promise<UserRecord[]> {
    return (await this.db.all<{ definition: string }>('SELECT definition FROM users ORDER BY name')).map((r) => JSON.parse(r.definition) as UserRecord);
  }

  async find(name: string): Promise<UserRecord | undefined> {
    const row = await this.db.get<{ definition: string }>('SELECT definition FROM users WHERE name = ?', [name]);
    return row === undefined ? undefined : (JSON.parse(row.definition) as UserRecord);
  }

  async get(name: string): Promise<UserRecord> {
    const user = await this.find(name);
    if (user === undefined) throw new NotFoundError(`user ${name}`);
    return user;
  }

  async put(user: UserRecord): Promise<UserRecord> {
    const valid = validateUser(user);
    const now = nowIso();
    await this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO users (name, definition, created_at, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
        [valid.name, JSON.stringify(valid), now, now],
      );
      await bumpGeneration(tx);
    });
    return valid;
  }

  async delete(name: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      if ((await tx.run('DELETE FROM users WHERE name = ?', [name])) === 0) throw new NotFoundError(`user ${name}`);
      // Their API tokens die with them: a user re-created later under the same name must not
      // inherit tokens issued to the old one.
      await tx.run('UPDATE api_tokens SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL', [nowIso(), name]);
      await bumpGeneration(tx);
    });
  }
}
