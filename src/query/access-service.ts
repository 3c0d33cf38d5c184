import { createHash } from 'node:crypto';
import { fullName, type Dataset, type DatasetStore } from '../catalog/index.ts';
import type { DuckDbEngine } from '../engine/index.ts';
import { AccessDeniedError, DatasetNotFoundError } from '../errors/index.ts';
import type { Principal } from '../identity/index.ts';
import { resolveEffectivePolicy, type EffectiveDatasetPolicy, type PolicyDefinition, type PolicyStore } from '../policy/index.ts';
import { buildScan, type CompiledScan } from '../sql/index.ts';
import { readGeneration, type SqliteDatabase } from '../store/index.ts';

interface Snapshot {
  readonly generation: number;
  readonly policies: readonly PolicyDefinition[];
  readonly datasets: ReadonlyMap<string, Dataset>;
}

const SCAN_CACHE_LIMIT = 2000;

/**
 * Answers "what may this principal see of this dataset" for every door. Policies and datasets are
 * read once per control-database generation; compiled scans are cached by the exact inputs that
 * shape them (so a cache hit can never serve a scan compiled for other facts).
 */
export class AccessService {
  private snapshotCache: Snapshot | undefined;
  private readonly scanCache = new Map<string, CompiledScan>();

  constructor(
    private readonly controlDb: SqliteDatabase,
    private readonly datasets: DatasetStore,
    private readonly policies: PolicyStore,
    private readonly engine: DuckDbEngine,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  snapshot(): Snapshot {
    const generation = readGeneration(this.controlDb);
    if (this.snapshotCache?.generation !== generation) {
      const datasets = new Map(this.datasets.list().map((d) => [fullName(d), d] as const));
      this.snapshotCache = { generation, policies: this.policies.list(), datasets };
      this.scanCache.clear();
    }
    return this.snapshotCache;
  }

  now(): Date {
    return this.clock();
  }

  /** Effective policy of a dataset the principal can see; otherwise the same 404 as a missing one. */
  effective(principal: Principal, name: string): EffectiveDatasetPolicy {
    const snapshot = this.snapshot();
    const dataset = snapshot.datasets.get(name.toLowerCase());
    if (dataset === undefined) throw new DatasetNotFoundError(name.toLowerCase());
    const effective = resolveEffectivePolicy(principal, dataset, snapshot.policies, this.clock());
    if (!effective.visible) throw new DatasetNotFoundError(name.toLowerCase());
    return effective;
  }

  /** Like effective(), and the principal must be able to read it (403 otherwise). */
  readable(principal: Principal, name: string): EffectiveDatasetPolicy {
    const effective = this.effective(principal, name);
    if (!effective.readable) throw new AccessDeniedError(`access denied to dataset ${fullName(effective.dataset)}`, { dataset: fullName(effective.dataset) });
    return effective;
  }

  visibleDatasets(principal: Principal): EffectiveDatasetPolicy[] {
    const snapshot = this.snapshot();
    const now = this.clock();
    return [...snapshot.datasets.values()]
      .map((d) => resolveEffectivePolicy(principal, d, snapshot.policies, now))
      .filter((e) => e.visible);
  }

  async scan(principal: Principal, effective: EffectiveDatasetPolicy): Promise<CompiledScan> {
    const referenceDate = this.clock();
    const key = scanKey(principal, effective, referenceDate);
    const cached = this.scanCache.get(key);
    if (cached !== undefined) return cached;
    const scan = await buildScan(this.engine, effective, principal, { referenceDate });
    if (this.scanCache.size >= SCAN_CACHE_LIMIT) this.scanCache.delete(this.scanCache.keys().next().value as string);
    this.scanCache.set(key, scan);
    return scan;
  }
}

function scanKey(principal: Principal, effective: EffectiveDatasetPolicy, referenceDate: Date): string {
  const shape = {
    dataset: fullName(effective.dataset),
    updated: effective.dataset.updatedAt,
    columns: effective.columns.map((c) => [c.column.name, c.column.type, c.access, c.masks.map((m) => [m.transform.text, m.when ?? null, m.policy])]),
    filters: effective.rowFilters,
    principal,
    day: referenceDate.toISOString().slice(0, 10),
  };
  return createHash('sha256').update(JSON.stringify(shape)).digest('base64url');
}
