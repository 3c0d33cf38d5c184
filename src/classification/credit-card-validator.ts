/**
 * Payment card numbers (PANs): 13-19 digits, optionally grouped by single spaces or dashes, whose
 * issuer identification number (IIN) belongs to a known scheme with a length that scheme issues, and
 * whose last digit is the Luhn check digit (ISO/IEC 7812-1 Annex B).
 * @see https://en.wikipedia.org/wiki/Payment_card_number#Issuer_identification_number_(IIN)
 */
export type CardScheme =
  | 'visa'
  | 'mastercard'
  | 'amex'
  | 'discover'
  | 'jcb'
  | 'diners'
  | 'unionpay'
  | 'maestro';

interface SchemeRange {
  readonly scheme: CardScheme;
  /** Inclusive range over the first `prefixLength` digits. */
  readonly from: number;
  readonly to: number;
  readonly prefixLength: number;
  readonly lengths: readonly number[];
}

const range = (
  scheme: CardScheme,
  from: number,
  to: number,
  lengths: readonly number[],
): SchemeRange => ({ scheme, from, to, prefixLength: String(from).length, lengths });

const SIXTEEN_TO_NINETEEN = [16, 17, 18, 19] as const;

/** Longer, more specific prefixes first, so Discover's 622126-622925 wins over UnionPay's 62. */
const SCHEME_RANGES: readonly SchemeRange[] = [
  range('discover', 622126, 622925, SIXTEEN_TO_NINETEEN),
  range('maestro', 676770, 676770, [12, 13, 14, 15, 16, 17, 18, 19]),
  range('maestro', 676774, 676774, [12, 13, 14, 15, 16, 17, 18, 19]),
  range('mastercard', 2221, 2720, [16]),
  range('discover', 6011, 6011, SIXTEEN_TO_NINETEEN),
  range('jcb', 3528, 3589, SIXTEEN_TO_NINETEEN),
  range('maestro', 6304, 6304, [12, 13, 14, 15, 16, 17, 18, 19]),
  range('maestro', 6759, 6759, [12, 13, 14, 15, 16, 17, 18, 19]),
  range('diners', 300, 305, [14, 15, 16, 17, 18, 19]),
  range('discover', 644, 649, SIXTEEN_TO_NINETEEN),
  range('amex', 34, 34, [15]),
  range('amex', 37, 37, [15]),
  range('diners', 36, 36, [14, 15, 16, 17, 18, 19]),
  range('diners', 38, 39, [16, 17, 18, 19]),
  range('mastercard', 51, 55, [16]),
  range('maestro', 50, 50, [12, 13, 14, 15, 16, 17, 18, 19]),
  range('maestro', 56, 58, [12, 13, 14, 15, 16, 17, 18, 19]),
  range('discover', 65, 65, SIXTEEN_TO_NINETEEN),
  range('unionpay', 62, 62, SIXTEEN_TO_NINETEEN),
  range('visa', 4, 4, [13, 16, 19]),
];

/** Digits grouped by one consistent separator: `4111111111111111`, `4111 1111 1111 1111`, `3782-822463-10005`. */
const CARD_TEXT = /^\d+(?:([ -])\d+(?:\1\d+)*)?$/;

/** The digits of a card number, or null when the text is not shaped like one. */
export function cardDigits(value: string): string | null {
  const text = value.trim();
  if (!CARD_TEXT.test(text)) return null;
  const digits = text.replace(/[ -]/g, '');
  return digits.length >= 13 && digits.length <= 19 ? digits : null;
}

/** Luhn mod-10 check over a digit string. */
export function passesLuhn(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** The card scheme whose IIN range and lengths fit the digits, or null. */
export function cardScheme(digits: string): CardScheme | null {
  for (const r of SCHEME_RANGES) {
    if (digits.length < r.prefixLength) continue;
    const prefix = Number(digits.slice(0, r.prefixLength));
    if (prefix >= r.from && prefix <= r.to && r.lengths.includes(digits.length)) return r.scheme;
  }
  return null;
}

export function isValidCreditCard(value: string): boolean {
  const digits = cardDigits(value);
  return digits !== null && cardScheme(digits) !== null && passesLuhn(digits);
}
