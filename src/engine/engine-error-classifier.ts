import { QueryFailedError, QueryTimeoutError, VeilError } from '../errors/index.ts';

/**
 * DuckDB error kinds whose text is derived only from the query text and catalog shape (never from
 * data values). Their first line is safe to return. Every other kind (Conversion, Invalid Input,
 * Out of Range, …) can quote a cell value of a row the user may not see, so its text is withheld.
 * @see docs/security.md invariant 5
 */
const STRUCTURAL_ERROR_KINDS = new Set(['Parser', 'Binder', 'Catalog', 'Syntax', 'Not implemented', 'Dependency']);

/** Binder messages that name a column the query used but the (policy-applied) relation lacks. */
// "ssn", or ""name"" when DuckDB quotes a keyword inside its own quotes
const QUOTED = '""?([^"]+)""?';
const MISSING_COLUMN_PATTERNS = [
  new RegExp(`Referenced column ${QUOTED} not found`),
  // in QUALIFY and window clauses DuckDB leaves the name unquoted
  /Referenced column ([A-Za-z_][A-Za-z0-9_]*) not found/,
  new RegExp(`does not have a column named ${QUOTED}`),
  new RegExp(`Column ${QUOTED} in (?:EXCLUDE|REPLACE|RENAME) list not found`),
  new RegExp(`column ${QUOTED} (?:not found|does not exist)`, 'i'),
];



export interface ClassifiedEngineError {
  readonly kind: string;
  /** Text safe to show the caller. */
  readonly publicMessage: string;
  /** For structural binder errors about a missing column: the column name. */
  readonly missingColumn?: string;
}

export function classifyEngineError(error: unknown): ClassifiedEngineError {
  const message = error instanceof Error ? error.message : String(error);
  const kindMatch = /^([A-Za-z ]+?) Error: /.exec(message);
  const kind = kindMatch?.[1] ?? 'Unknown';
  if (!STRUCTURAL_ERROR_KINDS.has(kind)) {
    return { kind, publicMessage: withheldMessage(kind) };
  }
  // Only the first paragraph: the "LINE 1: ..." context quotes the rewritten SQL (internal names).
  const firstParagraph = message.split('\n\n')[0] ?? message;
  const firstLine = (firstParagraph.split('\n')[0] ?? firstParagraph).slice(0, 500);
  const missing = MISSING_COLUMN_PATTERNS.map((p) => p.exec(firstLine)?.[1]).find((m) => m !== undefined);
  return missing === undefined
    ? { kind, publicMessage: firstLine }
    : { kind, publicMessage: firstLine, missingColumn: missing };
}

function withheldMessage(kind: string): string {
  if (kind === 'INTERRUPT') return 'query was interrupted';
  if (kind === 'Out of Memory') return 'query ran out of memory; add filters or aggregate before reading';
  return `${kind} error while evaluating the query; details are withheld because they could reveal protected values`;
}

export function engineErrorToVeilError(error: unknown, timedOut: boolean, timeoutMs: number): VeilError {
  if (timedOut) return new QueryTimeoutError(timeoutMs);
  if (error instanceof VeilError) return error;
  const classified = classifyEngineError(error);
  return new QueryFailedError(classified.publicMessage, {
    engineErrorKind: classified.kind,
    ...(classified.missingColumn === undefined ? {} : { missingColumn: classified.missingColumn }),
  });
}
