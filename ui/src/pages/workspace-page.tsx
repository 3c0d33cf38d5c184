import { sql, PostgreSQL } from '@codemirror/lang-sql';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState } from 'react';
import { Cell } from '../cell.tsx';
import { CodeEditor, type CodeEditorHandle } from '../code-editor.tsx';
import { DownloadButtons } from '../download-buttons.tsx';
import { api, explain, type DatasetDescription, type QueryResult, type SearchResult } from '../api.ts';

const HISTORY_SIZE = 50;
const MAX_ROWS = 10_000;

interface Explanation {
  readonly rewritten_sql: string;
  readonly datasets: readonly {
    readonly dataset: string;
    readonly columns: readonly { readonly name: string; readonly access: string; readonly transform: string | null; readonly policies: readonly string[] }[];
    readonly row_filters: readonly { readonly predicate: string; readonly policy: string }[];
  }[];
}

/**
 * SQL against the datasets the viewer may read: an editor that completes their datasets and
 * visible columns, results in a virtualised grid, the explain of the query, CSV download, and a
 * history kept in this browser for this user.
 */
export function WorkspacePage(props: { user: string }) {
  const editor = useRef<CodeEditorHandle>(null);
  const [schema, setSchema] = useState<Record<string, string[]> | null>(null);
  const [result, setResult] = useState<QueryResult | null>(null);
  const [explanation, setExplanation] = useState<Explanation | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const historyKey = `veil.history.${props.user}`;
  const [history, setHistory] = useState<string[]>(() => JSON.parse(localStorage.getItem(historyKey) ?? '[]') as string[]);

  // Completion of what this viewer may read (hidden columns are never offered), before the editor is made.
  useEffect(() => {
    let cancelled = false;
    const load = async (): Promise<void> => {
      const readable: Record<string, string[]> = {};
      try {
        const { datasets } = await api<{ datasets: SearchResult[] }>('/v1/datasets');
        for (const d of datasets.filter((x) => x.access === 'read')) {
          const described = await api<DatasetDescription>(`/v1/datasets/${encodeURIComponent(d.name)}`);
          readable[d.name] = described.columns.filter((c) => c.access !== 'hidden').map((c) => c.name);
        }
      } catch {
        // Completion is a help; the editor works without it.
      }
      if (!cancelled) setSchema(readable);
    };
    void load();
    return () => {
      cancelled = true;
    };
  }, []);

  const text = (): string => editor.current?.text().trim() ?? '';

  const remember = (statement: string): void => {
    const next = [statement, ...history.filter((h) => h !== statement)].slice(0, HISTORY_SIZE);
    setHistory(next);
    localStorage.setItem(historyKey, JSON.stringify(next));
  };

  const run = async (): Promise<void> => {
    const statement = text();
    if (statement === '') return;
    setRunning(true);
    setError(null);
    setExplanation(null);
    try {
      setResult(await api<QueryResult>('/v1/query', { method: 'POST', body: { sql: statement, max_rows: MAX_ROWS } }));
      remember(statement);
    } catch (e) {
      setResult(null);
      setError(explain(e, 'a dataset of this query'));
    } finally {
      setRunning(false);
    }
  };

  const showExplain = async (): Promise<void> => {
    setError(null);
    try {
      setExplanation(await api<Explanation>('/v1/explain', { method: 'POST', body: { sql: text() } }));
    } catch (e) {
      setError(explain(e, 'a dataset of this query'));
    }
  };

  return (
    <section className="workspace">
      <h1>Workspace</h1>
      <CodeEditor
        ref={editor}
        label="SQL"
        initial={history[0] ?? 'SELECT *\nFROM '}
        ready={schema !== null}
        extensions={[sql({ dialect: PostgreSQL, schema: schema ?? {}, upperCaseKeywords: true })]}
      />
      <div className="actions">
        <button type="button" onClick={() => void run()} disabled={running}>
          Run
        </button>
        <button type="button" onClick={() => void showExplain()}>
          Explain
        </button>
        <DownloadButtons sql={text} basename="veil-result" onError={setError} />
        {running && <span role="status">Running…</span>}
      </div>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {result !== null && (
        <>
          <p role="status">
            {result.rows.length.toLocaleString()} row{result.rows.length === 1 ? '' : 's'}
            {result.rows.length >= MAX_ROWS ? ` (the first ${MAX_ROWS.toLocaleString()}; download for all)` : ''}
          </p>
          <VirtualGrid result={result} />
        </>
      )}
      {explanation !== null && <ExplainView explanation={explanation} />}
      {history.length > 0 && (
        <details className="history">
          <summary>History</summary>
          <ul>
            {history.map((h) => (
              <li key={h}>
                <button type="button" className="link" onClick={() => editor.current?.setText(h)}>
                  {h}
                </button>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

/** Rows rendered only where the viewer looks: ten thousand rows scroll as smoothly as ten. */
function VirtualGrid(props: { result: QueryResult }) {
  const scroller = useRef<HTMLDivElement>(null);
  const { columns, rows } = props.result;
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => 30, overscan: 12 });
  const items = virtualizer.getVirtualItems();
  const before = items[0]?.start ?? 0;
  const after = virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0);
  return (
    <div className="grid scroll" ref={scroller} tabIndex={0} role="region" aria-label="Query results, scrollable">
      <table aria-label="Query results">
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" key={c.name}>
                {c.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {before > 0 && <tr aria-hidden="true" ref={(row) => row?.style.setProperty('height', `${before}px`)} />}
          {items.map((item) => (
            <tr key={item.index}>
              {(rows[item.index] ?? []).map((value, j) => (
                <Cell key={j} value={value} />
              ))}
            </tr>
          ))}
          {after > 0 && <tr aria-hidden="true" ref={(row) => row?.style.setProperty('height', `${after}px`)} />}
        </tbody>
      </table>
    </div>
  );
}

function ExplainView(props: { explanation: Explanation }) {
  return (
    <div className="explain">
      <h2>What you get, and why</h2>
      {props.explanation.datasets.map((d) => (
        <div key={d.dataset}>
          <h3>{d.dataset}</h3>
          <ul>
            {d.columns.map((c) => (
              <li key={c.name}>
                <strong>{c.name}</strong>: {c.access}
                {c.transform !== null ? ` (${c.transform})` : ''}
                {c.policies.length > 0 ? `, by ${c.policies.join(', ')}` : ''}
              </li>
            ))}
          </ul>
          {d.row_filters.map((f) => (
            <p key={`${f.policy}:${f.predicate}`}>
              Rows: <code>{f.predicate}</code> (policy {f.policy})
            </p>
          ))}
        </div>
      ))}
    </div>
  );
}
