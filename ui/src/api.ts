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

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const token = session.token();
  const headers: Record<string, string> = { Accept: 'application/json', 'X-Veil-Client': 'veil-web' };
  if (token !== null) headers['Authorization'] = `Bearer ${token}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method: init.method ?? 'GET', headers, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) });
  const text = await response.text();
  const body: unknown = text === '' ? null : JSON.parse(text);
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(response.status, error?.code ?? `HTTP_${response.status}`, error?.message ?? response.statusText);
  }
  return body as T;
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

/**
 * A query's whole result as CSV, saved by the browser (the API streams it; nothing is kept here).
 * Returns an error sentence, or null when the download started.
 */
export async function downloadCsv(sql: string, filename: string): Promise<string | null> {
  const response = await fetch('/v1/query', {
    method: 'POST',
    headers: { Authorization: `Bearer ${session.token() ?? ''}`, 'Content-Type': 'application/json', Accept: 'text/csv', 'X-Veil-Client': 'veil-web' },
    body: JSON.stringify({ sql }),
  });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    return explain(new ApiError(response.status, body?.error?.code ?? `HTTP_${response.status}`, body?.error?.message ?? response.statusText), 'a dataset of this query');
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  URL.revokeObjectURL(url);
  return null;
}
