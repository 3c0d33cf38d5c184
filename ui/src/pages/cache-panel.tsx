import { useEffect, useState } from 'react';
import { api, byteSize, explain } from '../api.ts';

interface CacheStatus {
  readonly dataset: string;
  readonly state: string;
  readonly progress: number | null;
  readonly file_bytes: number | null;
  readonly source_bytes: number | null;
  readonly last_used_at: string | null;
  readonly detail: string | null;
}

/** States a build is under way in: the panel keeps asking until none is left. */
const MOVING = new Set(['building', 'queued']);
const POLL_MS = 1500;

/**
 * The columnar cache for administrators: each dataset's Parquet copy (fresh, building with its
 * progress, stale, …) and a rebuild button. Rebuilds run in the background; the panel polls
 * `GET /v1/cache` while one is under way.
 */
export function CachePanel() {
  const [open, setOpen] = useState(false);
  const [rows, setRows] = useState<readonly CacheStatus[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  /** After a rebuild is asked for, keep asking a little even before its build shows as under way. */
  const [watchUntil, setWatchUntil] = useState(0);

  useEffect(() => {
    if (!open) return;
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    api<{ datasets: CacheStatus[] }>('/v1/cache')
      .then((answer) => {
        if (!current) return;
        setRows(answer.datasets);
        setError(null);
        if (answer.datasets.some((d) => MOVING.has(d.state)) || Date.now() < watchUntil) timer = setTimeout(() => setTick((t) => t + 1), POLL_MS);
      })
      .catch((e: unknown) => current && setError(explain(e, 'the columnar cache')));
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [open, tick, watchUntil]);

  const rebuild = async (dataset: string): Promise<void> => {
    try {
      await api('/v1/cache/rebuild', { method: 'POST', body: { datasets: [dataset] } });
      setWatchUntil(Date.now() + 3 * POLL_MS);
    } catch (e) {
      setError(explain(e, `the copy of ${dataset}`));
    }
  };

  return (
    <details className="cache-panel" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Columnar cache</summary>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {rows !== null && (
        <div className="scroll" tabIndex={0} role="group" aria-label="Columnar cache, scrollable">
          <table aria-label="Columnar cache">
            <thead>
              <tr>
                <th scope="col">Dataset</th>
                <th scope="col">Copy</th>
                <th scope="col">Size</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.dataset}>
                  <td>{r.dataset}</td>
                  <td>
                    {r.state.replace('_', ' ')}
                    {r.state === 'building' && r.progress !== null && (
                      <>
                        {' '}
                        <progress value={r.progress} max={100} aria-label={`Building the copy of ${r.dataset}`} /> {Math.round(r.progress)}%
                      </>
                    )}
                    {r.detail !== null && <div className="tags">{r.detail}</div>}
                  </td>
                  <td>{r.file_bytes === null ? '' : `${byteSize(r.file_bytes)}${r.source_bytes === null ? '' : ` (source ${byteSize(r.source_bytes)})`}`}</td>
                  <td>{r.last_used_at === null ? '' : new Date(r.last_used_at).toLocaleString()}</td>
                  <td>
                    {r.state !== 'in_place' && r.state !== 'off' && (
                      <button type="button" onClick={() => void rebuild(r.dataset)} disabled={MOVING.has(r.state)} aria-label={`Rebuild the copy of ${r.dataset}`}>
                        Rebuild
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </details>
  );
}
