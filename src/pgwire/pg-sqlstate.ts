import type { ErrorCode } from '../errors/index.ts';

/**
 * The one place where Veil's error codes become SQLSTATEs for PostgreSQL clients.
 * A dataset that does not exist and one the caller may not see share 42P01 and the same text.
 *
 * @see https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
export const SQLSTATE: Record<ErrorCode, string> = {
  INVALID_REQUEST: '22023', // invalid_parameter_value (malformed protocol messages are 08P01, decided by the session)
  INVALID_SQL: '42601', // syntax_error
  SQL_NOT_ALLOWED: '42501', // insufficient_privilege: the construct is refused by policy
  QUERY_FAILED: '22000', // data_exception: the query failed on the data
  QUERY_TIMEOUT: '57014', // query_canceled (statement timeout)
  QUERY_CANCELLED: '57014', // query_canceled (CancelRequest)
  TOO_MANY_REQUESTS: '53400', // configuration_limit_exceeded
  REQUEST_TIMEOUT: '57014',
  RESULT_TOO_LARGE: '53400',
  UNAUTHENTICATED: '28000', // invalid_authorization_specification
  INVALID_TOKEN: '28P01', // invalid_password
  ACCESS_DENIED: '42501',
  COLUMN_ACCESS_DENIED: '42501',
  POLICY_NOT_APPLICABLE: '42501',
  DATASET_NOT_FOUND: '42P01', // undefined_table
  NOT_FOUND: '42704', // undefined_object
  ALREADY_EXISTS: '42710', // duplicate_object
  INVALID_POLICY: '22023', // invalid_parameter_value
  INVALID_DATASET: '22023',
  STORAGE_ERROR: '58030', // io_error
  NOT_ACCEPTABLE: '0A000', // feature_not_supported
  NOT_SUPPORTED: '0A000',
  CLIENT_DISCONNECTED: '08006', // connection_failure
  AUDIT_TAMPERED: 'XX000',
  INTERNAL: 'XX000', // internal_error
};

/** An unknown setting name in SET/SHOW. */
export const UNDEFINED_OBJECT = '42704';
/** A statement inside a failed transaction block before ROLLBACK. */
export const IN_FAILED_TRANSACTION = '25P02';
