import type { ValueMatch } from './classification-types.ts';

/**
 * Telephone numbers as people write them:
 *
 * - international, `+` or `00` then 8-15 digits (ITU-T E.164 allows at most 15 digits including the
 *   country code, which never starts with 0): `+14155550132`, `+44 20 7946 0958`, `+44 (0)20 7946 0958`,
 *   `0049 30 1234567`;
 * - North American (NANP), 10 digits or 11 with a leading 1, whose area code and exchange both start
 *   with 2-9: `(415) 555-0132`, `415-555-0132`, `415.555.0132`, `1 800 555 0199`, `4155550132`;
 * - national numbers with a trunk prefix 0 and 10-11 digits in groups: `020 7946 0958`, `030 12345678`;
 * - E.164 digits without the `+`, 11-15 bare digits (`447700900123`), as telecom exports store MSISDNs.
 *
 * An extension (`x204`, `ext. 12`) may follow. Letters anywhere else reject the value.
 * @see https://www.itu.int/rec/T-REC-E.164
 * @see https://nationalnanpa.com/number_resource_info/
 *
 * Strength: international and separated NANP numbers are strong; bare digits and trunk-prefixed
 * national numbers are weak, since a long numeric identifier or a dashed part number has the same shape.
 */
const EXTENSION = /\s*(?:x|ext\.?|extension|#)\s*\d{1,6}$/i;
const PHONE_TEXT = /^\+?[\d\s().\-/]+$/;
/** Groups a separated NANP number may use: 3-3-4, or 1-3-3-4 with the country code. */
const NANP_GROUPINGS = new Set(['3,3,4', '1,3,3,4', '3,7', '1,10']);

export function matchPhone(value: string): ValueMatch {
  const text = value.trim().replace(EXTENSION, '');
  if (text.length === 0 || !PHONE_TEXT.test(text) || !balancedParentheses(text)) return 'invalid';
  if (/[\s().\-/]{2,}/.test(text.replace(/\) /g, ')').replace(/ \(/g, '('))) return 'invalid';

  // A parenthesised trunk prefix, `+44 (0)20 …`, is dialled only nationally: drop it before counting.
  const withoutTrunk = text.replace(/\(0\)/g, '');
  const digits = withoutTrunk.replace(/\D/g, '');
  const groups = withoutTrunk.split(/[\s().\-/]+/).filter((g) => g.length > 0);

  if (text.startsWith('+') || /^00[1-9]/.test(digits)) {
    const international = text.startsWith('+') ? digits : digits.slice(2);
    if (international.length < 8 || international.length > 15 || international.startsWith('0')) return 'invalid';
    if (international.startsWith('1') && !isNanp(international.slice(1))) return 'invalid';
    return 'strong';
  }
  if (digits.length === 10 || (digits.length === 11 && digits.startsWith('1'))) {
    const national = digits.length === 11 ? digits.slice(1) : digits;
    if (isNanp(national)) {
      if (groups.length === 1) return 'weak';
      return NANP_GROUPINGS.has(groups.map((g) => g.replace(/^\+/, '').length).join(',')) ? 'strong' : 'invalid';
    }
  }
  // An E.164 number stored without its `+` (MSISDNs in telecom exports, often as BIGINT).
  if (groups.length === 1 && digits.length >= 11 && digits.length <= 15 && !digits.startsWith('0')) return 'weak';
  if (digits.startsWith('0') && !digits.startsWith('00') && digits.length >= 10 && digits.length <= 11) {
    const shaped = groups.length >= 2 && groups.every((g) => g.length >= 2 && g.length <= 8);
    return shaped ? 'weak' : 'invalid';
  }
  return 'invalid';
}

export function isValidPhone(value: string): boolean {
  return matchPhone(value) !== 'invalid';
}

/** NANP: NXX-NXX-XXXX, N = 2-9. */
function isNanp(tenDigits: string): boolean {
  return /^[2-9]\d{2}[2-9]\d{6}$/.test(tenDigits);
}

function balancedParentheses(text: string): boolean {
  let depth = 0;
  for (const ch of text) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    if (depth < 0 || depth > 1) return false;
  }
  return depth === 0;
}
