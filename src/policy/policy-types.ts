/**
 * Policies as authored (YAML or JSON) and stored. Semantics are documented in docs/policies.md;
 * the resolver in effective-policy-resolver.ts is the single implementation of them.
 */
export type PolicyEffect = 'grant' | 'deny' | 'restrict';
export type PolicyAction = 'select' | 'describe';

export interface SubjectSelector {
  readonly everyone?: boolean;
  readonly users?: readonly string[];
  readonly groups?: readonly string[];
  /** Every key must match: the user holds one of the listed values ("*" = any value). */
  readonly attributes?: Readonly<Record<string, readonly string[]>>;
  readonly except?: { readonly users?: readonly string[]; readonly groups?: readonly string[] };
}

export type ResourceSelector =
  | { readonly database: string }
  | { readonly dataset: string }
  | { readonly tag: string };

export interface ColumnSelector {
  readonly columns?: readonly string[];
  /** Tag patterns: `pii` matches pii and pii.*, `pii.*` matches pii.x, `*` matches every tag. */
  readonly tags?: readonly string[];
}

export interface MaskRule extends ColumnSelector {
  /** e.g. `tokenize`, `mask_show_last(4)`, `round(1)` */
  readonly transform: string;
  /** SQL predicate over the raw row: the mask applies where it is not false (NULL masks). */
  readonly when?: string;
}

export interface PolicyDefinition {
  readonly name: string;
  readonly description?: string;
  readonly effect: PolicyEffect;
  readonly actions: readonly PolicyAction[];
  readonly subjects: SubjectSelector;
  readonly resources: readonly ResourceSelector[];
  readonly rowFilter?: string;
  readonly hide?: ColumnSelector;
  readonly masks?: readonly MaskRule[];
  readonly validFrom?: string;
  readonly validUntil?: string;
  readonly enabled: boolean;
}

export interface StoredPolicy extends PolicyDefinition {
  readonly createdAt: string;
  readonly updatedAt: string;
}
