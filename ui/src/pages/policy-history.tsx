import { createTwoFilesPatch } from 'diff';
import { useEffect, useState } from 'react';
import { stringify } from 'yaml';
import { api, explain } from '../api.ts';

interface PolicyChange {
  readonly id: number;
  readonly policy: string;
  readonly change: 'created' | 'updated' | 'deleted';
  readonly changed_by: string;
  readonly changed_at: string;
  readonly before: Record<string, unknown> | null;
  readonly after: Record<string, unknown> | null;
}

const PAGE = 50;

/** The definitions' difference as a unified diff of their YAML (jsdiff), one line per row. */
function diffLines(change: PolicyChange): string[] {
  const text = (d: Record<string, unknown> | null): string => (d === null ? '' : stringify(d));
  const patch = createTwoFilesPatch(`${change.policy} before`, `${change.policy} after`, text(change.before), text(change.after), '', '', { context: 3 });
  // The first two lines name the files; the hunks follow.
  return patch.split('\n').slice(2).filter((line) => line !== '\\ No newline at end of file');
}

/** Who changed which policy when, newest first, each with the diff of its definition. */
export function PolicyHistory(props: { version: number }) {
  const [changes, setChanges] = useState<PolicyChange[]>([]);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = (before?: number): void => {
    api<{ changes: PolicyChange[] }>(`/v1/policies/history?limit=${PAGE}${before === undefined ? '' : `&before=${before}`}`)
      .then((r) => {
        setChanges((old) => (before === undefined ? r.changes : [...old, ...r.changes]));
        setMore(r.changes.length === PAGE);
      })
      .catch((e: unknown) => setError(explain(e, 'the history of policies')));
  };
  useEffect(() => load(), [props.version]);

  return (
    <div className="policy-history">
      <h2>History of changes</h2>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <ol aria-label="Policy changes">
        {changes.map((c) => (
          <li key={c.id}>
            <details>
              <summary>
                <time dateTime={c.changed_at}>{new Date(c.changed_at).toLocaleString()}</time>: <strong>{c.changed_by}</strong> {c.change} <strong>{c.policy}</strong>
              </summary>
              <pre className="diff" aria-label={`Difference of ${c.policy}`}>
                {diffLines(c).map((line, i) => (
                  <span key={i} className={line.startsWith('+') ? 'added' : line.startsWith('-') ? 'removed' : line.startsWith('@@') ? 'hunk' : ''}>
                    {line}
                    {'\n'}
                  </span>
                ))}
              </pre>
            </details>
          </li>
        ))}
      </ol>
      {more && (
        <button type="button" onClick={() => load(changes[changes.length - 1]?.id)}>
          Older changes
        </button>
      )}
    </div>
  );
}
