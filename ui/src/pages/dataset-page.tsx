import { useEffect, useState } from 'react';
import Markdown from 'react-markdown';
import { useParams } from 'react-router-dom';
import { Cell } from '../cell.tsx';
import { StewardPanel } from './steward-panel.tsx';
import { api, certificationOf, explain, type DatasetDescription, type QueryResult } from '../api.ts';

/**
 * One dataset as the viewer may see it: documentation (Markdown, rendered without raw HTML), the
 * viewer's own access per column, a preview through the same policies, and ready-to-paste access.
 */
export function DatasetPage(props: { user: string; admin: boolean }) {
  const name = useParams()['name'] ?? '';
  const [dataset, setDataset] = useState<DatasetDescription | null>(null);
  const [preview, setPreview] = useState<QueryResult | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const [snippets, setSnippets] = useState<Record<string, string> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let current = true;
    setDataset(null);
    setPreview(null);
    setPreviewError(null);
    setSnippets(null);
    setError(null);
    const path = `/v1/datasets/${encodeURIComponent(name)}`;
    api<DatasetDescription>(path)
      .then((d) => {
        if (!current) return;
        setDataset(d);
        if (d.access === 'read') {
          api<QueryResult>(`${path}/preview?limit=20`)
            .then((p) => current && setPreview(p))
            .catch((e: unknown) => current && setPreviewError(explain(e, `the rows of ${name}`)));
        } else setPreviewError(`You may read the description of ${d.name}, not its rows.`);
        api<{ snippets: Record<string, string> }>(`${path}/access`)
          .then((a) => current && setSnippets(a.snippets))
          .catch(() => undefined);
      })
      .catch((e: unknown) => current && setError(explain(e, `The dataset ${name}`)));
    return () => {
      current = false;
    };
  }, [name, version]);

  if (error !== null) {
    return (
      <section>
        <h1>{name}</h1>
        <p role="alert" className="error">
          {error}
        </p>
      </section>
    );
  }
  if (dataset === null) return <p className="loading">Loading {name}…</p>;
  const certification = certificationOf(dataset);
  return (
    <article className="dataset">
      <h1>{dataset.name}</h1>
      <p className="meta">
        Owner <strong>{dataset.owner || '—'}</strong> · Steward <strong>{dataset.steward ?? '—'}</strong>
        {certification !== null && <span className={`badge badge-${certification}`}>{certification}</span>}
      </p>
      <div className="description">
        <Markdown skipHtml>{dataset.description}</Markdown>
      </div>
      {dataset.tags.length > 0 && <p className="tags">Tags: {dataset.tags.join(', ')}</p>}

      <h2>Columns</h2>
      <div className="scroll" tabIndex={0} role="region" aria-label={`Columns of ${dataset.name}`}>
        <table>
          <thead>
            <tr>
              <th scope="col">Column</th>
              <th scope="col">Type</th>
              <th scope="col">Tags</th>
              <th scope="col">Your access</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {dataset.columns.map((c) => (
              <tr key={c.name}>
                <th scope="row">{c.name}</th>
                <td>{c.type}</td>
                <td>{c.tags.join(', ')}</td>
                <td className={`access-${c.access}`}>{c.access === 'masked' ? `masked (${c.transform ?? ''})` : c.access}</td>
                <td>{c.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {dataset.row_filters.length > 0 && (
        <>
          <h2>Rows you see</h2>
          <ul>
            {dataset.row_filters.map((f) => (
              <li key={`${f.policy}:${f.predicate}`}>
                <code>{f.predicate}</code> (policy {f.policy})
              </li>
            ))}
          </ul>
        </>
      )}

      <h2>Preview</h2>
      {previewError !== null && <p className="notice">{previewError}</p>}
      {preview !== null && <ResultGrid result={preview} label={`Preview of ${dataset.name}`} />}

      {(props.admin || dataset.steward === props.user) && <StewardPanel key={version} dataset={dataset} onChanged={() => setVersion((v) => v + 1)} />}

      {snippets !== null && (
        <>
          <h2>How to read it</h2>
          {Object.entries(snippets).map(([tool, code]) => (
            <Snippet key={tool} tool={tool} code={code} />
          ))}
        </>
      )}
    </article>
  );
}

/** A result as a table; every value shown as text (never as HTML). */
export function ResultGrid(props: { result: QueryResult; label: string }) {
  const { columns, rows } = props.result;
  return (
    <div className="scroll" tabIndex={0} role="region" aria-label={`${props.label}, scrollable`}>
      <table aria-label={props.label}>
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
          {rows.map((row, i) => (
            <tr key={i}>
              {row.map((value, j) => (
                <Cell key={j} value={value} />
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Snippet(props: { tool: string; code: string }) {
  const [copied, setCopied] = useState(false);
  const copy = (): void => {
    navigator.clipboard
      .writeText(props.code)
      .then(() => setCopied(true))
      .catch(() => setCopied(false));
  };
  return (
    <div className="snippet">
      <div className="snippet-head">
        <h3>{props.tool}</h3>
        <button type="button" onClick={copy} aria-label={`Copy the ${props.tool} snippet`}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre tabIndex={0} aria-label={`${props.tool} snippet`}>
        <code>{props.code}</code>
      </pre>
    </div>
  );
}

