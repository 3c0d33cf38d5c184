import { useEffect, useState, type FormEvent } from 'react';
import { api, explain, type SearchResult } from '../api.ts';
import { ResultGrid } from './dataset-page.tsx';

interface ViewAsAnswer {
  readonly user: string;
  readonly dataset: string;
  readonly visible: boolean;
  readonly readable: boolean;
  readonly denial: string | null;
  readonly explanation: {
    readonly columns: readonly { readonly name: string; readonly type: string; readonly access: string; readonly transform: string | null; readonly policies: readonly string[] }[];
    readonly row_filters: readonly { readonly predicate: string; readonly policy: string }[];
    readonly policies: readonly string[];
  } | null;
  readonly preview: { readonly columns: readonly string[]; readonly rows: readonly (readonly unknown[])[] } | null;
  readonly preview_withheld: string | null;
}

/**
 * Two users' view of one dataset side by side, as the server resolves it for them (the same
 * explanation each would get from /v1/explain): columns with transforms, row filters, the policies
 * behind each, and their preview rows when the administrator may see those.
 */
export function ViewAs() {
  const [datasets, setDatasets] = useState<string[]>([]);
  const [users, setUsers] = useState<string[]>([]);
  const [choice, setChoice] = useState({ dataset: '', left: '', right: '' });
  const [answers, setAnswers] = useState<ViewAsAnswer[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    Promise.all([api<{ datasets: SearchResult[] }>('/v1/datasets'), api<{ users: { name: string }[] }>('/v1/users')])
      .then(([d, u]) => {
        const names = d.datasets.map((x) => x.name).sort();
        const people = u.users.map((x) => x.name).sort();
        setDatasets(names);
        setUsers(people);
        setChoice({ dataset: names[0] ?? '', left: people[0] ?? '', right: people[1] ?? people[0] ?? '' });
      })
      .catch((e: unknown) => setError(explain(e, 'the datasets and users')));
  }, []);

  const compare = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setError(null);
    try {
      const view = (user: string): Promise<ViewAsAnswer> => api<ViewAsAnswer>(`/v1/datasets/${encodeURIComponent(choice.dataset)}/view-as?user=${encodeURIComponent(user)}`);
      setAnswers(await Promise.all([view(choice.left), view(choice.right)]));
    } catch (e) {
      setAnswers(null);
      setError(explain(e, `the dataset ${choice.dataset}`));
    }
  };

  const select = (key: keyof typeof choice, label: string, options: readonly string[]) => (
    <label>
      {label}
      <select value={choice[key]} onChange={(e) => setChoice({ ...choice, [key]: e.target.value })}>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <div className="view-as">
      <h2>View as</h2>
      <form className="filters" onSubmit={(e) => void compare(e)}>
        {select('dataset', 'Dataset', datasets)}
        {select('left', 'First user', users)}
        {select('right', 'Second user', users)}
        <button type="submit">Compare</button>
      </form>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {answers !== null && (
        <div className="side-by-side">
          {answers.map((a, i) => (
            <UserView key={`${i}-${a.user}`} answer={a} />
          ))}
        </div>
      )}
    </div>
  );
}

function UserView(props: { answer: ViewAsAnswer }) {
  const a = props.answer;
  return (
    <section aria-label={`${a.dataset} as ${a.user}`} className="user-view">
      <h3>As {a.user}</h3>
      {!a.visible && <p>{a.user} cannot see that this dataset exists.</p>}
      {a.visible && !a.readable && <p>{a.user} may see that the dataset exists but not read it{a.denial === null ? '' : `: ${a.denial}`}.</p>}
      {a.explanation !== null && (
        <>
          <div className="scroll" tabIndex={0} role="group" aria-label={`Columns as ${a.user}, scrollable`}>
            <table aria-label={`Columns as ${a.user}`}>
              <thead>
                <tr>
                  <th scope="col">Column</th>
                  <th scope="col">Access</th>
                  <th scope="col">Policies</th>
                </tr>
              </thead>
              <tbody>
                {a.explanation.columns.map((c) => (
                  <tr key={c.name}>
                    <td>{c.name}</td>
                    <td className={`access-${c.access}`}>
                      {c.access}
                      {c.transform === null ? '' : ` (${c.transform})`}
                    </td>
                    <td>{c.policies.join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p>
            Rows:{' '}
            {a.explanation.row_filters.length === 0
              ? 'all'
              : a.explanation.row_filters.map((f) => (
                  <span key={`${f.policy}:${f.predicate}`}>
                    <code>{f.predicate}</code> ({f.policy}){' '}
                  </span>
                ))}
          </p>
          <p className="tags">Policies: {a.explanation.policies.join(', ') || 'none'}</p>
        </>
      )}
      {a.preview_withheld !== null && <p className="notice">{a.preview_withheld}.</p>}
      {a.preview !== null && <ResultGrid result={{ columns: a.preview.columns.map((name) => ({ name, type: '' })), rows: a.preview.rows }} label={`Preview as ${a.user}`} />}
    </section>
  );
}
