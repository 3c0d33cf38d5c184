import { useState } from 'react';
import { api, explain } from '../api.ts';

interface Verification {
  readonly ok: boolean;
  readonly events: number;
  readonly records: number;
  readonly unchained_records: number;
  readonly head: { readonly event_seq: number; readonly hash: string } | null;
  readonly anchor: { readonly event_seq: number; readonly pruned_records: number; readonly pruned_before: string; readonly signature: string } | null;
  readonly first_break: { readonly record_seq: number | null; readonly request_id: string | null; readonly event_seq: number | null; readonly reason: string } | null;
  readonly verified_at: string;
}

/**
 * The audit chain's verification status, checked by the server on request (`GET /v1/audit/verify`,
 * as `veil audit verify`): intact with its counts and head, or the first altered record.
 */
export function AuditVerification() {
  const [result, setResult] = useState<Verification | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const verify = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      setResult(await api<Verification>('/v1/audit/verify'));
    } catch (e) {
      setResult(null);
      setError(explain(e, 'the verification of the audit chain'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="verification" aria-labelledby="verification-heading">
      <h2 id="verification-heading">Chain verification</h2>
      <div className="actions">
        <button type="button" onClick={() => void verify()} disabled={busy}>
          Verify the audit chain
        </button>
        {busy && <span role="status">Verifying every record…</span>}
      </div>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {result !== null && result.ok && (
        <p role="status" className="verified">
          Intact: {result.records.toLocaleString()} records in {result.events.toLocaleString()} chained events, verified at{' '}
          <time dateTime={result.verified_at}>{new Date(result.verified_at).toLocaleString()}</time>.
          {result.head !== null && ` Head: event ${result.head.event_seq}, hash ${result.head.hash.slice(0, 16)}…`}
          {result.anchor !== null &&
            ` The chain starts after ${result.anchor.pruned_records.toLocaleString()} records pruned before ${result.anchor.pruned_before} (anchor signature ${result.anchor.signature}).`}
          {result.unchained_records > 0 && ` ${result.unchained_records} records predate the chain.`}
        </p>
      )}
      {result !== null && !result.ok && (
        <p role="alert" className="error">
          The audit trail was altered
          {result.first_break?.record_seq == null ? '' : ` at record ${result.first_break.record_seq}`}
          {result.first_break?.request_id == null ? '' : ` (request ${result.first_break.request_id})`}: {result.first_break?.reason ?? 'unknown reason'}. Verified at{' '}
          {new Date(result.verified_at).toLocaleString()}.
        </p>
      )}
    </section>
  );
}
