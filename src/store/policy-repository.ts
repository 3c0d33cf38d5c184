import { InvalidPolicyError, NotFoundError } from '../errors/index.ts';
import { policyToAuthored, SYSTEM_ACTOR, validatePolicy, type PolicyApplyResult, type PolicyChange, type PolicyDefinition, type PolicyRepository, type StoredPolicy } from '../policy/index.ts';
import { bumpGeneration, nowIso, type SqlExecutor, type SqlStore } from './sql-store.ts';

/** Policies and their history in the control store (SQLite or PostgreSQL: the same SQL). */
export class SqlPolicyRepository implements PolicyRepository {
  constructor(private readonly db: SqlStore) {}

  async list(): Promise<StoredPolicy[]> {
    const rows = await this.db.all<Row>('SELECT definition, created_at, updated_at FROM policies ORDER BY name');
    return rows.map(fromRow);
  }

  async get(name: string): Promise<StoredPolicy> {
    const row = await this.db.get<Row>('SELECT definition, created_at, updated_at FROM policies WHERE name = ?', [name]);
    if (row === undefined) throw new NotFoundError(`policy ${name}`);
    return fromRow(row);
  }

  async apply(policies: readonly PolicyDefinition[], options: { prune?: boolean; changedBy?: string } = {}): Promise<PolicyApplyResult> {
    const result = { created: [] as string[], updated: [] as string[], unchanged: [] as string[], deleted: [] as string[] };
    const names = new Set<string>();
    const changedBy = options.changedBy ?? SYSTEM_ACTOR;
    await this.db.transaction(async (tx) => {
      const now = nowIso();
      for (const policy of policies) {
        if (names.has(policy.name)) throw new InvalidPolicyError(`policy ${policy.name} appears twice`);
        names.add(policy.name);
        const text = JSON.stringify(policyToAuthored(policy));
        const existing = await tx.get<{ definition: string }>('SELECT definition FROM policies WHERE name = ?', [policy.name]);
        if (existing === undefined) {
          await tx.run('INSERT INTO policies (name, definition, created_at, updated_at) VALUES (?, ?, ?, ?)', [policy.name, text, now, now]);
          await record(tx, policy.name, 'created', changedBy, now, null, text);
          result.created.push(policy.name);
        } else if (existing.definition !== text) {
          await tx.run('UPDATE policies SET definition = ?, updated_at = ? WHERE name = ?', [text, now, policy.name]);
          await record(tx, policy.name, 'updated', changedBy, now, existing.definition, text);
          result.updated.push(policy.name);
        } else {
          result.unchanged.push(policy.name);
        }
      }
      if (options.prune) {
        for (const { name, definition } of await tx.all<{ name: string; definition: string }>('SELECT name, definition FROM policies ORDER BY name')) {
          if (!names.has(name)) {
            await tx.run('DELETE FROM policies WHERE name = ?', [name]);
            await record(tx, name, 'deleted', changedBy, now, definition, null);
            result.deleted.push(name);
          }
        }
      }
      await bumpGeneration(tx);
    });
    return result;
  }

  async delete(name: string, changedBy = SYSTEM_ACTOR): Promise<void> {
    await this.db.transaction(async (tx) => {
      const existing = await tx.get<{ definition: string }>('SELECT definition FROM policies WHERE name = ?', [name]);
      if (existing === undefined) throw new NotFoundError(`policy ${name}`);
      await tx.run('DELETE FROM policies WHERE name = ?', [name]);
      await record(tx, name, 'deleted', changedBy, nowIso(), existing.definition, null);
      await bumpGeneration(tx);
    });
  }

  async history(options: { policy?: string; limit?: number; before?: number } = {}): Promise<PolicyChange[]> {
    const limit = Math.max(1, Math.min(options.limit ?? 100, 1000));
    const conditions: string[] = [];
    const params: (string | number)[] = [];
    if (options.policy !== undefined) {
      conditions.push('policy = ?');
      params.push(options.policy);
    }
    if (options.before !== undefined) {
      conditions.push('id < ?');
      params.push(options.before);
    }
    const rows = await this.db.all<HistoryRow>(
      `SELECT id, policy, change, changed_by, changed_at, before_definition, after_definition FROM policy_history
       ${conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`} ORDER BY id DESC LIMIT ${limit}`,
      params,
    );
    return rows.map((r) => ({
      id: r.id,
      policy: r.policy,
      change: r.change,
      changedBy: r.changed_by,
      changedAt: r.changed_at,
      before: r.before_definition === null ? null : (JSON.parse(r.before_definition) as Record<string, unknown>),
      after: r.after_definition === null ? null : (JSON.parse(r.after_definition) as Record<string, unknown>),
    }));
  }

}

async function record(tx: SqlExecutor, policy: string, change: PolicyChange['change'], changedBy: string, at: string, before: string | null, after: string | null): Promise<void> {
  await tx.run('INSERT INTO policy_history (policy, change, changed_by, changed_at, before_definition, after_definition) VALUES (?, ?, ?, ?, ?, ?)', [policy, change, changedBy, at, before, after]);
}

interface HistoryRow {
  id: number;
  policy: string;
  change: PolicyChange['change'];
  changed_by: string;
  changed_at: string;
  before_definition: string | null;
  after_definition: string | null;
}

interface Row {
  definition: string;
  created_at: string;
  updated_at: string;
}

function fromRow(row: Row): StoredPolicy {
  return { ...validatePolicy(JSON.parse(row.definition)), createdAt: row.created_at, updatedAt: row.updated_at };
}
