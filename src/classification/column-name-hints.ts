import type { ClassificationTag } from './classification-types.ts';

/**
 * What a column's name says about its content. Names are normalised into lower-case words (snake,
 * kebab, camel and Pascal case, digits split off: `CustomerEMail2` → customer, e, mail, 2), and each tag
 * lists the word sequences that suggest it. `strong` hints name the data itself (`ssn`, `date_of_birth`),
 * `weak` ones are suggestive but shared with other data (`account`, `mail`, a bare `name`).
 *
 * A name never classifies a column on its own (see column-classifier.ts); it lowers the share of
 * matching values needed and raises the confidence.
 */
export type HintStrength = 'strong' | 'weak';

export interface NameHint {
  readonly tag: ClassificationTag;
  readonly strength: HintStrength;
  /** The words that matched, joined by `_`, e.g. `date_of_birth`. */
  readonly matched: string;
}

interface HintPattern {
  readonly words: readonly string[];
  readonly strength: HintStrength;
}

const hints = (strength: HintStrength, ...patterns: string[]): HintPattern[] =>
  patterns.map((p) => ({ words: p.split('_'), strength }));

const TAG_HINTS: Readonly<Record<ClassificationTag, readonly HintPattern[]>> = {
  'pii.email': [
    ...hints('strong', 'email', 'e_mail', 'emailaddress', 'email_address', 'mailaddress', 'mail_address'),
    ...hints('weak', 'mail'),
  ],
  'pii.phone': [
    ...hints('strong', 'phone', 'telephone', 'tel', 'mobile', 'msisdn', 'fax', 'phonenumber', 'cellphone', 'mobilephone'),
    ...hints('weak', 'cell', 'contact_number', 'contact_no', 'sms', 'whatsapp'),
  ],
  'pii.ssn': [...hints('strong', 'ssn', 'social_security', 'socialsecurity', 'socsec', 'ssnumber')],
  'pii.credit_card': [
    ...hints(
      'strong',
      'credit_card', 'creditcard', 'card_number', 'card_no', 'card_num', 'cardnumber', 'cardno', 'cc_number',
      'ccnumber', 'ccnum', 'ccn', 'pan', 'debit_card', 'payment_card',
    ),
    ...hints('weak', 'card', 'cc'),
  ],
  'pii.iban': [
    ...hints('strong', 'iban', 'bank_account', 'bankaccount'),
    ...hints('weak', 'account', 'acct', 'account_number', 'account_no'),
  ],
  'pii.ip_address': [
    ...hints(
      'strong',
      'ip', 'ipv4', 'ipv6', 'ipaddr', 'ipaddress', 'ip_address', 'ip_addr', 'remote_addr', 'remote_address',
      'peer_addr', 'forwarded_for', 'clientip', 'remoteip', 'sourceip', 'srcip', 'dstip',
    ),
    ...hints('weak', 'addr', 'host_address'),
  ],
  'pii.name': [
    ...hints(
      'strong',
      'full_name', 'fullname', 'first_name', 'firstname', 'last_name', 'lastname', 'given_name', 'givenname',
      'family_name', 'familyname', 'middle_name', 'maiden_name', 'surname', 'forename', 'person_name',
      'patient_name', 'customer_name', 'employee_name', 'contact_name', 'contact_person', 'holder_name',
      'cardholder', 'cardholder_name', 'member_name', 'guest_name', 'passenger_name', 'student_name',
      'recipient_name', 'sender_name', 'beneficiary_name', 'owner_name', 'author_name', 'applicant_name',
    ),
    ...hints('weak', 'name'),
  ],
  'phi.dob': [
    ...hints('strong', 'dob', 'birth', 'birthdate', 'birthday', 'dateofbirth', 'date_of_birth', 'born', 'bdate', 'bday'),
  ],
  'phi.zip': [
    ...hints('strong', 'zip', 'zipcode', 'zip_code', 'postal', 'postcode', 'post_code', 'postalcode', 'plz'),
  ],
};

/**
 * Words saying the column holds something about the data rather than the data itself (`email_count`,
 * `phone_model`, `birth_country`, `card_type`): any of them cancels every hint.
 */
const DESCRIPTOR_WORDS = new Set([
  'count', 'cnt', 'total', 'sum', 'avg', 'min', 'max', 'flag', 'is', 'has', 'type', 'status', 'verified',
  'valid', 'hash', 'hashed', 'md5', 'sha1', 'sha256', 'masked', 'len', 'length', 'opt', 'optin', 'consent',
  'format', 'provider', 'carrier', 'model', 'version', 'expiry', 'expires', 'exp', 'cvv', 'country',
  'domain', 'city', 'place', 'state', 'region', 'brand', 'scheme', 'network', 'bin', 'iin', 'last4',
  'template', 'subject', 'body', 'sent', 'opened', 'bounced',
]);

/** Name words that are things, not people: `product_name`, `file_name`, `user_name` (a login). */
const NON_PERSON_NAME_QUALIFIERS = new Set([
  'product', 'file', 'filename', 'host', 'hostname', 'company', 'org', 'organization', 'organisation',
  'business', 'brand', 'table', 'column', 'field', 'dataset', 'schema', 'db', 'database', 'app',
  'application', 'service', 'server', 'device', 'domain', 'street', 'city', 'country', 'state', 'region',
  'project', 'team', 'group', 'role', 'category', 'item', 'event', 'user', 'screen', 'nick', 'class',
  'type', 'model', 'bucket', 'key', 'queue', 'topic', 'job', 'task', 'branch', 'tag', 'sheet', 'step',
  'site', 'store', 'shop', 'vendor', 'merchant', 'bank', 'plan', 'campaign', 'channel', 'feature',
  'metric', 'label', 'tenant', 'workspace', 'display', 'account', 'department', 'drug', 'medication',
  'trial', 'study', 'course', 'venue', 'hotel', 'airline', 'ship', 'pet', 'variable', 'param',
  'parameter', 'attribute', 'property', 'cluster', 'node', 'pod', 'container', 'image', 'package', 'module',
]);

/** Lower-case words of a column name: separators, case changes and digit runs split it. */
export function columnNameWords(name: string): string[] {
  return name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])(\d)/g, '$1 $2')
    .replace(/(\d)([A-Za-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** The strongest hint per tag that the column name gives, if any. */
export function columnNameHints(name: string): NameHint[] {
  const words = columnNameWords(name);
  if (words.some((w) => DESCRIPTOR_WORDS.has(w))) return [];
  const found: NameHint[] = [];
  for (const [tag, patterns] of Object.entries(TAG_HINTS) as [ClassificationTag, readonly HintPattern[]][]) {
    let best: NameHint | null = null;
    for (const pattern of patterns) {
      if (!containsSequence(words, pattern.words)) continue;
      const stronger = best !== null && best.strength === 'weak' && pattern.strength === 'strong';
      const longer = best !== null && best.strength === pattern.strength && pattern.words.length > best.matched.split('_').length;
      if (best === null || stronger || longer) {
        best = { tag, strength: pattern.strength, matched: pattern.words.join('_') };
      }
    }
    if (best === null) continue;
    if (tag === 'pii.name' && best.strength === 'weak' && words.some((w) => NON_PERSON_NAME_QUALIFIERS.has(w))) continue;
    found.push(best);
  }
  return found;
}

export function nameHintFor(name: string, tag: ClassificationTag): NameHint | null {
  return columnNameHints(name).find((h) => h.tag === tag) ?? null;
}

/** Whether `words` contains `sequence` contiguously; a trailing plural `s` on the last word is allowed. */
function containsSequence(words: readonly string[], sequence: readonly string[]): boolean {
  outer: for (let start = 0; start + sequence.length <= words.length; start++) {
    for (let i = 0; i < sequence.length; i++) {
      const word = words[start + i];
      const expected = sequence[i];
      const last = i === sequence.length - 1;
      if (word !== expected && !(last && word === `${expected}s`)) continue outer;
    }
    return true;
  }
  return false;
}
