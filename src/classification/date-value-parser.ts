/**
 * Calendar dates as they appear in data: DuckDB's DATE/TIMESTAMP text (`1980-03-04`,
 * `1980-03-04 00:00:00`, ISO 8601 with `T` and an offset), `YYYY/MM/DD`, `MM/DD/YYYY` and `DD/MM/YYYY`
 * (either reading when the day is ≤ 12), `DD.MM.YYYY`, `YYYYMMDD`, and English month names
 * (`March 4, 1980`, `4 Mar 1980`, `04-Mar-1980`).
 */
export interface ParsedDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** True when a time of day other than midnight was given. */
  readonly hasTimeOfDay: boolean;
  /** True for forms that are also plain numbers (`19800304`). */
  readonly compact: boolean;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const YMD_SLASH = /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/;
const NUMERIC_DMY_OR_MDY = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})$/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;
const MONTH_FIRST = /^([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})$/;
const DAY_FIRST = /^(\d{1,2})[ -]([A-Za-z]{3,9})\.?[ -](\d{4})$/;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

export function parseDateValue(value: string): ParsedDate | null {
  const text = value.trim();
  let m = ISO.exec(text);
  if (m) {
    const midnight = [m[4], m[5], m[6]].every((part) => part === undefined || Number(part) === 0);
    return date(Number(m[1]), Number(m[2]), Number(m[3]), !midnight, false);
  }
  if ((m = YMD_SLASH.exec(text))) return date(Number(m[1]), Number(m[2]), Number(m[3]), false, false);
  if ((m = NUMERIC_DMY_OR_MDY.exec(text))) {
    const a = Number(m[1]);
    const b = Number(m[3]);
    const year = Number(m[4]);
    // Dotted dates are day-first everywhere they are used; slashes and dashes are read US-style first.
    if (m[2] === '.') return date(year, b, a, false, false);
    return date(year, a, b, false, false) ?? date(year, b, a, false, false);
  }
  if ((m = COMPACT.exec(text))) return date(Number(m[1]), Number(m[2]), Number(m[3]), false, true);
  if ((m = MONTH_FIRST.exec(text))) return date(Number(m[3]), monthNumber(m[1] ?? ''), Number(m[2]), false, false);
  if ((m = DAY_FIRST.exec(text))) return date(Number(m[3]), monthNumber(m[2] ?? ''), Number(m[1]), false, false);
  return null;
}

function monthNumber(name: string): number {
  const lower = name.toLowerCase();
  const index = MONTHS.findIndex((prefix) => lower.startsWith(prefix));
  return index >= 0 ? index + 1 : 0;
}

function date(year: number, month: number, day: number, hasTimeOfDay: boolean, compact: boolean): ParsedDate | null {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return { year, month, day, hasTimeOfDay, compact };
}

function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one; UTC keeps time zones out of it.
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Milliseconds since the epoch at UTC midnight of the parsed date. */
export function dateToEpochMs(parsed: ParsedDate): number {
  return Date.UTC(parsed.year, parsed.month - 1, parsed.day);
}
