import type { PolicyDefinition, StoredPolicy } from './policy-types.ts';

/**
 * Where policies and their history live (docs/scale-out.md): the control store, SQLite or
 * PostgreSQL (src/store/policy-repository.ts). Every write bumps the control
 * store's generation, so every process re-reads its access snapshot before its next decision.
 */
export interface PolicyRepository {
  list(): Promise<StoredPolicy[]>;
  /** NotFoundError when there is no such policy. */
  get(name: string): Promise<StoredPolicy>;
  /**
   * Creates or replaces policies in one transaction: a file with one invalid policy changes nothing.
   * With `prune`, policies not in the set are deleted (the file is the whole truth).
   */
  apply(policies: readonly PolicyDefinition[], options?: { prune?: boolean; changedBy?: string }): Promise<PolicyApplyResult>;
  delete(name: string, changedBy?: string): Promise<void>;
  /** Changes, newest first; `policy` narrows to one policy, `before` pages back from an id. */
  history(options?: { policy?: string; limit?: number; before?: number }): Promise<PolicyChange[]>;
}

export interface PolicyApplyResult {
  readonly created: string[];
  readonly updated: string[];
  readonly unchanged: string[];
  readonly deleted: string[];
}

/** One change to one policy: its authored definitions before and after (null when absent). */
export interface PolicyChange {
  readonly id: number;
  readonly policy: string;
  readonly change: 'created' | 'updated' | 'deleted';
  readonly changedBy: string;
  readonly changedAt: string;
  readonly before: Record<string, unknown> | null;
  readonly after: Record<string, unknown> | null;
}

/** Who changed a policy when no person did (built-in policies, upgrades). */
export const SYSTEM_ACTOR = 'veil';
