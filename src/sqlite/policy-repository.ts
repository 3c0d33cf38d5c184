import { InvalidPolicyError, NotFoundError } from '../errors/index.ts';
import { policyToAuthored, SYSTEM_ACTOR, validatePolicy, type PolicyApplyResult, type PolicyChange, type PolicyDefinition, type PolicyRepository, type StoredPolicy } from '../policy/index.ts';
import { bumpGeneration, nowIso, type SqliteDatabase } from '../store/index.ts';

/** Policies and their history in a home's control database (the SQL of PolicyRepository for SQLite). */
export class SqlitePolicyRepository implements PolicyRepository {
  constructor(private readonly db: SqliteDatabase) {}

  async list(): Promise<StoredPolicy[]> {
    const rows = this.db.prepare('SELECT definition, created_at, updated_at FROM policies ORDER BY name').all() as Row[];
    return rows.map(fromRow);
  }

  async get(name: string): Promise<StoredPolicy> {
    const row = this.db.prepare('SELECT definition, created_at, updated_at FROM policies WHERE name = ?').get(name) as Row | undefined;
    if (row === undefined) throw new NotFoundError(`policy ${name}`);
    return fromRow(row);
  }

  async apply(policies: readonly PolicyDefinition[], options: { prune?: boolean; changedBy?: string } = {}): Promise<PolicyApplyResult> {
    const result = { created: [] as string[], updated: [] as string[], unchanged: [] as string[], deleted: [] as string[] };
    const names = new Set<string>();
    const changedBy = options.changedBy ?? SYSTEM_ACTOR;
    this.db.transaction(() => {
      const now = nowIso();
      for (const policy of policies) {
        if (names.has(policy.name)) throw new InvalidPolicyError(`policy ${policy.name} appears twice`);
        names.add(policy.name);
        const text = JSON.stringify(policyToAuthored(policy));
        const existing = this.db.prepare('SELECT definition FROM policies WHERE name = ?').get(policy.name) as { definition: string } | undefined;
        if (existing === undefined) {
          this.db.prepare('INSERT INTO policies (name, definition, created_at, updated_at) VALUES (?, ?, ?, ?)').run(policy.name, text, now, now);
          this.record(policy.name, 'created', changedBy, now, null, text);
          result.created.push(policy.name);
        } else if (existing.definition !== text) {
          this.db.prepare('UPDATE policies SET definition = ?, updated_at = ? WHERE name = ?').run(text, now, policy.name);
          this.record(policy.name, 'updated', changedBy, now, existing.definition, text);
          result.updated.push(policy.name);
        } else {
          result.unchanged.push(policy.name);
        }
      }
      if (options.prune) {
        for (const { name, definition } of this.db.prepare('SELECT name, definition FROM policies').all() as { name: string; definition: string }[]) {
          if (!names.has(name)) {
            this.db.prepare('DELETE FROM policies WHERE name = ?').run(name);
            this.record(name, 'deleted', changedBy, now, definition, null);
            result.deleted.push(name);
          }
        }
      }
      bumpGeneration(this.db);
    })();
    return result;
  }

  async delete(name: string, changedBy = SYSTEM_ACTOR): Promise<void> {
    this.db.transaction(() => {
      const existing = this.db.prepare('SELECT definition FROM policies WHERE name = ?').get(name) as { definition: string } | undefined;
      if (existing === undefined) throw new NotFoundError(`policy ${name}`);
      this.db.prepare('DELETE FROM policies WHERE name = ?').run(name);
      this.record(name, 'deleted', changedBy, nowIso(), existing.definition, null);
      bumpGeneration(this.db);
    })();
  }

  async history(options: { policy?: string; limit?: number; before?: number } = {}): Promise<PolicyChange[]> {
    const limit = Math.max(1, Math.min(options.limit ?? 100, 1000));
    const rows = this.db
      .prepare(
        `SELECT id, policy, change, changed_by, changed_at, before_definition, after_definition FROM policy_history
         WHERE (? IS NULL OR policy = ?) AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?`,
      )
      .all(options.policy ?? null, options.policy ?? null, options.before ?? null, options.before ?? null, limit) as HistoryRow[];
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

  private record(policy: string, change: PolicyChange['change'], changedBy: string, at: string, before: string | null, after: string | null): void {
    this.db
      .prepare('INSERT INTO policy_history (policy, change, changed_by, changed_at, before_definition, after_definition) VALUES (?, ?, ?, ?, ?, ?)')
      .run(policy, change, changedBy, at, before, after);
  }
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
