import { createHash } from 'node:crypto';
import { DERIVED_SOURCE_ALIAS, type Dataset, type SourceDerivedColumn } from '../catalog/index.ts';
import { sqlIdentifier } from '../engine/index.ts';
import { possibleMasks } from './effective-policy-resolver.ts';
import type { PolicyDefinition } from './policy-types.ts';
import { transformDefinition } from './transform-registry.ts';
import { transformSql } from './transforms.ts';

/**
 * A masked value computed once per row of the source rather than once per query
 * (docs/performance.md, "Masks computed once"): the dataset's view adds it as a column, a columnar
 * copy stores it, and scans read it instead of computing the transform again.
 */
export type DerivedColumn = SourceDerivedColumn;

/**
 * Decides which masked values each dataset keeps as derived columns: every (column, transform)
 * some policy may apply to the dataset, for a transform the registry marks `precompute`. Within a
 * process the set only grows (until the dataset's columns change): a scan built over a derived
 * column stays valid while the policy that asked for it is edited away.
 *
 * `fingerprint` identifies the transforms' macros, masking key included: a new key or a changed
 * macro gives new names, so copies holding values of the old ones are never read as current.
 */
export class DerivedColumnPlanner {
  private readonly planned = new Map<string, Map<string, DerivedColumn>>();

  constructor(
    private fingerprint: string,
    /** The policies in force now (the access snapshot, checked against the generation). */
    private readonly policies: () => Promise<readonly PolicyDefinition[]>,
  ) {}

  /** The macros changed (a new masking key): columns planned from now on carry the new fingerprint, and the old ones are dropped. */
  useFingerprint(fingerprint: string): void {
    this.fingerprint = fingerprint;
  }

  async plan(dataset: Dataset): Promise<readonly DerivedColumn[]> {
    if (dataset.system === true) return [];
    const policies = await this.policies();
    const key = `${dataset.database}.${dataset.name}`;
    const wanted = new Map<string, DerivedColumn>();
    // Earlier ones first, while the column still exists with the type they were computed for.
    for (const previous of this.planned.get(key)?.values() ?? []) {
      const column = dataset.columns.find((c) => c.name === previous.column);
      if (column !== undefined && this.nameOf(column.name, column.type, previous.transform) === previous.name) wanted.set(previous.name, previous);
    }
    for (const { column, transform } of possibleMasks(dataset, policies)) {
      if (transformDefinition(transform.name).precompute !== true) continue;
      const sql = transformSql(transform, `${DERIVED_SOURCE_ALIAS}.${sqlIdentifier(column.name)}`, column.type, { referenceDate: new Date(0) });
      const name = this.nameOf(column.name, column.type, transform.text);
      if (sql !== undefined && !wanted.has(name)) wanted.set(name, { name, column: column.name, transform: transform.text, sql });
    }
    this.planned.set(key, wanted);
    return [...wanted.values()];
  }

  private nameOf(column: string, type: string, transform: string): string {
    return `__veil_d_${createHash('sha256').update(`${this.fingerprint}\u0000${column}\u0000${type}\u0000${transform}`).digest('hex').slice(0, 20)}`;
  }
}
