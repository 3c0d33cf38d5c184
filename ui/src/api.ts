/**
 * The web UI's only way to Veil: the public HTTP API with the viewer's token, under the same rules
 * as any client. Errors become sentences a person understands; codes stay for the record.
 */
const TOKEN_KEY = 'veil.token';

/** The token lives in this tab's session storage: never a cookie, never a URL. */
export const session = {
  token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  signIn(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  signOut(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What to tell a person, by the API's stable error code. */
export function explain(error: unknown, subject = 'this'): string {
  if (!(error instanceof ApiError)) return 'Veil could not be reached. Check your connection and try again.';
  switch (error.code) {
    case 'UNAUTHENTICATED':
    case 'INVALID_TOKEN':
      return 'Your sign-in has expired or is not valid. Please sign in again.';
    case 'DATASET_NOT_FOUND':
    case 'NOT_FOUND':
      return `${subject} does not exist, or you have no access to it.`;
    case 'ACCESS_DENIED':
    case 'COLUMN_ACCESS_DENIED':
      return `You are not allowed to read ${subject}. ${error.message}`;
    case 'INVALID_SQL':
    case 'SQL_NOT_ALLOWED':
    case 'QUERY_FAILED':
      return error.message;
    case 'TOO_MANY_REQUESTS':
      return 'Veil is busy with your other queries. Try again in a few seconds.';
    default:
      return `Something went wrong (${error.code}). ${error.message}`;
  }
}

/** JSON from the API; `body` is sent as JSON, `text` as it is (YAML policies) with its content type. */
export async function api<T>(path: string, init: { method?: string; body?: unknown; text?: { content: string; type: string } } = {}): Promise<T> {
  const token = session.token();
  const headers: Record<string, string> = { Accept: 'application/json', 'X-Veil-Client': 'veil-web' };
  if (token !== null) headers['Authorization'] = `Bearer ${token}`;
  let body: string | undefined;
  if (init.text !== undefined) {
    headers['Content-Type'] = init.text.type;
    body = init.text.content;
  } else if (init.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(init.body);
  }
  const response = await fetch(path, { method: init.method ?? 'GET', headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  const answer: unknown = text === '' ? null : JSON.parse(text);
  if (!response.ok) {
    const error = (answer as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(response.status, error?.code ?? `HTTP_${response.status}`, error?.message ?? response.statusText);
  }
  return answer as T;
}

/** A catalog entry as /v1/search and /v1/datasets give it (search says certification as a word). */
export interface SearchResult {
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  readonly tags: readonly string[];
  readonly certification: string | { readonly status: string } | null;
  /** /v1/datasets only: 'read' or 'metadata'. */
  readonly access?: string;
}

export function certificationOf(entry: { readonly certification: string | { readonly status: string } | null }): string | null {
  const c = entry.certification;
  if (c === null || c === 'none') return null;
  return typeof c === 'string' ? c : c.status;
}

export interface DatasetColumn {
  readonly name: string;
  readonly type: string;
  readonly tags: readonly string[];
  readonly description: string;
  readonly access: string;
  readonly transform: string | null;
}

export interface DatasetDescription {
  readonly name: string;
  readonly database: string;
  readonly description: string;
  readonly owner: string;
  readonly steward: string | null;
  readonly certification: { readonly status: string; readonly by?: string; readonly note?: string } | null;
  readonly tags: readonly string[];
  readonly access: string;
  readonly columns: readonly DatasetColumn[];
  readonly row_filters: readonly { readonly predicate: string; readonly policy: string }[];
  readonly policies: readonly string[];
}

export interface QueryResult {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly (readonly unknown[])[];
}

export type DownloadFormat = 'csv' | 'parquet';

const DOWNLOAD_TYPES: Record<DownloadFormat, string> = { csv: 'text/csv', parquet: 'application/vnd.apache.parquet' };

/** How far a download has come: bytes received, and the total when the server says it. */
export interface DownloadProgress {
  readonly received: number;
  readonly total: number | null;
}

/**
 * A query's whole result as CSV or Parquet, saved by the browser. The API streams it; the bytes are
 * counted as they arrive so a long download shows its progress. Returns an error sentence, or null
 * when the file was handed to the browser.
 */
export async function downloadResult(sql: string, format: DownloadFormat, filename: string, onProgress: (p: DownloadProgress) => void = () => undefined): Promise<string | null> {
  const response = await fetch('/v1/query', {
    method: 'POST',
    headers: { Authorization: `Bearer ${session.token() ?? ''}`, 'Content-Type': 'application/json', Accept: DOWNLOAD_TYPES[format], 'X-Veil-Client': 'veil-web' },
    body: JSON.stringify({ sql }),
  });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    return explain(new ApiError(response.status, body?.error?.code ?? `HTTP_${response.status}`, body?.error?.message ?? response.statusText), 'a dataset of this query');
  }
  const length = Number(response.headers.get('Content-Length'));
  const total = Number.isFinite(length) && length > 0 ? length : null;
  const parts: Uint8Array[] = [];
  let received = 0;
  onProgress({ received, total });
  const reader = response.body?.getReader();
  try {
    for (let part = await reader?.read(); part !== undefined && !part.done; part = await reader?.read()) {
      parts.push(part.value);
      received += part.value.byteLength;
      onProgress({ received, total });
    }
  } catch {
    return 'The download was interrupted before the whole result arrived (the server ended it early). Nothing was saved; try again.';
  }
  const url = URL.createObjectURL(new Blob(parts as BlobPart[], { type: DOWNLOAD_TYPES[format] }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  URL.revokeObjectURL(url);
  return null;
}

/** Bytes for people: 1.2 MB. */
export function byteSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
