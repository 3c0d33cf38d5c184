import type { ValueMatch } from './classification-types.ts';

/**
 * US ZIP codes: five digits (`02139`) or ZIP+4 (`02139-4307`). ZIP+4 is strong evidence; five bare
 * digits are weak, being also what quantities, prices in cents and short ids look like. `00000` is
 * never assigned. Integer columns lose leading zeros (`2139`), so with `integerColumn` 3-4 digit
 * values are read left-padded to five.
 * @see https://pe.usps.com/text/pub28/28c2_001.htm
 */
const ZIP5 = /^\d{5}$/;
const ZIP_PLUS_4 = /^(\d{5})-\d{4}$/;
const UNPADDED = /^\d{3,4}$/;

export function matchZipCode(value: string, integerColumn = false): ValueMatch {
  const text = value.trim();
  const plus4 = ZIP_PLUS_4.exec(text);
  if (plus4) return plus4[1] === '00000' ? 'invalid' : 'strong';
  if (ZIP5.test(text)) return text === '00000' ? 'invalid' : 'weak';
  if (integerColumn && UNPADDED.test(text) && Number(text) >= 100) return 'weak';
  return 'invalid';
}

export function isValidZipCode(value: string): boolean {
  return matchZipCode(value) !== 'invalid';
}

/** True for the ZIP+4 form alone. */
export function isZipPlus4(value: string): boolean {
  return matchZipCode(value) === 'strong';
}
