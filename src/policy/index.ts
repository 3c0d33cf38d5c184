export { PolicyStore, type PolicyChange } from './policy-store.ts';
export { validatePolicy, policyToAuthored } from './policy-validation.ts';
export { parsePolicyDocuments, checkPolicyDocuments, exportPolicyDocument, type PolicyProblem } from './policy-documents.ts';
export { resolveEffectivePolicy, subjectMatches, isInForce, maskLayers, compareStrength } from './effective-policy-resolver.ts';
export type { EffectiveDatasetPolicy, EffectiveColumn, MaskLayer, RowFilter, ColumnAccess } from './effective-policy-resolver.ts';
export { parseTransform, transformSql, transformMacros, transformOutputType, TRANSFORM_STRENGTH } from './transforms.ts';
export type { TransformSpec, TransformName, TransformContext } from './transforms.ts';
export { tagMatches } from './tag-matching.ts';
export type { PolicyDefinition, StoredPolicy, SubjectSelector, ResourceSelector, MaskRule, ColumnSelector, PolicyEffect, PolicyAction } from './policy-types.ts';
