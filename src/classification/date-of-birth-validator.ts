import type { ValueMatch } from './classification-types.ts';
import { dateToEpochMs, parseDateValue } from './date-value-parser.ts';

/**
 * Dates of birth: a calendar date (see date-value-parser.ts) between 1900-01-01 and `now`, without a
 * time of day (a TIMESTAMP at midnight is how some systems store a DATE). Every date column fits that
 * shape, so a value match is at most weak evidence: the classifier needs the column name to say birth.
 * Compact `YYYYMMDD` numbers are weak too.
 */
const EARLIEST_BIRTH_MS = Date.UTC(1900, 0, 1);

export function matchDateOfBirth(value: string, now: Date = new Date()): ValueMatch {
  const parsed = parseDateValue(value);
  if (parsed === null || parsed.hasTimeOfDay) return 'invalid';
  const ms = dateToEpochMs(parsed);
  if (ms < EARLIEST_BIRTH_MS || ms > now.getTime()) return 'invalid';
  return parsed.compact ? 'weak' : 'strong';
}

export function isValidDateOfBirth(value: string, now: Date = new Date()): boolean {
  return matchDateOfBirth(value, now) !== 'invalid';
}

/** Age in whole years at `now` of a date string that parses, else null. */
export function ageInYears(value: string, now: Date): number | null {
  const parsed = parseDateValue(value);
  if (parsed === null) return null;
  let age = now.getUTCFullYear() - parsed.year;
  const beforeBirthday =
    now.getUTCMonth() + 1 < parsed.month || (now.getUTCMonth() + 1 === parsed.month && now.getUTCDate() < parsed.day);
  if (beforeBirthday) age--;
  return age;
}
