import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { api, ApiError, explain } from '../api.ts';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

interface Insights {
  readonly window: { readonly days: number; readonly from: string; readonly to: string };
  readonly accesses_over_time: readonly { day: string; by: string; dataset: string | null; user: string | null; client_application: string | null; requests: number }[];
  readonly sensitive_access: readonly { tag: string; user: string | null; dataset: string; requests: number; rows_returned: number; last_at: string }[];
  readonly denied_attempts: readonly { user: string | null; error_code: string | null; statement_type: string; datasets: string[]; count: number; last_at: string }[];
  readonly unused_grants: readonly { policy: string; description: string | null; last_used_at: string | null }[];
  readonly top_datasets: readonly { dataset: string; requests: number; rows_returned: number; users: number }[];
  readonly top_columns: readonly { column: string; dataset: string; requests: number; users: number }[];
}

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
          <h2>Requests per day, by user</h2>
          <RequestsChart rows={insights.accesses_over_time.filter((r) => r.by === 'user')} />
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

/** A stacked bar chart (Chart.js on a canvas), with the same numbers in a table for screen readers. */
function RequestsChart(props: { rows: Insights['accesses_over_time'] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const days = [...new Set(props.rows.map((r) => r.day))].sort();
  const users = [...new Set(props.rows.map((r) => r.user ?? '(anonymous)'))].sort();
  useEffect(() => {
    if (canvas.current === null) return;
    const chart = new Chart(canvas.current, {
      type: 'bar',
      data: {
        labels: days,
        datasets: users.map((user, i) => ({
          label: user,
          backgroundColor: PALETTE[i % PALETTE.length] ?? '#424a53',
          data: days.map((day) => props.rows.filter((r) => r.day === day && (r.user ?? '(anonymous)') === user).reduce((n, r) => n + r.requests, 0)),
        })),
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    });
    return () => chart.destroy();
  }, [props.rows]);
  return (
    <div className="chart">
      <canvas ref={canvas} role="img" aria-label={`Requests per day by user: ${users.join(', ')}`} />
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
