import { parse } from 'yaml';
import { InvalidRequestError } from '../errors/index.ts';
import { validateUser } from './user-store.ts';
import type { UserRecord } from './user-types.ts';

/** Users as code: `users: [...]`, a bare list, or one user. */
export function parseUserDocument(text: string): UserRecord[] {
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new InvalidRequestError(`YAML error: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  if (value === null || value === undefined) return [];
  const items = Array.isArray(value) ? value : typeof value === 'object' && 'users' in value ? (value).users : [value];
  if (!Array.isArray(items)) throw new InvalidRequestError('"users" must be a list');
  return items.map(validateUser);
}
