import { randomUUID } from 'node:crypto';
import type { AuditDecision, AuditRecord, Door } from '../audit/index.ts';
import { isVeilError, UnauthenticatedError, type ErrorCode } from '../errors/index.ts';
import type { AuthenticationMethod, Principal } from '../identity/index.ts';

/** Who is asking, through which door: what every door knows before it authenticates anyone. */
export interface DoorContext {
  readonly door: Door;
  /** What the client says it is (User-Agent, application_name): recorded, never trusted. */
  readonly clientApplication: string | null;
  readonly clientAddress: string | null;
  /** A door's own id for the request (HTTP's X-Request-Id); a fresh one otherwise. */
  readonly requestId?: string;
}

/**
 * One request through the gateway, from its door to its audit record. Operations fill in what the
 * record says (statement, datasets, columns, policies, rows, bytes); the gateway alone writes it,
 * once, with the decision mapped from the outcome.
 */
export class RequestScope {
  readonly requestId: string;
  readonly startedAt = Date.now();
  readonly startedClock = performance.now();
  readonly door: Door;
  readonly clientApplication: string | null;
  readonly clientAddress: string | null;
  principal: Principal | undefined;
  /** How the principal was established (set with it). */
  authentication: { readonly method: AuthenticationMethod; readonly via: string | null } | undefined;
  /**
   * The local operator of a home (the CLI holding its files): administration needs no admin group,
   * since whoever holds the files holds everything they protect. Never set by a network door.
   */
  operator = false;
  statement: string | null = null;
  statementType = 'request';
  datasets: readonly string[] = [];
  columns: readonly string[] = [];
  policies: readonly string[] = [];
  rows: number | undefined;
  bytes: number | undefined;
  /** Sequence number once a durable record was begun (before the first result byte). */
  auditSeq: number | undefined;
  /** Finished: a second finish (a door's error path after its success path) writes nothing. */
  finished = false;

  constructor(context: DoorContext) {
    this.requestId = context.requestId ?? randomUUID();
    this.door = context.door;
    this.clientApplication = context.clientApplication === null ? null : context.clientApplication.slice(0, 256);
    this.clientAddress = context.clientAddress;
  }

  /** What the request is, for the record. */
  describe(statementType: string, statement: string | null): void {
    this.statementType = statementType;
    this.statement = statement;
  }

  requirePrincipal(): Principal {
    if (this.principal === undefined) throw new UnauthenticatedError();
    return this.principal;
  }

  /** The record as it stands before completion. */
  auditStart(): AuditRecord {
    return {
      event_time: new Date(this.startedAt).toISOString(),
      request_id: this.requestId,
      user: this.principal?.user ?? null,
      groups: this.principal?.groups ?? [],
      client_application: this.clientApplication,
      client_address: this.clientAddress,
      door: this.door,
      statement: this.statement,
      statement_type: this.statementType,
      datasets: this.datasets,
      columns: this.columns,
      policies: this.policies,
      decision: 'allowed',
      rows_returned: null,
      bytes_returned: null,
      duration_ms: null,
      error_code: null,
    };
  }
}

/** The stable code of any failure: a VeilError's own, anything else INTERNAL. */
export function errorCodeOf(error: unknown): ErrorCode {
  return isVeilError(error) ? error.code : 'INTERNAL';
}

/**
 * The audit decision for a failure: refusals by policy or identity are denials, the rest errors.
 * One table for every door, so that a denial reads the same in insights whichever door it came by.
 */
export function decisionFor(code: ErrorCode): Exclude<AuditDecision, 'allowed'> {
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
