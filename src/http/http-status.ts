import type { ErrorCode } from '../errors/index.ts';

/** The one place where error codes become HTTP statuses. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_REQUEST: 400,
  INVALID_SQL: 400,
  SQL_NOT_ALLOWED: 400,
  QUERY_FAILED: 400,
  QUERY_TIMEOUT: 408,
  // the PostgreSQL door's CancelRequest; HTTP clients cancel by closing the connection
  QUERY_CANCELLED: 499,
  TOO_MANY_REQUESTS: 429,
  REQUEST_TIMEOUT: 408,
  RESULT_TOO_LARGE: 413,
  UNAUTHENTICATED: 401,
  INVALID_TOKEN: 401,
  ACCESS_DENIED: 403,
  COLUMN_ACCESS_DENIED: 403,
  POLICY_NOT_APPLICABLE: 403,
  DATASET_NOT_FOUND: 404,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  INVALID_POLICY: 400,
  INVALID_DATASET: 400,
  STORAGE_ERROR: 500,
  NOT_ACCEPTABLE: 406,
  NOT_SUPPORTED: 501,
  // nginx's convention; never actually sent, the client is gone
  CLIENT_DISCONNECTED: 499,
  AUDIT_TAMPERED: 500,
  INTERNAL: 500,
};
