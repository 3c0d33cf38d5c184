import { fullName } from '../catalog/index.ts';
import { InvalidRequestError } from '../errors/index.ts';
import type { Principal } from '../identity/index.ts';
import type { EffectiveDatasetPolicy } from '../policy/index.ts';
import type { AccessService } from './access-service.ts';

/**
 * Catalog search: full text over dataset names, descriptions, column names and descriptions,
 * tags and owners, for the datasets the caller can read at least in part.
 *
 * Permission-aware by construction: only the caller's readable datasets are searched, and within
 * them only the columns they can see (a hidden column's name, description or tags never match),
 * so a search can never reveal a dataset or column the caller cannot know of.
 *
 * Ranking: datasets whose name matches come first; then by score (where the terms matched), then
 * by popularity (distinct readers over the last 30 days, from five on: AuditLog.datasetPopularity).
 */
export interface SearchOptions {
  readonly query: string;
  readonly database?: string;
  readonly tag?: string;
  readonly owner?: string;
  /** draft, validated or deprecated; "none" for datasets never certified. */
  readonly certification?: string;
  readonly limit?: number;
  readonly includeSystem?: boolean;
}

export interface SearchResult {
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  readonly certification: string | null;
  readonly tags: readonly string[];
  readonly score: number;
  /** Where the terms matched: "name", "description", "owner", "tag:pii.email", "column:email", "column_description:email". */
  readonly matched: readonly string[];
  readonly popularity: number;
}

const WEIGHTS = { nameExact: 10, name: 6, column: 4, tag: 3, owner: 2, description: 2, columnDescription: 1.5 } as const;
const CERTIFICATION_BONUS: Record<string, number> = { validated: 1, draft: 0, none: 0, deprecated: -5 };
const MAX_TERMS = 10;
export const MAX_SEARCH_RESULTS = 200;

export function searchTerms(query: string): string[] {
  const terms = [...new Set(query.toLowerCase().split(/[^\p{L}\p{N}_.@-]+/u).filter((t) => t.length > 0))];
  if (terms.length === 0) throw new InvalidRequestError('give at least one search term (q)');
  if (terms.length > MAX_TERMS) throw new InvalidRequestError(`at most ${MAX_TERMS} search terms`);
  return terms;
}

export async function searchCatalog(access: AccessService, principal: Principal, options: SearchOptions, popularity: ReadonlyMap<string, number>): Promise<SearchResult[]> {
  const terms = searchTerms(options.query);
  const limit = Math.min(Math.max(options.limit ?? 50, 1), MAX_SEARCH_RESULTS);
  const results: (SearchResult & { nameMatched: boolean })[] = [];
  for (const effective of await access.visibleDatasets(principal)) {
    if (!effective.readable) continue;
    const d = effective.dataset;
    if (d.system && options.includeSystem !== true && options.database !== 'veil_system') continue;
    if (options.database !== undefined && d.database !== options.database.toLowerCase()) continue;
    if (options.owner !== undefined && d.owner.toLowerCase() !== options.owner.toLowerCase()) continue;
    if (options.certification !== undefined && (d.certification?.status ?? 'none') !== options.certification) continue;
    if (options.tag !== undefined && !datasetTags(effective).some((t) => t === options.tag || t.startsWith(`${options.tag}.`))) continue;
    const match = matchDataset(effective, terms);
    if (match === undefined) continue;
    const name = fullName(d);
    const uses = popularity.get(name) ?? 0;
    results.push({
      name,
      description: d.description,
      owner: d.owner,
      certification: d.certification?.status ?? null,
      tags: d.tags,
      // Certified data first among equals; deprecated data last.
      score: Math.round((match.score + Math.log1p(uses) * 0.5 + (CERTIFICATION_BONUS[d.certification?.status ?? 'none'] ?? 0)) * 1000) / 1000,
      matched: match.matched,
      popularity: uses,
      nameMatched: match.nameMatched,
    });
  }
  results.sort((a, b) => Number(b.nameMatched) - Number(a.nameMatched) || b.score - a.score || b.popularity - a.popularity || a.name.localeCompare(b.name));
  return results.slice(0, limit).map(({ nameMatched: _omit, ...result }) => result);
}

/** Tags of the dataset and of the columns the caller can see. */
function datasetTags(effective: EffectiveDatasetPolicy): string[] {
  return [...effective.dataset.tags, ...effective.columns.filter((c) => c.access !== 'hidden').flatMap((c) => c.column.tags)];
}

/** Every term must match somewhere; returns where, with a score, or undefined. */
function matchDataset(effective: EffectiveDatasetPolicy, terms: readonly string[]): { score: number; matched: string[]; nameMatched: boolean } | undefined {
  const d = effective.dataset;
  const name = fullName(d);
  const visibleColumns = effective.columns.filter((c) => c.access !== 'hidden').map((c) => c.column);
  const matched = new Set<string>();
  let score = 0;
  let nameMatched = false;
  for (const term of terms) {
    let termScore = 0;
    if (name === term || d.name === term) {
      termScore += WEIGHTS.nameExact;
      nameMatched = true;
      matched.add('name');
    } else if (name.includes(term)) {
      termScore += WEIGHTS.name;
      nameMatched = true;
      matched.add('name');
    }
    if (d.description.toLowerCase().includes(term)) {
      termScore += WEIGHTS.description;
      matched.add('description');
    }
    if (d.owner.toLowerCase().includes(term)) {
      termScore += WEIGHTS.owner;
      matched.add('owner');
    }
    for (const tag of d.tags) {
      if (tag.includes(term)) {
        termScore += WEIGHTS.tag;
        matched.add(`tag:${tag}`);
      }
    }
    for (const column of visibleColumns) {
      if (column.name.includes(term)) {
        termScore += WEIGHTS.column;
        matched.add(`column:${column.name}`);
      }
      if ((column.description ?? '').toLowerCase().includes(term)) {
        termScore += WEIGHTS.columnDescription;
        matched.add(`column_description:${column.name}`);
      }
      for (const tag of column.tags) {
        if (tag.includes(term)) {
          termScore += WEIGHTS.tag;
          matched.add(`tag:${tag}`);
        }
      }
    }
    if (termScore === 0) return undefined;
    score += termScore;
  }
  return { score, matched: [...matched].sort(), nameMatched };
}
