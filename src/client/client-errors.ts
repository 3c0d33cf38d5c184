/**
 * The errors a Veil client call can end in. One class per thing a caller reacts to differently
 * (re-authenticate, ask for access, fix the name, fix the query, retry later, check the network),
 * each with the server's stable string code, the HTTP status and the request id that finds the
 * request in the audit trail and the server log. Messages are the server's own (which never echo
 * credentials) or written here without the token.
 */

export interface VeilClientErrorDetails {
  /** Stable string code: the server's (`INVALID_SQL`, `DATASET_NOT_FOUND`, …) or the client's own (`TOKEN_MISSING`, `CONNECTION_FAILED`, …). */
  readonly code: string;
  /** HTTP status of the response, or null when the error happened before or without one. */
  readonly status?: number | null;
  /** The server's `X-Request-Id`, or null when no response was received. */
  readonly requestId?: string | null;
  readonly cause?: unknown;
}

/** Base class: `catch (e) { if (e instanceof VeilClientError) … e.code }`. */
export class VeilClientError extends Error {
  readonly code: string;
  readonly status: number | null;
  readonly requestId: string | null;

  constructor(message: string, details: VeilClientErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = details.code;
    this.status = details.status ?? null;
    this.requestId = details.requestId ?? null;
  }
}

/** 401, or no usable token on this side (codes `TOKEN_MISSING`, `TOKEN_UNREADABLE`, `TOKEN_INVALID_FORMAT`, `TOKEN_PROVIDER_FAILED`). */
export class VeilAuthError extends VeilClientError {}

/** 403: the caller is known but a policy refuses the dataset (`ACCESS_DENIED`) or a named column (`COLUMN_ACCESS_DENIED`). */
export class VeilPermissionError extends VeilClientError {}

/**
 * 404: the dataset does not exist *or the caller may not know it exists*; Veil answers both alike
 * on purpose, so the client cannot and does not tell them apart.
 */
export class VeilNotFoundError extends VeilClientError {}

/** Any other 4xx (bad SQL, disallowed construct, timeout, result too large), or a result this client cannot represent as asked. */
export class VeilQueryError extends VeilClientError {}

/** 5xx, or a success response whose body is not what the API promises. */
export class VeilServerError extends VeilClientError {}

/**
 * No usable response: the connection was refused or reset (`CONNECTION_FAILED`, after the bounded
 * retries), the call exceeded `timeoutMs` (`TIMEOUT`), or a streamed result broke off midway
 * (`RESPONSE_INTERRUPTED`; the server aborts a stream it cannot finish, so a partial result is never
 * returned as if complete).
 */
export class VeilConnectionError extends VeilClientError {
  /** How many times the request was tried. */
  readonly attempts: number;

  constructor(message: string, details: VeilClientErrorDetails & { readonly attempts: number }) {
    super(message, details);
    this.attempts = details.attempts;
  }
}

/** The one place where an HTTP error response becomes an error class. */
export function errorForResponse(status: number, code: string, message: string, requestId: string | null): VeilClientError {
  const full = requestId === null || message.includes(requestId) ? message : `${message} (request ${requestId})`;
  const details = { code, status, requestId };
  if (status === 401) return new VeilAuthError(full, details);
  if (status === 403) return new VeilPermissionError(full, details);
  if (status === 404) return new VeilNotFoundError(full, details);
  if (status >= 400 && status < 500) return new VeilQueryError(full, details);
  if (status >= 500) return new VeilServerError(full, details);
  // 1xx/3xx: redirects are not followed (a redirect elsewhere would be a place to leak the token to).
  return new VeilClientError(full, details);
}
