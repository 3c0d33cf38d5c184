import { NotFoundError } from '../errors/index.ts';
import type { ApiTokenRepository, ApiTokenRow } from '../identity/index.ts';
import type { SqlStore } from './sql-store.ts';

const COLUMNS = ['id', 'user_name', 'label', 'secret_hash', 'created_at', 'created_by', 'expires_at', 'last_used_at', 'revoked_at', 'scram_verifier'] as const;

/** API tokens in the control store (table api_tokens; only hashes and SCRAM verifiers). */
export class SqlApiTokenRepository implements ApiTokenRepository {
  constructor(private readonly db: SqlStore) {}

  async insert(row: ApiTokenRow): Promise<void> {
    // The user is checked in the writers' transaction, as their removal revokes their tokens in
    // one: a token can never outlive a user removed at the same moment on another replica.
    await this.db.transaction(async (tx) => {
      if ((await tx.get('SELECT name FROM users WHERE name = ?', [row.user_name])) === undefined) throw new NotFoundError(`user ${row.user_name}`);
      await tx.run(
        `INSERT INTO api_tokens (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
        COLUMNS.map((c) => row[c]),
      );
    });
  }

  find(id: string): Promise<ApiTokenRow | undefined> {
    return this.db.get<ApiTokenRow>(`SELECT ${COLUMNS.join(', ')} FROM api_tokens WHERE id = ?`, [id]);
  }

  list(user?: string): Promise<ApiTokenRow[]> {
    return user === undefined
      ? this.db.all<ApiTokenRow>(`SELECT ${COLUMNS.join(', ')} FROM api_tokens ORDER BY created_at, id`)
      : this.db.all<ApiTokenRow>(`SELECT ${COLUMNS.join(', ')} FROM api_tokens WHERE user_name = ? ORDER BY created_at, id`, [user]);
  }

  async revoke(id: string, at: string): Promise<void> {
    await this.db.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id]);
  }

  scramCapable(user: string): Promise<ApiTokenRow[]> {
    return this.db.all<ApiTokenRow>(`SELECT ${COLUMNS.join(', ')} FROM api_tokens WHERE user_name = ? AND revoked_at IS NULL AND scram_verifier IS NOT NULL`, [user]);
  }

  async markUsed(id: string, at: string, notBefore: string): Promise<void> {
    await this.db.run('UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)', [at, id, notBefore]);
  }
}
