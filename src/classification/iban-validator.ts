/**
 * International Bank Account Numbers (ISO 13616): two-letter country code, two check digits (02-98),
 * then the national BBAN; the length is fixed per country, and the whole number, rearranged with the
 * first four characters moved to the end and letters expanded to 10..35, is ≡ 1 (mod 97) (ISO 7064).
 * Accepts the electronic form (`GB82WEST12345698765432`) and the print form in groups of four
 * (`GB82 WEST 1234 5698 7654 32`), in either case.
 * @see https://www.swift.com/standards/data-standards/iban-international-bank-account-number
 */

/** Total IBAN length per country, from SWIFT's IBAN registry. Unlisted countries only need 15-34. */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22,
  IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31,
  SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
  VA: 22, VG: 24, XK: 20,
};

const ELECTRONIC = /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/;
/** Print form: groups of four separated by single spaces, the last group 1-4 characters. */
const PRINT = /^[A-Z0-9]{4}(?: [A-Z0-9]{4})* [A-Z0-9]{1,4}$/;

/** The electronic form of an IBAN-shaped text (spaces removed, upper case), or null. */
export function ibanCompact(value: string): string | null {
  const text = value.trim().toUpperCase();
  const compact = text.includes(' ') ? (PRINT.test(text) ? text.replace(/ /g, '') : null) : text;
  return compact !== null && ELECTRONIC.test(compact) ? compact : null;
}

/** ISO 7064 MOD 97-10 over the rearranged IBAN, computed in chunks to stay within safe integers. */
export function ibanMod97(compact: string): number {
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const n = code >= 65 ? code - 55 : code - 48; // 'A' → 10 … 'Z' → 35
    remainder = (remainder * (n >= 10 ? 100 : 10) + n) % 97;
  }
  return remainder;
}

export function isValidIban(value: string): boolean {
  const compact = ibanCompact(value);
  if (compact === null) return false;
  const expected = IBAN_LENGTHS[compact.slice(0, 2)];
  if (expected !== undefined ? compact.length !== expected : compact.length < 15 || compact.length > 34) return false;
  const check = Number(compact.slice(2, 4));
  return check >= 2 && check <= 98 && ibanMod97(compact) === 1;
}
