/**
 * Veil's error hierarchy. Every error that crosses a module boundary is a VeilError with a stable
 * string code; doors (HTTP, CLI, later the Postgres wire) map codes to status codes in one place.
 * Anything that is not a VeilError is treated as an internal error whose message never reaches a client.
 */
export type ErrorCode =
  | 'INVALID_REQUEST'
  | 'INVALID_SQL'
  | 'SQL_NOT_ALLOWED'
  | 'QUERY_FAILED'
  | 'QUERY_TIMEOUT'
  | 'QUERY_CANCELLED'
  | 'TOO_MANY_REQUESTS'
  | 'REQUEST_TIMEOUT'
  | 'RESULT_TOO_LARGE'
  | 'UNAUTHENTICATED'
  | 'INVALID_TOKEN'
  | 'ACCESS_DENIED'
  | 'COLUMN_ACCESS_DENIED'
  | 'DATASET_NOT_FOUND'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INVALID_POLICY'
  | 'POLICY_NOT_APPLICABLE'
  | 'INVALID_DATASET'
  | 'STORAGE_ERROR'
  | 'NOT_ACCEPTABLE'
  | 'NOT_SUPPORTED'
  | 'CLIENT_DISCONNECTED'
  | 'AUDIT_TAMPERED'
  | 'INTERNAL';

export class VeilError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** The request itself is malformed (bad JSON body, missing field, bad option). */
export class InvalidRequestError extends VeilError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INVALID_REQUEST', message, details);
  }
}

/** DuckDB's parser rejected the text. */
export class InvalidSqlError extends VeilError {
  constructor(message: string) {
    super('INVALID_SQL', message);
  }
}

/** The SQL parsed but uses a construct, function or statement outside Veil's allowlist. */
export class SqlNotAllowedError extends VeilError {
  constructor(construct: string, message?: string) {
    super('SQL_NOT_ALLOWED', message ?? `${construct} is not allowed in Veil queries`, { construct });
  }
}

/** The engine failed while running a checked query. The message is sanitized by the engine layer. */
export class QueryFailedError extends VeilError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('QUERY_FAILED', message, details);
  }
}

export class QueryTimeoutError extends VeilError {
  constructor(timeoutMs: number, waited = false) {
    super(
      'QUERY_TIMEOUT',
      waited ? `query waited for the engine until its statement timeout of ${timeoutMs} ms passed` : `query exceeded the statement timeout of ${timeoutMs} ms`,
      { timeoutMs },
    );
  }
}

/**
 * The caller already has as many queries running and waiting as one user may have: try again
 * later. Doors tell when (HTTP Retry-After).
 */
export class TooManyRequestsError extends VeilError {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super('TOO_MANY_REQUESTS', message, { retryAfterSeconds });
  }
}

/** The client did not send its request (headers and body) within the time allowed. */
export class RequestTimeoutError extends VeilError {
  constructor(timeoutMs: number) {
    super('REQUEST_TIMEOUT', `the request was not received within ${timeoutMs} ms`, { timeoutMs });
  }
}

export class UnauthenticatedError extends VeilError {
  constructor(message = 'a bearer token is required') {
    super('UNAUTHENTICATED', message);
  }
}

export class InvalidTokenError extends VeilError {
  constructor(reason: string) {
    super('INVALID_TOKEN', `invalid token: ${reason}`);
  }
}

/** The caller knows the dataset exists but may not read it (or may not perform the operation). */
export class AccessDeniedError extends VeilError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ACCESS_DENIED', message, details);
  }
}

/** A column the caller cannot read was named explicitly. */
export class ColumnAccessDeniedError extends VeilError {
  constructor(dataset: string, column: string) {
    super('COLUMN_ACCESS_DENIED', `access denied to column "${column}" of dataset ${dataset}`, { dataset, column });
  }
}

/**
 * Used both for datasets that do not exist and for datasets invisible to the caller: the two
 * answers must be byte-for-byte identical (existence is private), so the message depends only on
 * the name the caller typed.
 */
export class DatasetNotFoundError extends VeilError {
  constructor(name: string) {
    super('DATASET_NOT_FOUND', `dataset ${name} does not exist`, { dataset: name });
  }
}

export class NotFoundError extends VeilError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} does not exist`);
  }
}

export class AlreadyExistsError extends VeilError {
  constructor(what: string) {
    super('ALREADY_EXISTS', `${what} already exists`);
  }
}

export class InvalidPolicyError extends VeilError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INVALID_POLICY', message, details);
  }
}

/** A policy that applies to the caller cannot be compiled for a dataset: fail closed. */
export class PolicyNotApplicableError extends VeilError {
  constructor(policy: string, dataset: string, reason: string) {
    super('POLICY_NOT_APPLICABLE', `policy "${policy}" cannot be applied to ${dataset}: ${reason}`, { policy, dataset });
  }
}

export class InvalidDatasetError extends VeilError {
  constructor(message: string) {
    super('INVALID_DATASET', message);
  }
}

export class StorageError extends VeilError {
  constructor(message: string) {
    super('STORAGE_ERROR', message);
  }
}

export class NotAcceptableError extends VeilError {
  constructor(accept: string) {
    super('NOT_ACCEPTABLE', `cannot produce ${accept}; use application/json, text/csv or application/vnd.apache.arrow.stream`);
  }
}

/** The client cancelled its running statement (a PostgreSQL CancelRequest). */
export class QueryCancelledError extends VeilError {
  constructor() {
    super('QUERY_CANCELLED', 'canceling statement due to user request');
  }
}

/** A valid request for something Veil does not do (a protocol feature, a type in binary form). */
export class FeatureNotSupportedError extends VeilError {
  constructor(message: string) {
    super('NOT_SUPPORTED', message);
  }
}

/** The client closed the connection while its result was streaming. */
export class ClientDisconnectedError extends VeilError {
  constructor() {
    super('CLIENT_DISCONNECTED', 'the client closed the connection before the result was complete');
  }
}

export function isVeilError(error: unknown): error is VeilError {
  return error instanceof VeilError;
}

/** Verification found the audit trail altered: an edited, deleted, inserted or reordered record. */
export class AuditTamperedError extends VeilError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('AUDIT_TAMPERED', message, details);
  }
}
