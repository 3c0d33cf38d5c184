import { useEffect, useState, type FormEvent } from 'react';
import { api, certificationOf, explain, type DatasetDescription } from '../api.ts';

interface Proposal {
  readonly column: string;
  readonly tag: string;
  readonly confidence: number;
  readonly evidence: string;
  readonly status: 'proposed' | 'accepted' | 'rejected';
}

/**
 * What a dataset's steward (or an administrator) does on its page: edit the documentation and the
 * certification, and accept or reject the classifier's pii/phi proposals. Every change goes
 * through the same API, which decides whether the viewer may make it.
 */
export function StewardPanel(props: { dataset: DatasetDescription; onChanged: () => void }) {
  const { dataset } = props;
  const path = `/v1/datasets/${encodeURIComponent(dataset.name)}`;
  const [description, setDescription] = useState(dataset.description);
  const [certification, setCertification] = useState(certificationOf(dataset) ?? 'draft');
  const [note, setNote] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [proposals, setProposals] = useState<readonly Proposal[] | null>(null);

  useEffect(() => {
    api<{ proposals: Proposal[] }>(`${path}/classification`)
      .then((c) => setProposals(c.proposals))
      .catch(() => setProposals([]));
  }, [path]);

  const save = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setError(null);
    setMessage(null);
    try {
      await api(path, { method: 'PATCH', body: { description, certification: { status: certification, ...(note.trim() === '' ? {} : { note: note.trim() }) } } });
      setMessage('Saved.');
      props.onChanged();
    } catch (e) {
      setError(explain(e, dataset.name));
    }
  };

  const decide = async (proposal: Proposal, decision: 'accept' | 'reject'): Promise<void> => {
    setError(null);
    try {
      const answer = await api<{ proposals: Proposal[] }>(`${path}/classification`, { method: 'POST', body: { [decision]: [{ column: proposal.column, tag: proposal.tag }] } });
      setProposals(answer.proposals);
      props.onChanged();
    } catch (e) {
      setError(explain(e, dataset.name));
    }
  };

  const open = (proposals ?? []).filter((p) => p.status === 'proposed');
  return (
    <section className="steward" aria-labelledby="steward-heading">
      <h2 id="steward-heading">Stewardship</h2>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {message !== null && <p role="status">{message}</p>}
      <form onSubmit={(e) => void save(e)}>
        <label htmlFor="description">Description (Markdown)</label>
        <textarea id="description" value={description} onChange={(e) => setDescription(e.target.value)} rows={5} />
        <label htmlFor="certification">Certification</label>
        <select id="certification" value={certification} onChange={(e) => setCertification(e.target.value)}>
          <option value="draft">draft</option>
          <option value="validated">validated</option>
          <option value="deprecated">deprecated</option>
        </select>
        <label htmlFor="certification-note">Note</label>
        <input id="certification-note" value={note} onChange={(e) => setNote(e.target.value)} />
        <button type="submit">Save documentation</button>
      </form>
      <h3>Classification proposals</h3>
      {proposals === null && <p className="loading">Classifying sampled values…</p>}
      {proposals !== null && open.length === 0 && <p>No open proposals.</p>}
      {open.length > 0 && (
        <ul className="proposals">
          {open.map((p) => (
            <li key={`${p.column}:${p.tag}`}>
              <span>
                <strong>{p.column}</strong> as <code>{p.tag}</code> ({Math.round(p.confidence * 100)}%): {p.evidence}
              </span>
              <button type="button" onClick={() => void decide(p, 'accept')} aria-label={`Accept ${p.tag} for ${p.column}`}>
                Accept
              </button>
              <button type="button" onClick={() => void decide(p, 'reject')} aria-label={`Reject ${p.tag} for ${p.column}`}>
                Reject
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
