import { createHash } from 'node:crypto';
import { fullName, type Dataset, type DatasetRepository } from '../catalog/index.ts';
import type { DuckDbEngine } from '../engine/index.ts';
import { AccessDeniedError, DatasetNotFoundError } from '../errors/index.ts';
import type { Principal } from '../identity/index.ts';
import { resolveEffectivePolicy, type EffectiveDatasetPolicy, type PolicyDefinition, type PolicyRepository } from '../policy/index.ts';
import { asciiLower, buildScan, type CompiledScan } from '../sql/index.ts';
import { readGeneration, type SqlExecutor } from '../store/index.ts';
import { Semaphore } from '../util/semaphore.ts';

interface Snapshot {
  readonly generation: number;
  readonly policies: readonly PolicyDefinition[];
  readonly datasets: ReadonlyMap<string, Dataset>;
  /** Instants (ms) at which some policy enters or leaves its validity window, ascending. */
  readonly boundaries: readonly number[];
}

interface CachedEffective {
  readonly value: EffectiveDatasetPolicy;
  /** The next validity boundary: the result may change from then on. */
  readonly expiresAt: number;
}

const SCAN_CACHE_LIMIT = 2000;
const EFFECTIVE_CACHE_LIMIT = 10_000;

/**
 * Answers "what may this principal see of this dataset" for every door. Policies and datasets are
 * read once per control-database generation; compiled scans are cached by the exact inputs that
 * shape them (so a cache hit can never serve a scan compiled for other facts).
 */
export class AccessService {
  private snapshotCache: Snapshot | undefined;
  private readonly scanCache = new Map<string, CompiledScan>();
  private readonly effectiveCache = new Map<string, CachedEffective>();
  private readonly scanBuilds = new Semaphore(1);

  constructor(
    /** Where the generation is read. */
    private readonly control: SqlExecutor,
    private readonly datasets: DatasetRepository,
    private readonly policies: PolicyRepository,
    private readonly engine: DuckDbEngine,
    /** The derived columns (masked values computed once per row) a dataset's view has now, by derivedKey. */
    private readonly derivedColumns: (dataset: string) => ReadonlyMap<string, string> = () => new Map(),
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * Policies and datasets as of the control store's current generation: the generation is checked
   * on every call (one small read), the lists are read again only when it moved. Every resolution
   * below awaits it, so a change another process or replica made is in force from the next
   * request on (docs/scale-out.md).
   */
  async snapshot(): Promise<Snapshot> {
    const generation = await readGeneration(this.control);
    if (this.snapshotCache?.generation !== generation) {
      const datasets = new Map((await this.datasets.list()).map((d) => [fullName(d), d] as const));
      const policies = await this.policies.list();
      const boundaries = policies
        .flatMap((p) => [p.validFrom, p.validUntil])
        .filter((t): t is string => t !== undefined)
        .map((t) => Date.parse(t))
        .sort((a, b) => a - b);
      this.snapshotCache = { generation, policies, datasets, boundaries };
      this.scanCache.clear();
      this.effectiveCache.clear();
    }
    return this.snapshotCache;
  }

  now(): Date {
    return this.clock();
  }

  /** Effective policy of a dataset the principal can see; otherwise the same 404 as a missing one. */
  async effective(principal: Principal, name: string): Promise<EffectiveDatasetPolicy> {
    const key = name.toLowerCase();
    const effective = this.resolve(await this.snapshot(), principal, key);
    if (effective === undefined || !effective.visible) throw new DatasetNotFoundError(key);
    return effective;
  }

  /** The instant until which every effective policy resolved now stays valid. */
  async validUntil(): Promise<number> {
    const snapshot = await this.snapshot();
    const now = this.clock().getTime();
    return snapshot.boundaries.find((t) => t > now) ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Resolution is cached per control-database generation, principal and dataset until the next
   * validity boundary of any policy: combining 500 policies costs milliseconds, a lookup does not.
   */
  private resolve(snapshot: Snapshot, principal: Principal, name: string): EffectiveDatasetPolicy | undefined {
    const dataset = snapshot.datasets.get(name);
    if (dataset === undefined) return undefined;
    const now = this.clock();
    const key = `${JSON.stringify(principal)}|${name}`;
    const cached = this.effectiveCache.get(key);
    if (cached !== undefined && now.getTime() < cached.expiresAt) return cached.value;
    const value = resolveEffectivePolicy(principal, dataset, snapshot.policies, now);
    if (this.effectiveCache.size >= EFFECTIVE_CACHE_LIMIT) this.effectiveCache.clear();
    this.effectiveCache.set(key, { value, expiresAt: snapshot.boundaries.find((t) => t > now.getTime()) ?? Number.POSITIVE_INFINITY });
    return value;
  }

  /** Like effective(), and the principal must be able to read it (403 otherwise). */
  async readable(principal: Principal, name: string): Promise<EffectiveDatasetPolicy> {
    const effective = await this.effective(principal, name);
    if (!effective.readable) throw new AccessDeniedError(`access denied to dataset ${fullName(effective.dataset)}`, { dataset: fullName(effective.dataset) });
    return effective;
  }

  async visibleDatasets(principal: Principal): Promise<EffectiveDatasetPolicy[]> {
    const snapshot = await this.snapshot();
    return [...snapshot.datasets.keys()]
      .map((name) => this.resolve(snapshot, principal, name))
      .filter((e): e is EffectiveDatasetPolicy => e !== undefined && e.visible);
  }

  /** The policy-applied scan of a dataset, projecting the `reachable` columns (all when undefined; see `scanColumns`). */
  async scan(principal: Principal, effective: EffectiveDatasetPolicy, reachable?: ReadonlySet<string>): Promise<CompiledScan> {
    const referenceDate = this.clock();
    const derived = this.derivedColumns(fullName(effective.dataset));
    const key = scanKey(principal, effective, referenceDate, reachable, derived);
    const cached = this.scanCache.get(key);
    if (cached !== undefined) return cached;
    // One build at a time: scans create catalog entries (views), and concurrent DDL conflicts.
    const release = await this.scanBuilds.acquire();
    try {
      const again = this.scanCache.get(key);
      if (again !== undefined) return again;
      const scan = await buildScan(this.engine, effective, principal, { referenceDate }, reachable, derived);
      if (this.scanCache.size >= SCAN_CACHE_LIMIT) this.scanCache.delete(this.scanCache.keys().next().value as string);
      this.scanCache.set(key, scan);
      return scan;
    } finally {
      release();
    }
  }
}

/**
 * What a compiled scan depends on. The expensive part (the policy's shape over every column) is
 * hashed once per resolved policy object: each belongs to one principal and one dataset (the
 * effective-policy cache is keyed by both), and the scan of a 200-column dataset is looked up on
 * every prepare.
 */
function scanKey(principal: Principal, effective: EffectiveDatasetPolicy, referenceDate: Date, reachable: ReadonlySet<string> | undefined, derived: ReadonlyMap<string, string>): string {
  let shape = SHAPE_KEYS.get(effective);
  if (shape === undefined) {
    const facts = {
      dataset: fullName(effective.dataset),
      updated: effective.dataset.updatedAt,
      columns: effective.columns.map((c) => [c.column.name, c.column.type, c.access, c.masks.map((m) => [m.transform.text, m.when ?? null, m.policy])]),
      filters: effective.rowFilters,
      principal,
    };
    shape = createHash('sha256').update(JSON.stringify(facts)).digest('base64url');
    SHAPE_KEYS.set(effective, shape);
  }
  let columns = DERIVED_KEYS.get(derived);
  if (columns === undefined) {
    columns = createHash('sha256').update(JSON.stringify([...derived.values()].sort())).digest('base64url');
    DERIVED_KEYS.set(derived, columns);
  }
  const reach = reachable === undefined ? '*' : effective.columns.map((c) => asciiLower(c.column.name)).filter((name) => reachable.has(name)).join(',');
  return `${shape}|${referenceDate.toISOString().slice(0, 10)}|${columns}|${reach}`;
}

const SHAPE_KEYS = new WeakMap<EffectiveDatasetPolicy, string>();
const DERIVED_KEYS = new WeakMap<ReadonlyMap<string, string>, string>();
