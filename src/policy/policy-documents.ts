import { isMap, isSeq, LineCounter, parseAllDocuments, stringify, type Node } from 'yaml';
import { InvalidPolicyError, isVeilError } from '../errors/index.ts';
import type { PolicyDefinition } from './policy-types.ts';
import { policyToAuthored, validatePolicy } from './policy-validation.ts';

/** A problem in a policy file, placed where an editor can show it (1-based line and column). */
export interface PolicyProblem {
  readonly message: string;
  readonly line: number;
  readonly column: number;
  /** The policy's name, when the problem is inside one that has a name. */
  readonly policy?: string;
}

/**
 * Policy-as-code files: YAML (or JSON, which is YAML) holding `policies: [...]`, a bare list, or a
 * single policy; several YAML documents may follow one another.
 */
export function parsePolicyDocuments(text: string): PolicyDefinition[] {
  const { policies, problems } = checkPolicyDocuments(text);
  const first = problems[0];
  if (first !== undefined) throw new InvalidPolicyError(first.message, { line: first.line, column: first.column, problems });
  return policies;
}

/**
 * Every problem of a policy file at once, each with its position, for editors that show them
 * inline; the policies that are valid come back too. Validation is the same as when applying.
 */
export function checkPolicyDocuments(text: string): { policies: PolicyDefinition[]; problems: PolicyProblem[] } {
  const lineCounter = new LineCounter();
  const at = (offset: number | undefined): { line: number; column: number } => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { line: pos.line, column: pos.col };
  };
  const policies: PolicyDefinition[] = [];
  const problems: PolicyProblem[] = [];
  const names = new Map<string, number>();
  for (const document of parseAllDocuments(text, { lineCounter })) {
    if (document.errors.length > 0) {
      for (const error of document.errors) problems.push({ message: `YAML error: ${error.message.split('\n')[0] ?? ''}`, ...at(error.pos[0]) });
      continue;
    }
    const contents = document.contents;
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    // The nodes of the policies, for their positions; the values come from toJS().
    let nodes: readonly (Node | unknown)[] = [contents];
    let items: unknown = [value];
    if (Array.isArray(value)) {
      nodes = isSeq(contents) ? contents.items : [];
      items = value;
    } else if (typeof value === 'object' && 'policies' in value) {
      const list = isMap(contents) ? contents.get('policies', true) : undefined;
      nodes = isSeq(list) ? list.items : [];
      items = (value).policies;
      if (!Array.isArray(items)) {
        problems.push({ message: '"policies" must be a list', ...at(nodeStart(list) ?? nodeStart(contents)) });
        continue;
      }
    }
    (items as unknown[]).forEach((item, index) => {
      const position = at(nodeStart(nodes[index]) ?? nodeStart(contents));
      const name = typeof item === 'object' && item !== null && typeof (item as { name?: unknown }).name === 'string' ? (item as { name: string }).name : undefined;
      try {
        const policy = validatePolicy(item);
        const previous = names.get(policy.name);
        if (previous !== undefined) throw new InvalidPolicyError(`policy ${policy.name} appears twice (first on line ${previous})`);
        names.set(policy.name, position.line);
        policies.push(policy);
      } catch (error) {
        if (!isVeilError(error)) throw error;
        problems.push({ message: error.message, ...position, ...(name === undefined ? {} : { policy: name }) });
      }
    });
  }
  return { policies, problems };
}

function nodeStart(node: unknown): number | undefined {
  const range = typeof node === 'object' && node !== null && 'range' in node ? (node as { range?: unknown }).range : undefined;
  return Array.isArray(range) && typeof range[0] === 'number' ? range[0] : undefined;
}

export function exportPolicyDocument(policies: readonly PolicyDefinition[]): string {
  return stringify({ policies: policies.map(policyToAuthored) });
}
