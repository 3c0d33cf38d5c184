import { InvalidPolicyError, NotFoundError } from '../errors/index.ts';
import { bumpGeneration, nowIso, type SqliteDatabase } from '../store/index.ts';
import type { PolicyDefinition, StoredPolicy } from './policy-types.ts';
import { validatePolicy, policyToAuthored } from './policy-validation.ts';

export class PolicyStore {
  constructor(private readonly db: SqliteDatabase) {}

  list(): StoredPolicy[] {
    const rows = this.db.prepare('SELECT definition, created_at, updated_at FROM policies ORDER BY name').all() as Row[];
    return rows.map(fromRow);
  }

  get(name: string): StoredPolicy {
    const row = this.db.prepare('SELECT definition, created_at, updated_at FROM policies WHERE name = ?').get(name) as Row | undefined;
    if (row === undefined) throw new NotFoundError(`policy ${name}`);
    return fromRow(row);
  }

  /**
   * Creates or replaces policies in one transaction: a file with one invalid policy changes nothing.
   * With `prune`, policies not in the set are deleted (the file is the whole truth).
   */
  apply(policies: readonly PolicyDefinition[], options: { prune?: boolean } = {}): { created: string[]; updated: string[]; unchanged: string[]; deleted: string[] } {
    const result = { created: [] as string[], updated: [] as string[], unchanged: [] as string[], deleted: [] as string[] };
    const names = new Set<string>();
    this.db.transaction(() => {
      const now = nowIso();
      for (const policy of policies) {
        if (names.has(policy.name)) throw new InvalidPolicyError(`policy ${policy.name} appears twice`);
        names.add(policy.name);
        const text = JSON.stringify(policyToAuthored(policy));
        const existing = this.db.prepare('SELECT definition FROM policies WHERE name = ?').get(policy.name) as { definition: string } | undefined;
        if (existing === undefined) {
          this.db.prepare('INSERT INTO policies (name, definition, created_at, updated_at) VALUES (?, ?, ?, ?)').run(policy.name, text, now, now);
          result.created.push(policy.name);
        } else if (existing.definition !== text) {
          this.db.prepare('UPDATE policies SET definition = ?, updated_at = ? WHERE name = ?').run(text, now, policy.name);
          result.updated.push(policy.name);
        } else {
          result.unchanged.push(policy.name);
        }
      }
      if (options.prune) {
        for (const { name } of this.db.prepare('SELECT name FROM policies').all() as { name: string }[]) {
          if (!names.has(name)) {
            this.db.prepare('DELETE FROM policies WHERE name = ?').run(name);
            result.deleted.push(name);
          }
        }
      }
      bumpGeneration(this.db);
    })();
    return result;
  }

  delete(name: string): void {
    this.db.transaction(() => {
      if (this.db.prepare('DELETE FROM policies WHERE name = ?').run(name).changes === 0) throw new NotFoundError(`policy ${name}`);
      bumpGeneration(this.db);
    })();
  }
}

interface Row {
  definition: string;
  created_at: string;
  updated_at: string;
}

function fromRow(row: Row): StoredPolicy {
  return { ...validatePolicy(JSON.parse(row.definition)), createdAt: row.created_at, updatedAt: row.updated_at };
}
