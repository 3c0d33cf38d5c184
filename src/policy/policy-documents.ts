import { parseAllDocuments, stringify } from 'yaml';
import { InvalidPolicyError } from '../errors/index.ts';
import type { PolicyDefinition } from './policy-types.ts';
import { policyToAuthored, validatePolicy } from './policy-validation.ts';

/**
 * Policy-as-code files: YAML (or JSON, which is YAML) holding `policies: [...]`, a bare list, or a
 * single policy; several YAML documents may follow one another.
 */
export function parsePolicyDocuments(text: string): PolicyDefinition[] {
  const policies: PolicyDefinition[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new InvalidPolicyError(`YAML error: ${document.errors[0]?.message ?? 'unknown'}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    const items = Array.isArray(value)
      ? value
      : typeof value === 'object' && 'policies' in value
        ? (value as { policies: unknown }).policies
        : [value];
    if (!Array.isArray(items)) throw new InvalidPolicyError('"policies" must be a list');
    for (const item of items) policies.push(validatePolicy(item));
  }
  return policies;
}

export function exportPolicyDocument(policies: readonly PolicyDefinition[]): string {
  return stringify({ policies: policies.map(policyToAuthored) });
}
