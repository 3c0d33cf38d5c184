import { yaml } from '@codemirror/lang-yaml';
import { linter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { useEffect, useMemo, useRef, useState } from 'react';
import { stringify } from 'yaml';
import { api, explain } from '../api.ts';
import { CodeEditor, type CodeEditorHandle } from '../code-editor.tsx';
import { PolicyHistory } from './policy-history.tsx';
import { ViewAs } from './view-as.tsx';
import './policies-page.css';

/** A policy as GET /v1/policies gives it: as authored, plus when it was stored. */
export interface AuthoredPolicy {
  readonly name: string;
  readonly description?: string;
  readonly effect: string;
  readonly actions: readonly string[];
  readonly subjects: { readonly everyone?: boolean; readonly users?: readonly string[]; readonly groups?: readonly string[]; readonly attributes?: Record<string, readonly string[]> };
  readonly resources: readonly Record<string, string>[];
  readonly row_filter?: string;
  readonly hide?: { readonly columns?: readonly string[]; readonly tags?: readonly string[] };
  readonly masks?: readonly { readonly columns?: readonly string[]; readonly tags?: readonly string[]; readonly transform: string; readonly when?: string }[];
  readonly enabled: boolean;
  readonly created_at: string;
  readonly updated_at: string;
}

interface Preview {
  readonly valid: boolean;
  readonly problems: readonly { readonly message: string; readonly line: number; readonly column: number; readonly policy?: string }[];
  readonly policies: { readonly created: readonly string[]; readonly updated: readonly string[]; readonly unchanged: readonly string[]; readonly deleted: readonly string[] };
  readonly impact: readonly {
    readonly user: string;
    readonly dataset: string;
    readonly summary: string;
    readonly columns: readonly { readonly column: string; readonly before: string; readonly after: string }[];
    readonly rowFilters: { readonly before: readonly string[]; readonly after: readonly string[] } | null;
  }[];
  readonly considered: { readonly users: number; readonly datasets: number };
}

/** The policy as a person writes it: without the stored timestamps. */
function authored(policy: AuthoredPolicy): Record<string, unknown> {
  const { created_at: _c, updated_at: _u, ...rest } = policy;
  return rest;
}

export function policiesYaml(policies: readonly AuthoredPolicy[]): string {
  return stringify({ policies: policies.map(authored) });
}

function subjectsText(s: AuthoredPolicy['subjects']): string {
  const parts: string[] = [];
  if (s.everyone === true) parts.push('everyone');
  if (s.groups?.length) parts.push(`groups ${s.groups.join(', ')}`);
  if (s.users?.length) parts.push(`users ${s.users.join(', ')}`);
  for (const [k, v] of Object.entries(s.attributes ?? {})) parts.push(`${k} in ${v.join(', ')}`);
  return parts.join('; ') || 'nobody';
}

function effectsText(p: AuthoredPolicy): string {
  const parts: string[] = [];
  if (p.row_filter !== undefined) parts.push(`rows where ${p.row_filter}`);
  if (p.hide !== undefined) parts.push(`hides ${[...(p.hide.tags ?? []), ...(p.hide.columns ?? [])].join(', ')}`);
  for (const m of p.masks ?? []) parts.push(`${m.transform} on ${[...(m.tags ?? []), ...(m.columns ?? [])].join(', ')}${m.when === undefined ? '' : ` when ${m.when}`}`);
  return parts.join('; ');
}

/**
 * Policies for administrators: the list with filters, a YAML editor validated by the server with
 * problems shown on their lines, the preview of what a change does for whom before it is applied,
 * the history of changes, and "view as" to compare two users' view of a dataset.
 */
export function PoliciesPage(props: { admin: boolean }) {
  const [policies, setPolicies] = useState<AuthoredPolicy[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [historyVersion, setHistoryVersion] = useState(0);

  const load = (): void => {
    api<{ policies: AuthoredPolicy[] }>('/v1/policies')
      .then((r) => setPolicies(r.policies))
      .catch((e: unknown) => setError(explain(e, 'the policies')));
  };
  useEffect(() => {
    if (props.admin) load();
  }, [props.admin]);

  if (!props.admin) {
    return (
      <section>
        <h1>Policies</h1>
        <p className="notice">Policies are managed by administrators. Your own access to each dataset, and the policies behind it, are shown on the dataset&apos;s page.</p>
      </section>
    );
  }
  return (
    <section className="policies">
      <h1>Policies</h1>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {policies !== null && (
        <PolicyEditor
          policies={policies}
          onApplied={() => {
            load();
            setHistoryVersion((v) => v + 1);
          }}
        />
      )}
      <ViewAs />
      <PolicyHistory version={historyVersion} />
    </section>
  );
}

function PolicyList(props: { policies: readonly AuthoredPolicy[]; onEdit: (p: AuthoredPolicy) => void }) {
  const [text, setText] = useState('');
  const [effect, setEffect] = useState('');
  const shown = props.policies.filter((p) => {
    if (effect !== '' && p.effect !== effect) return false;
    if (text === '') return true;
    const haystack = `${p.name} ${p.description ?? ''} ${subjectsText(p.subjects)} ${JSON.stringify(p.resources)} ${effectsText(p)}`.toLowerCase();
    return haystack.includes(text.toLowerCase());
  });
  return (
    <>
      <div className="filters">
        <label>
          Filter policies
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="name, group, dataset, tag…" />
        </label>
        <label>
          Effect
          <select value={effect} onChange={(e) => setEffect(e.target.value)}>
            <option value="">any</option>
            <option value="grant">grant</option>
            <option value="restrict">restrict</option>
            <option value="deny">deny</option>
          </select>
        </label>
      </div>
      <div className="scroll" tabIndex={0} role="group" aria-label="Policies, scrollable">
        <table aria-label="Policies">
          <thead>
            <tr>
              <th scope="col">Policy</th>
              <th scope="col">Effect</th>
              <th scope="col">Who</th>
              <th scope="col">On</th>
              <th scope="col">What</th>
              <th scope="col">Changed</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((p) => (
              <tr key={p.name} className={p.enabled ? '' : 'disabled'}>
                <td>
                  <strong>{p.name}</strong>
                  {p.description !== undefined && <div className="tags">{p.description}</div>}
                  {!p.enabled && <div className="tags">disabled</div>}
                </td>
                <td>{p.effect}</td>
                <td>{subjectsText(p.subjects)}</td>
                <td>{p.resources.map((r) => Object.entries(r).map(([k, v]) => `${k} ${v}`)).join('; ')}</td>
                <td>{effectsText(p)}</td>
                <td>{new Date(p.updated_at).toLocaleString()}</td>
                <td>
                  <button type="button" onClick={() => props.onEdit(p)} aria-label={`Edit ${p.name}`}>
                    Edit
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="notice">
        {shown.length} of {props.policies.length} policies
      </p>
    </>
  );
}

function PolicyEditor(props: { policies: readonly AuthoredPolicy[]; onApplied: () => void }) {
  const editor = useRef<CodeEditorHandle>(null);
  const [prune, setPrune] = useState(false);
  const [preview, setPreview] = useState<Preview | null>(null);
  /** The text the preview is of: Apply is offered only for exactly that text. */
  const [previewed, setPreviewed] = useState<string | null>(null);
  const [stale, setStale] = useState(false);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: 'error' | 'status'; text: string } | null>(null);
  const extensions = useMemo(() => [yaml(), linter(null)], []);

  const edit = (p: AuthoredPolicy): void => {
    editor.current?.setText(policiesYaml([p]));
    setPrune(false);
    document.getElementById('policy-editor-heading')?.scrollIntoView();
    editor.current?.view()?.focus();
  };

  const showProblems = (result: Preview): void => {
    const view = editor.current?.view();
    if (view === null || view === undefined) return;
    const diagnostics: Diagnostic[] = result.problems.map((p) => {
      const line = view.state.doc.line(Math.min(Math.max(p.line, 1), view.state.doc.lines));
      return { from: line.from, to: line.to, severity: 'error', message: p.message };
    });
    view.dispatch(setDiagnostics(view.state, diagnostics));
  };

  const check = async (): Promise<void> => {
    const text = editor.current?.text() ?? '';
    setBusy(true);
    setMessage(null);
    try {
      const result = await api<Preview>(`/v1/policies/preview${prune ? '?prune=true' : ''}`, { method: 'POST', text: { content: text, type: 'application/yaml' } });
      setPreview(result);
      setPreviewed(text);
      setStale(false);
      showProblems(result);
    } catch (e) {
      setMessage({ kind: 'error', text: explain(e, 'the policies') });
    } finally {
      setBusy(false);
    }
  };

  const apply = async (): Promise<void> => {
    if (previewed === null) return;
    setBusy(true);
    try {
      const result = await api<Record<string, string[]>>(`/v1/policies${prune ? '?prune=true' : ''}`, { method: 'POST', text: { content: previewed, type: 'application/yaml' } });
      const said = Object.entries(result)
        .filter(([, names]) => names.length > 0)
        .map(([what, names]) => `${what}: ${names.join(', ')}`)
        .join('; ');
      setMessage({ kind: 'status', text: `Applied. ${said}` });
      setPreview(null);
      setPreviewed(null);
      props.onApplied();
    } catch (e) {
      setMessage({ kind: 'error', text: explain(e, 'the policies') });
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h2>Policies in force</h2>
      <PolicyList policies={props.policies} onEdit={edit} />
      <h2 id="policy-editor-heading">Edit policies</h2>
      <p className="notice">
        Write or paste policies as YAML. <strong>Check changes</strong> validates them on the server and shows what would change for whom; nothing is applied until you press <strong>Apply</strong>.
      </p>
      <CodeEditor ref={editor} label="Policy YAML" initial={policiesYaml(props.policies)} extensions={extensions} onChange={() => setStale(true)} />
      <div className="actions">
        <label className="inline">
          <input type="checkbox" checked={prune} onChange={(e) => setPrune(e.target.checked)} />
          Delete policies that are not in the text
        </label>
        <button type="button" onClick={() => void check()} disabled={busy}>
          Check changes
        </button>
        <button type="button" onClick={() => void apply()} disabled={busy || preview === null || !preview.valid || stale}>
          Apply
        </button>
        {busy && <span role="status">Working…</span>}
      </div>
      {message !== null && (
        <p role={message.kind === 'error' ? 'alert' : 'status'} className={message.kind === 'error' ? 'error' : 'notice'}>
          {message.text}
        </p>
      )}
      {stale && preview !== null && <p className="notice">The text changed since it was checked: check it again before applying.</p>}
      {preview !== null && <PreviewView preview={preview} />}
    </>
  );
}

function PreviewView(props: { preview: Preview }) {
  const { preview } = props;
  if (!preview.valid) {
    return (
      <div role="alert" className="error">
        <p>The policies have problems; nothing can be applied until they are fixed:</p>
        <ul>
          {preview.problems.map((p, i) => (
            <li key={i}>
              Line {p.line}
              {p.policy === undefined ? '' : ` (policy ${p.policy})`}: {p.message}
            </li>
          ))}
        </ul>
      </div>
    );
  }
  const p = preview.policies;
  const changed = [
    ['New', p.created],
    ['Changed', p.updated],
    ['Deleted', p.deleted],
    ['Unchanged', p.unchanged],
  ] as const;
  return (
    <div className="preview" aria-label="What changes">
      <h3>What changes</h3>
      <ul>
        {changed
          .filter(([, names]) => names.length > 0)
          .map(([label, names]) => (
            <li key={label}>
              {label}: {names.join(', ')}
            </li>
          ))}
      </ul>
      {preview.impact.length === 0 ? (
        <p role="status">Nobody&apos;s access changes ({preview.considered.users} users and {preview.considered.datasets} datasets checked).</p>
      ) : (
        <div className="scroll" tabIndex={0} role="group" aria-label="Access that would change, scrollable">
          <table aria-label="Access that would change">
            <caption>
              Access that would change ({preview.impact.length}; {preview.considered.users} users and {preview.considered.datasets} datasets checked)
            </caption>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Dataset</th>
                <th scope="col">Change</th>
                <th scope="col">Columns</th>
                <th scope="col">Row filters</th>
              </tr>
            </thead>
            <tbody>
              {preview.impact.map((i) => (
                <tr key={`${i.user} ${i.dataset}`}>
                  <td>{i.user}</td>
                  <td>{i.dataset}</td>
                  <td>{i.summary}</td>
                  <td>
                    {i.columns.map((c) => (
                      <div key={c.column}>
                        <strong>{c.column}</strong>: {c.before} → {c.after}
                      </div>
                    ))}
                  </td>
                  <td>
                    {i.rowFilters !== null && (
                      <>
                        <div>before: {i.rowFilters.before.join(' AND ') || 'none'}</div>
                        <div>after: {i.rowFilters.after.join(' AND ') || 'none'}</div>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
