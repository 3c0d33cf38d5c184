import { useEffect, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api, certificationOf, explain, type SearchResult } from '../api.ts';
import { CachePanel } from './cache-panel.tsx';
import { CrawlPanel } from './crawl-panel.tsx';

const FACETS = ['database', 'tag', 'owner', 'certification'] as const;
type Facet = (typeof FACETS)[number];

/** The catalog: results as you type, narrowed by facets, ranked as /v1/search ranks them; administrators may crawl storage. */
export function SearchPage(props: { admin: boolean }) {
  const [params, setParams] = useSearchParams();
  const query = params.get('q') ?? '';
  const [text, setText] = useState(query);
  const [results, setResults] = useState<readonly SearchResult[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** Bumped after a crawl, so that newly registered datasets appear in the results. */
  const [catalogVersion, setCatalogVersion] = useState(0);

  // Typing updates the address (a shareable /search?q=…) after a short pause.
  useEffect(() => {
    const timer = setTimeout(() => {
      if (text === query) return;
      const next = new URLSearchParams(params);
      if (text === '') next.delete('q');
      else next.set('q', text);
      setParams(next, { replace: true });
    }, 200);
    return () => clearTimeout(timer);
  }, [text, query, params, setParams]);

  useEffect(() => {
    let current = true;
    const chosen = (facet: Facet): string | null => {
      const value = params.get(facet);
      return value === null || value === '' ? null : value;
    };
    // With words: ranked search. Without: every dataset the viewer may see, facets applied here.
    const request = new URLSearchParams();
    for (const facet of FACETS) if (chosen(facet) !== null) request.set(facet, chosen(facet) as string);
    const answer =
      query.trim() === ''
        ? api<{ datasets: SearchResult[] }>(`/v1/datasets${chosen('database') === null ? '' : `?database=${encodeURIComponent(chosen('database') as string)}`}`).then((a) =>
            a.datasets.filter(
              (d) =>
                (chosen('tag') === null || d.tags.includes(chosen('tag') as string)) &&
                (chosen('owner') === null || d.owner === chosen('owner')) &&
                (chosen('certification') === null || certificationOf(d) === chosen('certification')),
            ),
          )
        : (request.set('q', query), api<{ results: SearchResult[] }>(`/v1/search?${request.toString()}`).then((a) => a.results));
    answer
      .then((found) => {
        if (!current) return;
        setResults(found);
        setError(null);
      })
      .catch((e: unknown) => current && setError(explain(e, 'The catalog')));
    return () => {
      current = false;
    };
  }, [params, query, catalogVersion]);

  const facetValues = useMemo(() => {
    const values: Record<Facet, Set<string>> = { database: new Set(), tag: new Set(), owner: new Set(), certification: new Set() };
    for (const r of results ?? []) {
      values.database.add(r.name.split('.')[0] ?? '');
      for (const t of r.tags) values.tag.add(t);
      values.owner.add(r.owner);
      const certification = certificationOf(r);
      if (certification !== null) values.certification.add(certification);
    }
    for (const facet of FACETS) {
      const chosen = params.get(facet);
      if (chosen !== null && chosen !== '') values[facet].add(chosen);
    }
    return values;
  }, [results, params]);

  const setFacet = (facet: Facet, value: string): void => {
    const next = new URLSearchParams(params);
    if (value === '') next.delete(facet);
    else next.set(facet, value);
    setParams(next);
  };

  return (
    <section>
      <h1>Catalog</h1>
      <div className="search-bar">
        <input type="search" aria-label="Search datasets" placeholder="Search datasets" value={text} onChange={(e) => setText(e.target.value)} autoFocus />
      </div>
      <div className="facets">
        {FACETS.map((facet) => (
          <label key={facet}>
            {facet}
            <select value={params.get(facet) ?? ''} onChange={(e) => setFacet(facet, e.target.value)}>
              <option value="">any</option>
              {[...facetValues[facet]].filter((v) => v !== '').sort().map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          </label>
        ))}
      </div>
      {props.admin && <CrawlPanel onCrawled={() => setCatalogVersion((v) => v + 1)} />}
      {props.admin && <CachePanel />}
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {results !== null && results.length === 0 && <p>No datasets match, among those you may see.</p>}
      <ul className="results" aria-label="Search results">
        {(results ?? []).map((r) => (
          <li key={r.name}>
            <Link to={`/datasets/${encodeURIComponent(r.name)}`}>{r.name}</Link>
            {certificationOf(r) !== null && <span className={`badge badge-${certificationOf(r) ?? ''}`}>{certificationOf(r)}</span>}
            {r.access === 'metadata' && <span className="access">description only</span>}
            <p>{r.description}</p>
            <p className="tags">{r.tags.join(' · ')}</p>
          </li>
        ))}
      </ul>
    </section>
  );
}
