import { useState, type FormEvent, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { ApiError, explain, session } from '../api.ts';
import './crawl-panel.css';

/** What POST /v1/catalog/crawl reports when it is done (src/catalog/crawler.ts, CrawlReport). */
interface CrawlReport {
  readonly root: string;
  readonly database: string;
  readonly registered: readonly { readonly dataset: string; readonly location: string; readonly format: string; readonly columns: number }[];
  readonly unchanged: readonly string[];
  readonly changed: readonly { readonly dataset: string; readonly files_added: number; readonly files_changed: number; readonly files_removed: number }[];
  readonly drift: readonly {
    readonly dataset: string;
    readonly added_columns: readonly string[];
    readonly removed_columns: readonly string[];
    readonly changed_types: readonly { readonly column: string; readonly registered: string; readonly found: string }[];
  }[];
  readonly missing: readonly string[];
  readonly errors: readonly { readonly location: string; readonly error: string }[];
}

/** One progress line of the stream: `done` of `total` candidates, the last one at `location`. */
interface CrawlProgress {
  readonly done: number;
  readonly total: number;
  readonly location: string;
}

type CrawlLine = { readonly progress: CrawlProgress } | { readonly report: CrawlReport } | { readonly error: { readonly code: string; readonly message: string } };

/** The stream ended without its report: the connection dropped, or the server went away. */
class CrawlInterrupted extends Error {}

/**
 * For administrators on the catalog page: crawl a storage prefix into a database, with the
 * crawl's progress as the server streams it (NDJSON), then what it registered and found.
 */
export function CrawlPanel(props: { onCrawled?: () => void }) {
  const [prefix, setPrefix] = useState('');
  const [database, setDatabase] = useState('');
  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<CrawlProgress | null>(null);
  const [report, setReport] = useState<CrawlReport | null>(null);
  const [error, setError] = useState<string | null>(null);

  const crawl = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setRunning(true);
    setProgress(null);
    setReport(null);
    setError(null);
    try {
      setReport(await crawlWithProgress(prefix.trim(), database.trim(), setProgress));
      props.onCrawled?.();
    } catch (e) {
      setError(crawlErrorText(e, prefix.trim()));
    } finally {
      setRunning(false);
    }
  };

  return (
    <details className="crawl-panel">
      <summary>Crawl storage</summary>
      <form className="crawl-form" onSubmit={(e) => void crawl(e)}>
        <label>
          Storage prefix
          <input value={prefix} onChange={(e) => setPrefix(e.target.value)} required placeholder="lake/sales or s3://bucket/prefix" />
        </label>
        <label>
          Database
          <input value={database} onChange={(e) => setDatabase(e.target.value)} required placeholder="lake" />
        </label>
        <button type="submit" className="primary" disabled={running}>
          Crawl
        </button>
      </form>
      {progress !== null && <progress className="crawl-bar" aria-label="Crawl progress" value={progress.total === 0 ? 1 : progress.done} max={Math.max(progress.total, 1)} />}
      {/* Always present, so screen readers announce each update of the live region. */}
      <p role="status" className="crawl-status">
        {progress === null ? (running ? 'Listing the files under the prefix…' : '') : statusText(progress, report !== null)}
      </p>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {report !== null && <CrawlSummary report={report} />}
    </details>
  );
}

/** "12 of 40: clinical/x.csv"; before the first candidate, how many were found. */
function statusText(progress: CrawlProgress, finished: boolean): string {
  if (finished) return `Done: ${progress.done} of ${progress.total} crawled.`;
  if (progress.done === 0) return `Found ${progress.total} ${progress.total === 1 ? 'dataset' : 'datasets'} to crawl under ${progress.location}.`;
  return `${progress.done} of ${progress.total}: ${progress.location}`;
}

/**
 * Posts the crawl asking for NDJSON and reads the answer line by line as it arrives: progress
 * lines go to `onProgress`, the report line is returned, an error line is thrown as an ApiError.
 */
async function crawlWithProgress(prefix: string, database: string, onProgress: (progress: CrawlProgress) => void): Promise<CrawlReport> {
  const response = await fetch('/v1/catalog/crawl', {
    method: 'POST',
    headers: { Authorization: `Bearer ${session.token() ?? ''}`, 'Content-Type': 'application/json', Accept: 'application/x-ndjson', 'X-Veil-Client': 'veil-web' },
    body: JSON.stringify({ prefix, database }),
  });
  // Refusals and bad prefixes come before the stream starts, as a JSON error with their status.
  if (!response.ok || response.body === null) throw await apiErrorOf(response);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  try {
    // Ends when the server ends the response; each chunk may hold several lines, or part of one.
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      pending += decoder.decode(chunk.value, { stream: true });
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const report = handleLine(line, onProgress);
        if (report !== undefined) return report;
      }
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new CrawlInterrupted();
  } finally {
    reader.releaseLock();
  }
  throw new CrawlInterrupted();
}

/** One line of the stream: the report when it is the last one. */
function handleLine(line: string, onProgress: (progress: CrawlProgress) => void): CrawlReport | undefined {
  if (line.trim() === '') return undefined;
  const value = JSON.parse(line) as CrawlLine;
  if ('progress' in value) onProgress(value.progress);
  else if ('error' in value) throw new ApiError(200, value.error.code, value.error.message);
  else return value.report;
  return undefined;
}

async function apiErrorOf(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  return new ApiError(response.status, body?.error?.code ?? `HTTP_${response.status}`, body?.error?.message ?? response.statusText);
}

function crawlErrorText(error: unknown, prefix: string): string {
  if (error instanceof CrawlInterrupted) return 'The crawl was interrupted before its report arrived. Datasets registered until then stay registered; crawl again to see what changed.';
  // The server's words say what is wrong with the prefix or the database name.
  if (error instanceof ApiError && error.code === 'INVALID_REQUEST') return `Veil cannot crawl this: ${error.message}.`;
  return explain(error, `storage under ${prefix}`);
}

/** What the crawl registered and found, each dataset registered a link to its page. */
function CrawlSummary(props: { report: CrawlReport }) {
  const { registered, changed, drift, missing, errors, unchanged } = props.report;
  return (
    <section className="crawl-summary" aria-labelledby="crawl-summary-title">
      <h2 id="crawl-summary-title">Crawl of {props.report.root}</h2>
      <p>
        {registered.length} registered, {changed.length} changed, {drift.length} with schema drift, {missing.length} missing, {errors.length} failed, {unchanged.length} unchanged.
      </p>
      <SummaryList title="Registered" items={registered} render={(r) => <><Link to={`/datasets/${encodeURIComponent(r.dataset)}`}>{r.dataset}</Link> <span className="crawl-detail">{r.format}, {r.columns} columns, from {r.location}</span></>} />
      <SummaryList title="Changed" items={changed} render={(c) => <>{c.dataset}: <span className="crawl-detail">{c.files_added} files added, {c.files_changed} changed, {c.files_removed} removed</span></>} />
      <SummaryList title="Schema drift (reported, not applied)" items={drift} render={(d) => <>{d.dataset}: <span className="crawl-detail">{driftText(d)}</span></>} />
      <SummaryList title="Missing (files gone; the datasets are kept)" items={missing} render={(m) => m} />
      <SummaryList title="Errors" items={errors} render={(e) => <><code>{e.location}</code>: {e.error}</>} />
    </section>
  );
}

function SummaryList<T>(props: { title: string; items: readonly T[]; render: (item: T) => ReactNode }) {
  if (props.items.length === 0) return null;
  return (
    <>
      <h3>{props.title}</h3>
      <ul className="crawl-list">
        {props.items.map((item, i) => (
          <li key={i}>{props.render(item)}</li>
        ))}
      </ul>
    </>
  );
}

function driftText(d: CrawlReport['drift'][number]): string {
  const parts = [
    d.added_columns.length > 0 ? `columns added: ${d.added_columns.join(', ')}` : '',
    d.removed_columns.length > 0 ? `columns removed: ${d.removed_columns.join(', ')}` : '',
    ...d.changed_types.map((t) => `${t.column} is ${t.found}, registered as ${t.registered}`),
  ];
  return parts.filter((p) => p !== '').join('; ');
}
