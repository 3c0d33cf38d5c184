import { useState } from 'react';
import { byteSize, downloadResult, type DownloadFormat, type DownloadProgress } from './api.ts';

/**
 * Buttons that download a query's whole result (CSV, Parquet) with the progress of a long download:
 * a bar when the size is known, the bytes received otherwise. Errors go to `onError` in words.
 */
export function DownloadButtons(props: { sql: () => string; basename: string; verb?: string; onError: (message: string | null) => void }) {
  const [progress, setProgress] = useState<{ format: DownloadFormat; at: DownloadProgress } | null>(null);
  const verb = props.verb ?? 'Download';

  const download = async (format: DownloadFormat): Promise<void> => {
    props.onError(null);
    setProgress({ format, at: { received: 0, total: null } });
    try {
      props.onError(await downloadResult(props.sql(), format, `${props.basename}.${format}`, (at) => setProgress({ format, at })));
    } finally {
      setProgress(null);
    }
  };

  return (
    <>
      <button type="button" onClick={() => void download('csv')} disabled={progress !== null}>
        {verb} CSV
      </button>
      <button type="button" onClick={() => void download('parquet')} disabled={progress !== null}>
        {verb} Parquet
      </button>
      {progress !== null && (
        <span role="status" className="download-progress">
          {progress.at.total !== null && <progress value={progress.at.received} max={progress.at.total} aria-label={`${progress.format} download`} />}
          {progress.at.received === 0 ? ` Preparing the ${progress.format.toUpperCase()} file…` : ` ${byteSize(progress.at.received)}${progress.at.total === null ? '' : ` of ${byteSize(progress.at.total)}`} received`}
        </span>
      )}
    </>
  );
}
