import { sqlString } from '../engine/index.ts';
import { InvalidPolicyError } from '../errors/index.ts';
import {
  isTransformName,
  transformDefinition,
  TRANSFORM_STRENGTH,
  typeFamily,
  type TransformContext,
  type TransformDefinition,
  type TransformName,
} from './transform-registry.ts';

/**
 * Parsing, compiling and ordering column transforms. What each transform is (signature, strength,
 * SQL, output type, macros) lives in one registry entry (transform-registry.ts); this module reads it.
 */
export { TRANSFORM_STRENGTH, transformMacros, type TransformContext, type TransformName } from './transform-registry.ts';

export interface TransformSpec {
  readonly name: TransformName;
  readonly args: readonly (string | number)[];
  /** Canonical text, e.g. mask_show_last(4) */
  readonly text: string;
}

export function parseTransform(text: string): TransformSpec {
  const match = /^\s*([a-z_0-9]+)\s*(?:\((.*)\))?\s*$/s.exec(text);
  const name = match?.[1];
  if (match === null || name === undefined || !isTransformName(name)) {
    throw new InvalidPolicyError(`unknown transform "${text}"; use one of ${TRANSFORM_STRENGTH.join(', ')}`);
  }
  const definition = transformDefinition(name);
  const args = match[2] === undefined || match[2].trim() === '' ? [] : splitArgs(match[2], text);
  if (args.length > definition.args.length || args.length < definition.args.length - definition.optionalArgs) {
    throw new InvalidPolicyError(`transform ${name} takes ${describeArity(definition)}`);
  }
  const parsed = args.map((arg, i) => {
    const kind = definition.args[i];
    if (kind === 'integer') {
      if (!/^-?\d{1,3}$/.test(arg)) throw new InvalidPolicyError(`argument ${i + 1} of ${name} must be a small integer`);
      return Number(arg);
    }
    const quoted = /^'((?:[^']|'')*)'$/.exec(arg);
    if (!quoted) throw new InvalidPolicyError(`argument ${i + 1} of ${name} must be a quoted string`);
    return (quoted[1] ?? '').replaceAll("''", "'");
  });
  const refusal = definition.validate?.(parsed);
  if (refusal !== undefined) throw new InvalidPolicyError(refusal);
  const canonical = parsed.length === 0 ? name : `${name}(${parsed.map((a) => (typeof a === 'number' ? String(a) : sqlString(a))).join(', ')})`;
  return { name, args: parsed, text: canonical };
}

function splitArgs(body: string, text: string): string[] {
  const args: string[] = [];
  let current = '';
  let inString = false;
  for (const ch of body) {
    if (ch === "'") inString = !inString;
    if (ch === ',' && !inString) {
      args.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (inString) throw new InvalidPolicyError(`unterminated string in transform "${text}"`);
  args.push(current.trim());
  return args;
}

function describeArity(signature: Pick<TransformDefinition, 'args' | 'optionalArgs'>): string {
  if (signature.args.length === 0) return 'no arguments';
  return `${signature.args.length - signature.optionalArgs}..${signature.args.length} argument(s): ${signature.args.join(', ')}`;
}

/**
 * SQL for a transform of one raw column. Returns undefined when the transform cannot apply to the
 * column's type; the caller then nulls the column (fail closed) and explains why.
 */
export function transformSql(spec: TransformSpec, column: string, type: string, context: TransformContext): string | undefined {
  return transformDefinition(spec.name).sql({ column, type, family: typeFamily(type), args: spec.args, context });
}

/** The SQL type a transform produces for a column of `type` (when it applies). */
export function transformOutputType(spec: TransformSpec, type: string): string {
  return transformDefinition(spec.name).output === 'same' ? type : 'VARCHAR';
}

/** Compares how much two transforms reveal: negative when `a` reveals less (is stronger). */
export function compareStrength(a: TransformSpec, b: TransformSpec): number {
  const byName = TRANSFORM_STRENGTH.indexOf(a.name) - TRANSFORM_STRENGTH.indexOf(b.name);
  if (byName !== 0) return byName;
  return (transformDefinition(a.name).revealing?.(a.args) ?? 0) - (transformDefinition(b.name).revealing?.(b.args) ?? 0);
}
