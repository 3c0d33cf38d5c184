import { VeilError, type ErrorCode } from '../errors/index.ts';
import { IN_FAILED_TRANSACTION } from './pg-sqlstate.ts';

/** Errors only the wire protocol has: a Veil code for the audit trail, and their own SQLSTATE. */
export class SessionError extends VeilError {
  constructor(
    code: ErrorCode,
    readonly sqlState: string,
    message: string,
  ) {
    super(code, message);
  }
}

export class ProtocolViolation extends SessionError {
  constructor(message: string) {
    super('INVALID_REQUEST', '08P01', message);
  }
}

export class FailedTransaction extends SessionError {
  constructor() {
    super('INVALID_REQUEST', IN_FAILED_TRANSACTION, 'current transaction is aborted, commands ignored until end of transaction block');
  }
}

export class DuplicateName extends SessionError {
  constructor(message: string) {
    super('ALREADY_EXISTS', '42P05', message);
  }
}

export class UndefinedName extends SessionError {
  constructor(message: string) {
    super('NOT_FOUND', '26000', message);
  }
}

export class UndefinedCursor extends SessionError {
  constructor(message: string) {
    super('NOT_FOUND', '34000', message);
  }
}

/** A statement the door refuses because it would reach around the policy pipeline (42501 unless said). */
export class RefusedStatement extends SessionError {
  constructor(message: string, sqlState = '42501') {
    super('SQL_NOT_ALLOWED', sqlState, message);
  }
}
