import { VeilQueryError } from './client-errors.ts';
import type { ResultColumn, VeilRecord, VeilValue } from './client-types.ts';

/**
 * Row arrays to plain objects keyed by column name. A result with two columns of the same name
 * (`SELECT a.id, b.id …`) is refused rather than letting one silently overwrite the other; alias
 * them, or use `query()`, which keeps rows as arrays. Properties are defined, not assigned, so a
 * column named `__proto__` is an ordinary key and cannot change the object's prototype.
 */
export function rowsToRecords(columns: readonly ResultColumn[], rows: readonly (readonly VeilValue[])[], requestId: string | null): VeilRecord[] {
  const names = columns.map((c) => c.name);
  const duplicates = names.filter((name, i) => names.indexOf(name) !== i);
  if (duplicates.length > 0) {
    throw new VeilQueryError(`the result has more than one column named ${[...new Set(duplicates)].map((d) => `"${d}"`).join(', ')}; alias them to read rows as objects`, {
      code: 'DUPLICATE_COLUMN_NAMES',
      requestId,
    });
  }
  const needsDefine = names.includes('__proto__');
  return rows.map((row) => {
    const record: VeilRecord = {};
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const value = row[i] ?? null;
      if (needsDefine) Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true });
      else record[name] = value;
    }
    return record;
  });
}
