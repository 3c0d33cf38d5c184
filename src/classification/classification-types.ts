/**
 * Shared types of the column classifier: the tags it can propose, its input (a column's name, DuckDB
 * type and a sample of values rendered as text) and its output (proposals a data steward reviews).
 */

/** Every tag the classifier knows, in report order. */
export const CLASSIFICATION_TAGS = [
  'pii.email',
  'pii.phone',
  'pii.ssn',
  'pii.credit_card',
  'pii.iban',
  'pii.ip_address',
  'pii.name',
  'phi.dob',
  'phi.zip',
] as const;

export type ClassificationTag = (typeof CLASSIFICATION_TAGS)[number];

/** One column to classify. Values are sampled rows rendered as text (DuckDB's VARCHAR cast); null stays null. */
export interface ColumnSample {
  readonly name: string;
  /** DuckDB SQL type as the catalog stores it (`VARCHAR`, `BIGINT`, `DATE`, …); '' when unknown. */
  readonly type: string;
  readonly values: readonly (string | null)[];
}

/**
 * A proposed tag for a column. `evidence` is shown to stewards, so it carries counts and reasons only,
 * never a sampled value.
 */
export interface ClassificationProposal {
  readonly column: string;
  readonly tag: ClassificationTag;
  /** 0..1, two decimals. Proposals below 0.5 are hints for a steward, not classifications. */
  readonly confidence: number;
  readonly evidence: string;
}

export interface ClassifyOptions {
  /** Upper bound for plausible dates of birth; defaults to the current time. */
  readonly now?: Date;
}

/**
 * How well one value fits a tag: `strong` is specific on its own (a dashed SSN, an IBAN passing
 * mod-97), `weak` fits but is also what unrelated data looks like (nine bare digits, five bare
 * digits), so it only counts when the column name agrees.
 */
export type ValueMatch = 'strong' | 'weak' | 'invalid';
