import type { ClassificationTag, ValueMatch } from './classification-types.ts';
import type { TypeFamily } from './column-type-family.ts';
import { cardDigits, cardScheme, passesLuhn } from './credit-card-validator.ts';
import { ageInYears, matchDateOfBirth } from './date-of-birth-validator.ts';
import { isValidEmail } from './email-validator.ts';
import { isValidIban } from './iban-validator.ts';
import { ipVersion, looksLikeVersionNumber } from './ip-address-validator.ts';
import { matchPersonName } from './person-name-validator.ts';
import { matchPhone } from './phone-validator.ts';
import { matchSsn } from './ssn-validator.ts';
import { matchZipCode } from './zip-code-validator.ts';

/**
 * One entry per tag: which column types can hold it, how a value is checked, how much a passing value
 * means, and what the column needs without a name hint. The classifier (column-classifier.ts) applies
 * the same decision procedure to every rule.
 */
export interface MatchContext {
  readonly family: TypeFamily;
  readonly now: Date;
}

export interface TagRule {
  readonly tag: ClassificationTag;
  readonly families: ReadonlySet<TypeFamily>;
  match(value: string, context: MatchContext): ValueMatch;
  /**
   * Confidence a column of only strong matches earns on values alone: how rarely unrelated data passes
   * the check (a mod-97 IBAN almost never by chance, a capitalised word often).
   */
  readonly specificity: number;
  /** Shares of strong and of all matching values needed without a name hint; null: a hint is required. */
  readonly withoutHint: { readonly strongShare: number; readonly validShare: number } | null;
  /**
   * Column-level reason to withhold an unhinted proposal although enough values match, e.g. IPv4 values
   * that look like 4-part version numbers. Receives the values that matched.
   */
  vetoWithoutHint?(matching: readonly string[], context: MatchContext): string | null;
  /**
   * For tags that need a hint (dates of birth): a note when the matching values on their own still look
   * like this tag, giving a low-confidence proposal for a steward to look at.
   */
  suggestWithoutHint?(matching: readonly string[], context: MatchContext): string | null;
  /** True for tags whose values are hard to validate, where a name hint alone may give a low-confidence proposal. */
  readonly nameOnly: boolean;
  /** Evidence wording: "are <valid>", "<strongForm>" for the strong subset, "name suggests <hint>". */
  readonly describe: { readonly valid: string; readonly strongForm: string | null; readonly hint: string };
}

const families = (...list: TypeFamily[]): ReadonlySet<TypeFamily> => new Set(list);
const strongIf = (ok: boolean): ValueMatch => (ok ? 'strong' : 'invalid');
const DEFAULT_WITHOUT_HINT = { strongShare: 0.8, validShare: 0.8 } as const;

export const TAG_RULES: readonly TagRule[] = [
  {
    tag: 'pii.email',
    families: families('text'),
    match: (v) => strongIf(isValidEmail(v)),
    specificity: 0.97,
    withoutHint: DEFAULT_WITHOUT_HINT,
    nameOnly: false,
    describe: { valid: 'valid email addresses', strongForm: null, hint: 'an email address' },
  },
  {
    tag: 'pii.phone',
    families: families('text', 'integer'),
    match: (v) => matchPhone(v),
    specificity: 0.9,
    withoutHint: DEFAULT_WITHOUT_HINT,
    nameOnly: false,
    describe: {
      valid: 'phone numbers',
      strongForm: 'in international or separated NANP form',
      hint: 'a phone number',
    },
  },
  {
    tag: 'pii.ssn',
    families: families('text', 'integer'),
    // Integer columns drop leading zeros: 012345678 arrives as 12345678.
    match: (v, c) => matchSsn(c.family === 'integer' && /^\d{7,8}$/.test(v) ? v.padStart(9, '0') : v),
    specificity: 0.95,
    withoutHint: DEFAULT_WITHOUT_HINT,
    nameOnly: false,
    describe: {
      valid: 'SSNs passing the area/group/serial rules',
      strongForm: 'in AAA-GG-SSSS form',
      hint: 'a social security number',
    },
  },
  {
    tag: 'pii.credit_card',
    families: families('text', 'integer'),
    match: (v) => {
      const digits = cardDigits(v);
      return strongIf(digits !== null && cardScheme(digits) !== null && passesLuhn(digits));
    },
    specificity: 0.97,
    withoutHint: DEFAULT_WITHOUT_HINT,
    nameOnly: false,
    describe: { valid: 'card numbers with a known IIN and a valid Luhn check digit', strongForm: null, hint: 'a card number' },
  },
  {
    tag: 'pii.iban',
    families: families('text'),
    match: (v) => strongIf(isValidIban(v)),
    specificity: 0.99,
    withoutHint: DEFAULT_WITHOUT_HINT,
    nameOnly: false,
    describe: { valid: 'valid IBANs (country length, mod-97)', strongForm: null, hint: 'an account number' },
  },
  {
    tag: 'pii.ip_address',
    families: families('text'),
    match: (v) => strongIf(ipVersion(v) !== null),
    specificity: 0.95,
    withoutHint: DEFAULT_WITHOUT_HINT,
    vetoWithoutHint: (matching) => {
      const versionLike = matching.filter(looksLikeVersionNumber).length;
      return versionLike * 2 >= matching.length
        ? `${versionLike} of them are dotted quads of small numbers, which version strings look like too`
        : null;
    },
    nameOnly: false,
    describe: { valid: 'IP addresses (IPv4 or IPv6)', strongForm: null, hint: 'an IP address' },
  },
  {
    tag: 'pii.name',
    families: families('text'),
    match: (v) => matchPersonName(v),
    specificity: 0.85,
    withoutHint: { strongShare: 0.7, validShare: 0.9 },
    nameOnly: true,
    describe: {
      valid: 'shaped like person names',
      strongForm: 'containing a common given name or surname',
      hint: 'a person name',
    },
  },
  {
    tag: 'phi.dob',
    families: families('text', 'date', 'timestamp', 'integer'),
    match: (v, c) => matchDateOfBirth(v, c.now),
    specificity: 0.6,
    withoutHint: null,
    suggestWithoutHint: (matching, c) => {
      const ages = matching.map((v) => ageInYears(v, c.now)).filter((a): a is number => a !== null);
      if (ages.length < 10) return null;
      ages.sort((a, b) => a - b);
      const youngest = ages[0] ?? 0;
      const oldest = ages[ages.length - 1] ?? 0;
      const median = ages[Math.floor(ages.length / 2)] ?? 0;
      // Birth dates of adults spread over decades; event dates cluster within a few recent years.
      return oldest - youngest >= 25 && median >= 18 && median <= 90
        ? 'the dates span decades like birth dates, but the name does not say birth'
        : null;
    },
    nameOnly: false,
    describe: { valid: 'dates between 1900 and today without a time of day', strongForm: null, hint: 'a date of birth' },
  },
  {
    tag: 'phi.zip',
    families: families('text', 'integer'),
    match: (v, c) => matchZipCode(v, c.family === 'integer'),
    specificity: 0.85,
    withoutHint: DEFAULT_WITHOUT_HINT,
    nameOnly: false,
    describe: { valid: 'US ZIP codes', strongForm: 'in ZIP+4 form', hint: 'a postal code' },
  },
];
