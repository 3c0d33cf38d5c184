import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidRequestError } from '../errors/index.ts';
import type { Settled } from '../util/settled.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

export type Command = (args: readonly string[]) => Promise<void>;
/** A command group: `veil <group> <name> …`. */
export type CommandGroup = Record<string, { usage: string; run: Command }>;

export const HOME_OPTION: Options = { home: { type: 'string', short: 'H' } };

/** Parses a command's arguments; unknown options are errors, as in every careful CLI. */
export function parse(args: readonly string[], options: Options): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options: { ...HOME_OPTION, ...options }, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | string[] | undefined>, positionals };
  } catch (error) {
    throw new InvalidRequestError((error as Error).message);
  }
}

export function str(values: Record<string, unknown>, key: string): string | undefined {
  const value = values[key];
  return typeof value === 'string' ? value : undefined;
}

export function list(values: Record<string, unknown>, key: string): string[] {
  const value = values[key];
  return Array.isArray(value) ? (value as string[]) : typeof value === 'string' ? [value] : [];
}

/** key=value pairs; values may repeat a key (col=tag1 col=tag2). */
export function pairs(items: readonly string[], what: string): Array<[string, string]> {
  return items.map((item) => {
    const at = item.indexOf('=');
    if (at <= 0) throw new InvalidRequestError(`${what} must look like key=value (got "${item}")`);
    return [item.slice(0, at), item.slice(at + 1)];
  });
}

export function groupPairs(items: readonly string[], what: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of pairs(items, what)) (out[k] ??= []).push(v);
  return out;
}

export function requirePositional(positionals: readonly string[], index: number, what: string): string {
  const value = positionals[index];
  if (value === undefined) throw new InvalidRequestError(`missing ${what}`);
  return value;
}

export function printJson<T>(value: T & Settled<T>): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The string options among `keys` that were given, as an object (absent ones left out). */
export function optionalStrings(values: Record<string, unknown>, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.flatMap((key) => (typeof values[key] === 'string' ? [[key, values[key]]] : [])));
}
