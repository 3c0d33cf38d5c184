import { useEffect, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';
import { api, explain, type QueryResult } from '../api.ts';
import { DownloadButtons } from '../download-buttons.tsx';
import { AuditVerification } from './audit-verification.tsx';

const FILTERS = ['user', 'dataset', 'door', 'decision', 'since', 'until'] as const;
type Filter = (typeof FILTERS)[number];
const PAGE_ROWS = 200;

/** A SQL string literal (quotes doubled): filter values are data, never SQL. */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The audit query for the filters: over veil_system.audit_log, under the viewer's own policies. */
function auditSql(filters: Partial<Record<Filter, string>>, limit: number | null): string {
  const where: string[] = [];
  if (filters.user) where.push(`"user" = ${literal(filters.user)}`);
  if (filters.dataset) where.push(`list_contains(datasets, ${literal(filters.dataset)})`);
  if (filters.door) where.push(`door = ${literal(filters.door)}`);
  if (filters.decision) where.push(`decision = ${literal(filters.decision)}`);
  if (filters.since) where.push(`event_time >= CAST(${literal(filters.since)} AS TIMESTAMP)`);
  if (filters.until) where.push(`event_time < CAST(${literal(filters.until)} AS TIMESTAMP)`);
  return [
    'SELECT event_time, "user", door, client_application, statement_type, statement, datasets, columns, policies, decision, error_code, rows_returned, bytes_returned, duration_ms, request_id',
    'FROM veil_system.audit_log',
    where.length > 0 ? `WHERE ${where.join(' AND ')}` : '',
    'ORDER BY event_time DESC',
    limit === null ? '' : `LIMIT ${limit}`,
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/**
 * The audit trail as the viewer may read it (compliance: everyone's; others: their own, by the
 * built-in policies): filters kept in the address, a record's detail, and CSV export of the selection.
 */
export function AuditPage(props: { canVerify: boolean }) {
  const [params, setParams] = useSearchParams();
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Record<Filter, string>;
  const [draft, setDraft] = useState(filters);
  const [result, setResult] = useState<QueryResult | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    setSelected(null);
    api<QueryResult>('/v1/query', { method: 'POST', body: { sql: auditSql(filters, PAGE_ROWS) } })
      .then((r) => {
        if (!current) return;
        setResult(r);
        setError(null);
      })
      .catch((e: unknown) => current && setError(explain(e, 'The audit log')));
    return () => {
      current = false;
    };
    // The address is the state: refetch when it changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [params.toString()]);

  const apply = (event: FormEvent): void => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const f of FILTERS) if (draft[f].trim() !== '') next.set(f, draft[f].trim());
    setParams(next);
  };

  const columns = result?.columns.map((c) => c.name) ?? [];
  const at = (row: readonly unknown[], name: string): string => {
    const value = row[columns.indexOf(name)];
    return value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  };
  const record = selected === null ? undefined : result?.rows[selected];

  return (
    <section>
      <h1>Audit log</h1>
      {props.canVerify && <AuditVerification />}
      <form className="filters" onSubmit={apply} aria-label="Audit filters">
        {FILTERS.map((f) => (
          <label key={f}>
            {f === 'since' || f === 'until' ? `${f} (UTC)` : f}
            <input
              type={f === 'since' || f === 'until' ? 'datetime-local' : 'text'}
              value={draft[f]}
              onChange={(e) => setDraft({ ...draft, [f]: e.target.value })}
            />
          </label>
        ))}
        <button type="submit">Filter</button>
        <DownloadButtons sql={() => auditSql(filters, null)} basename="veil-audit" verb="Export" onError={setError} />
      </form>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {result !== null && (
        <p role="status">
          {result.rows.length === PAGE_ROWS ? `The newest ${PAGE_ROWS} records; narrow the filters or export for all.` : `${result.rows.length} records.`}
        </p>
      )}
      {result !== null && (
        <div className="scroll" tabIndex={0} role="region" aria-label="Audit records, scrollable">
          <table aria-label="Audit records">
            <thead>
              <tr>
                {['time', 'user', 'door', 'type', 'statement', 'decision', 'rows'].map((h) => (
                  <th scope="col" key={h}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {result.rows.map((row, i) => (
                <tr key={at(row, 'request_id') || i} className={selected === i ? 'selected' : undefined}>
                  <td>
                    <button type="button" className="link" onClick={() => setSelected(i)} aria-label={`Details of the record of ${at(row, 'event_time')}`}>
                      {at(row, 'event_time')}
                    </button>
                  </td>
                  <td>{at(row, 'user')}</td>
                  <td>{at(row, 'door')}</td>
                  <td>{at(row, 'statement_type')}</td>
                  <td className="statement">{at(row, 'statement')}</td>
                  <td>{at(row, 'decision')}</td>
                  <td>{at(row, 'rows_returned')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {record !== undefined && (
        <section aria-labelledby="record-heading" className="record">
          <h2 id="record-heading">Record {at(record, 'request_id')}</h2>
          <dl>
            {columns.map((name) => (
              <div key={name}>
                <dt>{name}</dt>
                <dd>{at(record, name)}</dd>
              </div>
            ))}
          </dl>
        </section>
      )}
    </section>
  );
}
