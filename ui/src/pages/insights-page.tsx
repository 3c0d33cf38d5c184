import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { api, ApiError, explain } from '../api.ts';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

interface Insights {
  readonly window: { readonly days: number; readonly from: string; readonly to: string };
  readonly accesses_over_time: readonly AccessRow[];
  readonly sensitive_access: readonly { tag: string; user: string | null; dataset: string; requests: number; rows_returned: number; last_at: string }[];
  readonly denied_attempts: readonly { user: string | null; error_code: string | null; statement_type: string; datasets: string[]; count: number; last_at: string }[];
  readonly unused_grants: readonly { policy: string; description: string | null; last_used_at: string | null }[];
  readonly top_datasets: readonly { dataset: string; requests: number; rows_returned: number; users: number }[];
  readonly top_columns: readonly { column: string; dataset: string; requests: number; users: number }[];
}

interface AccessRow {
  readonly day: string;
  readonly by: 'dataset' | 'user' | 'client';
  readonly dataset: string | null;
  readonly user: string | null;
  readonly door: string | null;
  readonly client_application: string | null;
  readonly requests: number;
}

/** The three breakdowns the API gives, each with how a row names its series. */
const BREAKDOWNS = [
  { by: 'dataset', title: 'by dataset', series: (r: AccessRow) => r.dataset ?? '(no dataset)' },
  { by: 'user', title: 'by user', series: (r: AccessRow) => r.user ?? '(anonymous)' },
  { by: 'client', title: 'by tool', series: (r: AccessRow) => `${r.door ?? '?'}${r.client_application === null ? '' : ` · ${r.client_application}`}` },
] as const;

const PALETTE = ['#0b57d0', '#a40e26', '#116329', '#7d4e00', '#6639ba', '#0a6b75', '#953800', '#424a53'];

/** Who reads what, sensitive reads, refusals and unused grants: for compliance and administrators. */
export function InsightsPage() {
  const [params, setParams] = useSearchParams();
  const days = params.get('days') ?? '30';
  const [insights, setInsights] = useState<Insights | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    setInsights(null);
    api<Insights>(`/v1/audit/insights?days=${encodeURIComponent(days)}`)
      .then((i) => current && setInsights(i))
      .catch((e: unknown) => {
        if (!current) return;
        setError(e instanceof ApiError && e.code === 'ACCESS_DENIED' ? 'Insights are for the compliance group and administrators.' : explain(e, 'Insights'));
      });
    return () => {
      current = false;
    };
  }, [days]);

  return (
    <section>
      <h1>Insights</h1>
      <label className="inline">
        Window
        <select value={days} onChange={(e) => setParams(new URLSearchParams({ days: e.target.value }))}>
          {['1', '7', '30', '90', '365'].map((d) => (
            <option key={d} value={d}>
              last {d} day{d === '1' ? '' : 's'}
            </option>
          ))}
        </select>
      </label>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {insights === null && error === null && <p className="loading">Reading the audit trail…</p>}
      {insights !== null && (
        <>
          {BREAKDOWNS.map((b) => (
            <div key={b.by}>
              <h2>Requests per day, {b.title}</h2>
              <RequestsChart title={`Requests per day ${b.title}`} rows={insights.accesses_over_time.filter((r) => r.by === b.by)} series={b.series} />
            </div>
          ))}
          <Table caption="Readers of pii and phi columns" columns={['tag', 'user', 'dataset', 'requests', 'rows', 'last']} rows={insights.sensitive_access.map((r) => [r.tag, r.user ?? '', r.dataset, r.requests, r.rows_returned, r.last_at])} />
          <Table caption="Denied attempts" columns={['user', 'code', 'type', 'datasets', 'count', 'last']} rows={insights.denied_attempts.map((r) => [r.user ?? '', r.error_code ?? '', r.statement_type, r.datasets.join(', '), r.count, r.last_at])} />
          <Table caption="Top datasets" columns={['dataset', 'requests', 'rows', 'users']} rows={insights.top_datasets.map((r) => [r.dataset, r.requests, r.rows_returned, r.users])} />
          <Table caption="Top columns" columns={['column', 'dataset', 'requests', 'users']} rows={insights.top_columns.map((r) => [r.column, r.dataset, r.requests, r.users])} />
          <Table caption="Grants unused in the window" columns={['policy', 'description', 'last used']} rows={insights.unused_grants.map((r) => [r.policy, r.description ?? '', r.last_used_at ?? 'never'])} />
        </>
      )}
    </section>
  );
}

/** A stacked bar chart (Chart.js on a canvas) of one breakdown, its numbers in the label for screen readers. */
function RequestsChart(props: { title: string; rows: readonly AccessRow[]; series: (r: AccessRow) => string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const days = [...new Set(props.rows.map((r) => r.day))].sort();
  const names = [...new Set(props.rows.map(props.series))].sort();
  const totals = names.map((name) => [name, props.rows.filter((r) => props.series(r) === name).reduce((n, r) => n + r.requests, 0)] as const);
  useEffect(() => {
    if (canvas.current === null) return;
    const chart = new Chart(canvas.current, {
      type: 'bar',
      data: {
        labels: days,
        datasets: names.map((name, i) => ({
          label: name,
          backgroundColor: PALETTE[i % PALETTE.length] ?? '#424a53',
          data: days.map((day) => props.rows.filter((r) => r.day === day && props.series(r) === name).reduce((n, r) => n + r.requests, 0)),
        })),
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    });
    return () => chart.destroy();
    // The series function is fixed per breakdown; the rows are what change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.rows]);
  return (
    <div className="chart">
      <canvas ref={canvas} role="img" aria-label={`${props.title}: ${totals.map(([name, n]) => `${name} ${n}`).join(', ') || 'no requests'}`} />
    </div>
  );
}

function Table(props: { caption: string; columns: readonly string[]; rows: readonly (readonly (string | number)[])[] }) {
  return (
    <div className="scroll" tabIndex={0} role="region" aria-label={`${props.caption}, scrollable`}>
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 && (
            <tr>
              <td colSpan={props.columns.length}>none</td>
            </tr>
          )}
          {props.rows.map((row, i) => (
            <tr key={i}>
              {row.map((v, j) => (
                <td key={j}>{String(v)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
