import { parse as parseYaml } from 'yaml';
import { InvalidRequestError } from '../errors/index.ts';
import type { CatalogService } from './catalog-service.ts';
import { CERTIFICATION_STATUSES, fullName, TAG_PATTERN } from './dataset-types.ts';

/**
 * Business metadata in and out of Veil, in the shape enterprise catalogs (Collibra, Alation)
 * export: one asset per dataset and per column with description, owner, steward, certification
 * and classifications. As JSON (`{"format": "veil-metadata/1", "assets": [...]}`) or as CSV with
 * the columns of CSV_COLUMNS. Classifications are the external catalog's names ("PII - Email");
 * a mapping turns them into Veil tags (pii.email) on import and back on export. Documented in
 * docs/catalog.md.
 */
export const METADATA_FORMAT = 'veil-metadata/1';
export const CSV_COLUMNS = ['asset_type', 'full_name', 'description', 'owner', 'steward', 'certification', 'classifications', 'tags'] as const;

export interface MetadataAsset {
  readonly asset_type: 'dataset' | 'column';
  /** db.name for datasets, db.name.column for columns. */
  readonly full_name: string;
  readonly description?: string;
  readonly owner?: string;
  readonly steward?: string;
  readonly certification?: string;
  readonly classifications?: readonly string[];
  readonly tags?: readonly string[];
}

export interface ImportReport {
  readonly applied: readonly string[];
  readonly unknown_assets: readonly string[];
  readonly unmapped_classifications: readonly string[];
  readonly rejected: readonly { asset: string; error: string }[];
  readonly dry_run: boolean;
}

/** External classification name → Veil tag. Matching ignores case and surrounding spaces. */
export type ClassificationMapping = Readonly<Record<string, string>>;

export function parseMapping(value: unknown, source: string): ClassificationMapping {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidRequestError(`${source}: a mapping is an object of classification name → tag`);
  const mapping: Record<string, string> = {};
  for (const [name, tag] of Object.entries(value)) {
    if (typeof tag !== 'string' || !TAG_PATTERN.test(tag)) throw new InvalidRequestError(`${source}: "${name}" must map to a tag such as pii.email`);
    mapping[name.trim()] = tag;
  }
  return mapping;
}

export async function exportMetadata(catalog: CatalogService, mapping: ClassificationMapping = {}): Promise<MetadataAsset[]> {
  const reverse = new Map<string, string[]>();
  for (const [name, tag] of Object.entries(mapping)) reverse.set(tag, [...(reverse.get(tag) ?? []), name]);
  const classificationsOf = (tags: readonly string[]): string[] => tags.flatMap((t) => reverse.get(t)?.slice(0, 1) ?? []);
  const assets: MetadataAsset[] = [];
  for (const d of (await catalog.datasets.list()).filter((x) => !x.system)) {
    assets.push({
      asset_type: 'dataset',
      full_name: fullName(d),
      description: d.description,
      owner: d.owner,
      steward: d.steward ?? '',
      certification: d.certification?.status ?? '',
      classifications: classificationsOf(d.tags),
      tags: d.tags,
    });
    for (const c of d.columns) {
      assets.push({ asset_type: 'column', full_name: `${fullName(d)}.${c.name}`, description: c.description ?? '', classifications: classificationsOf(c.tags), tags: c.tags });
    }
  }
  return assets;
}

/**
 * Applies the metadata of existing datasets and columns; values absent or empty in the file are
 * left as they are. Classifications become tags through the mapping (tags take effect in
 * policies at once); unknown assets and unmapped classifications are reported, never guessed.
 */
export async function importMetadata(catalog: CatalogService, assets: readonly MetadataAsset[], mapping: ClassificationMapping, options: { by: string; dryRun?: boolean }): Promise<ImportReport> {
  const applied: string[] = [];
  const unknown: string[] = [];
  const unmapped = new Set<string>();
  const rejected: { asset: string; error: string }[] = [];
  const byLowerName = new Map(Object.entries(mapping).map(([name, tag]) => [name.toLowerCase(), tag]));
  const tagsOf = (asset: MetadataAsset): string[] => {
    const tags = [...(asset.tags ?? [])];
    for (const name of asset.classifications ?? []) {
      const tag = byLowerName.get(name.trim().toLowerCase());
      if (tag === undefined) unmapped.add(name);
      else tags.push(tag);
    }
    return [...new Set(tags)];
  };
  const present = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';
  for (const asset of assets) {
    const parts = asset.full_name.toLowerCase().split('.');
    const datasetName = parts.slice(0, 2).join('.');
    const dataset = await catalog.datasets.find(datasetName);
    const column = asset.asset_type === 'column' ? parts[2] : undefined;
    if (dataset === undefined || dataset.system || (asset.asset_type === 'column' && (parts.length !== 3 || !dataset.columns.some((c) => c.name === column))) || (asset.asset_type === 'dataset' && parts.length !== 2)) {
      unknown.push(asset.full_name);
      continue;
    }
    try {
      const tags = tagsOf(asset);
      if (options.dryRun === true) {
        applied.push(asset.full_name);
        continue;
      }
      if (asset.asset_type === 'dataset') {
        const certification = present(asset.certification) ? asset.certification.trim().toLowerCase() : undefined;
        if (certification !== undefined && !(CERTIFICATION_STATUSES as readonly string[]).includes(certification)) {
          throw new InvalidRequestError(`certification "${asset.certification}" is not one of ${CERTIFICATION_STATUSES.join(', ')}`);
        }
        await catalog.update(datasetName, {
          ...(present(asset.description) ? { description: asset.description } : {}),
          ...(present(asset.owner) ? { owner: asset.owner } : {}),
          ...(present(asset.steward) ? { steward: asset.steward } : {}),
          ...(certification === undefined ? {} : { certification: { status: certification, by: options.by, note: 'imported' } }),
        });
        if (tags.length > 0) await catalog.tag(datasetName, { add: tags });
      } else {
        if (present(asset.description)) await catalog.update(datasetName, { columnDescriptions: { [column as string]: asset.description } });
        if (tags.length > 0) await catalog.tag(datasetName, { columns: { [column as string]: { add: tags } } });
      }
      applied.push(asset.full_name);
    } catch (error) {
      rejected.push({ asset: asset.full_name, error: (error as Error).message });
    }
  }
  return { applied, unknown_assets: unknown, unmapped_classifications: [...unmapped].sort(), rejected, dry_run: options.dryRun === true };
}

export function metadataToJson(assets: readonly MetadataAsset[]): string {
  return `${JSON.stringify({ format: METADATA_FORMAT, assets }, null, 2)}\n`;
}

export function metadataToCsv(assets: readonly MetadataAsset[]): string {
  const cell = (value: string): string => (/[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  const lines = [CSV_COLUMNS.join(',')];
  for (const a of assets) {
    lines.push(
      [a.asset_type, a.full_name, a.description ?? '', a.owner ?? '', a.steward ?? '', a.certification ?? '', (a.classifications ?? []).join(';'), (a.tags ?? []).join(';')].map(cell).join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Documentation as code, the way stewards write it:
 *
 *   datasets:
 *     drug_xyz.trial_july2020:
 *       description: "**Trial of drug XYZ**"
 *       owner: clinical-ops
 *       steward: erin
 *       certification: validated
 *       tags: [clinical]
 *       columns:
 *         email: { description: Contact address, tags: [pii.email] }
 */
function assetsFromDocumentation(value: unknown, source: string): MetadataAsset[] {
  const datasets = (value as { datasets?: unknown }).datasets;
  if (typeof datasets !== 'object' || datasets === null || Array.isArray(datasets)) throw new InvalidRequestError(`${source}: expected "datasets:" mapping dataset names to their documentation`);
  const assets: unknown[] = [];
  for (const [name, doc] of Object.entries(datasets)) {
    const d = (doc ?? {}) as Record<string, unknown>;
    assets.push({ asset_type: 'dataset', full_name: name, ...pick(d, ['description', 'owner', 'steward', 'certification', 'classifications', 'tags']) });
    const columns = d['columns'];
    if (columns !== undefined && (typeof columns !== 'object' || columns === null || Array.isArray(columns))) throw new InvalidRequestError(`${source}: columns of ${name} must be a mapping`);
    for (const [column, columnDoc] of Object.entries((columns ?? {}) as Record<string, unknown>)) {
      const c = typeof columnDoc === 'string' ? { description: columnDoc } : ((columnDoc ?? {}) as Record<string, unknown>);
      assets.push({ asset_type: 'column', full_name: `${name}.${column}`, ...pick(c, ['description', 'classifications', 'tags']) });
    }
  }
  return assets.map((a, i) => checkedAsset(a, `${source}: entry ${i + 1}`));
}

function pick(value: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => value[k] !== undefined).map((k) => [k, value[k]]));
}

/** Reads JSON (veil-metadata/1), CSV (a header starting asset_type) or YAML documentation. */
export function parseMetadata(text: string, source: string): MetadataAsset[] {
  const start = text.trimStart();
  if (!start.startsWith('{') && !/^"?asset_type"?\s*,/i.test(start)) {
    let value: unknown;
    try {
      value = parseYaml(text);
    } catch (error) {
      throw new InvalidRequestError(`${source}: YAML error: ${(error as Error).message.split('\n')[0] ?? ''}`);
    }
    return assetsFromDocumentation(value ?? {}, source);
  }
  if (start.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new InvalidRequestError(`${source} is not valid JSON`);
    }
    const document = value as { format?: unknown; assets?: unknown };
    if (document.format !== METADATA_FORMAT || !Array.isArray(document.assets)) throw new InvalidRequestError(`${source} is not a ${METADATA_FORMAT} document`);
    return document.assets.map((a, i) => checkedAsset(a, `${source}: asset ${i + 1}`));
  }
  const rows = parseCsv(text);
  const header = rows.shift() ?? [];
  const index = Object.fromEntries(header.map((h, i) => [h.trim().toLowerCase(), i]));
  for (const required of ['asset_type', 'full_name']) if (index[required] === undefined) throw new InvalidRequestError(`${source}: the CSV needs a ${required} column`);
  const get = (row: string[], key: string): string => (index[key] === undefined ? '' : (row[index[key]] ?? ''));
  const list = (value: string): string[] => value.split(';').map((v) => v.trim()).filter((v) => v !== '');
  return rows
    .filter((row) => row.some((cell) => cell !== ''))
    .map((row, i) =>
      checkedAsset(
        {
          asset_type: get(row, 'asset_type'),
          full_name: get(row, 'full_name'),
          description: get(row, 'description'),
          owner: get(row, 'owner'),
          steward: get(row, 'steward'),
          certification: get(row, 'certification'),
          classifications: list(get(row, 'classifications')),
          tags: list(get(row, 'tags')),
        },
        `${source}: row ${i + 2}`,
      ),
    );
}

function checkedAsset(value: unknown, where: string): MetadataAsset {
  const a = value as Record<string, unknown>;
  if (typeof a !== 'object' || a === null) throw new InvalidRequestError(`${where} is not an object`);
  const type = String(a['asset_type'] ?? '').toLowerCase();
  if (type !== 'dataset' && type !== 'column') throw new InvalidRequestError(`${where}: asset_type must be dataset or column`);
  if (typeof a['full_name'] !== 'string' || a['full_name'] === '') throw new InvalidRequestError(`${where}: full_name is required`);
  const strings = (key: string): string[] | undefined => (Array.isArray(a[key]) ? (a[key] as unknown[]).map(String) : undefined);
  const text = (key: string): string | undefined => (typeof a[key] === 'string' ? (a[key]) : undefined);
  const tags = strings('tags');
  for (const tag of tags ?? []) if (!TAG_PATTERN.test(tag)) throw new InvalidRequestError(`${where}: "${tag}" is not a tag`);
  const asset: Record<string, unknown> = { asset_type: type, full_name: a['full_name'] };
  for (const key of ['description', 'owner', 'steward', 'certification']) if (text(key) !== undefined) asset[key] = text(key);
  if (strings('classifications') !== undefined) asset['classifications'] = strings('classifications');
  if (tags !== undefined) asset['tags'] = tags;
  return asset as unknown as MetadataAsset;
}

/** RFC 4180 CSV: quoted fields with doubled quotes and embedded newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
