import type { ErrorCode } from '../errors/index.ts';

/** The one place where error codes become HTTP statuses. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_REQUEST: 400,
  INVALID_SQL: 400,
  SQL_NOT_ALLOWED: 400,
  QUERY_FAILED: 400,
  QUERY_TIMEOUT: 408,
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

/** Audit decision for a failed request: refusals by policy or identity are denials, the rest errors. */
export function decisionFor(code: ErrorCode): 'denied' | 'error' {
  switch (code) {
    case 'UNAUTHENTICATED':
    case 'INVALID_TOKEN':
    case 'ACCESS_DENIED':
    case 'COLUMN_ACCESS_DENIED':
    case 'DATASET_NOT_FOUND':
    case 'SQL_NOT_ALLOWED':
    case 'POLICY_NOT_APPLICABLE':
      return 'denied';
    default:
      return 'error';
  }
}
