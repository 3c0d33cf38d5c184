import type { ValueMatch } from './classification-types.ts';

/**
 * US Social Security numbers, `AAA-GG-SSSS` (dashes or spaces) or nine bare digits, with the SSA's
 * never-issued ranges excluded: area 000, 666 and 900-999, group 00, serial 0000.
 * @see https://www.ssa.gov/employer/randomization.html
 * @see https://secure.ssa.gov/poms.nsf/lnx/0110201035
 *
 * Separated values are strong evidence; nine bare digits are weak, since any 9-digit identifier passes
 * the rules nine times out of ten.
 */
const SSN = /^(\d{3})([- ]?)(\d{2})\2(\d{4})$/;

export function matchSsn(value: string): ValueMatch {
  const m = SSN.exec(value.trim());
  if (!m) return 'invalid';
  const [, area = '', separator = '', group = '', serial = ''] = m;
  if (!isIssuableSsn(area, group, serial)) return 'invalid';
  return separator === '' ? 'weak' : 'strong';
}

export function isValidSsn(value: string): boolean {
  return matchSsn(value) !== 'invalid';
}

function isIssuableSsn(area: string, group: string, serial: string): boolean {
  return area !== '000' && area !== '666' && !area.startsWith('9') && group !== '00' && serial !== '0000';
}
