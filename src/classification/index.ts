/**
 * Automatic column classification: proposes sensitivity tags (pii.email, pii.ssn, phi.dob, …) for
 * columns from their names and a sample of their values. Pure logic, no I/O: the caller samples values
 * (through the engine) and decides what to do with the proposals.
 */
export { CLASSIFICATION_TAGS } from './classification-types.ts';
export type {
  ClassificationProposal,
  ClassificationTag,
  ClassifyOptions,
  ColumnSample,
  ValueMatch,
} from './classification-types.ts';
export { classifyColumn, classifyColumns } from './column-classifier.ts';
export { COUNTED_CONFIDENCE, evaluateClassifier, formatEvaluationTable } from './classifier-evaluation.ts';
export type {
  ClassifierEvaluation,
  EvaluationOptions,
  LabelledColumn,
  MisClassification,
  TagScore,
} from './classifier-evaluation.ts';
export { columnNameHints, columnNameWords } from './column-name-hints.ts';
export type { HintStrength, NameHint } from './column-name-hints.ts';
export { typeFamily } from './column-type-family.ts';
export type { TypeFamily } from './column-type-family.ts';
export { isValidEmail } from './email-validator.ts';
export { isValidPhone, matchPhone } from './phone-validator.ts';
export { isValidSsn, matchSsn } from './ssn-validator.ts';
export { cardDigits, cardScheme, isValidCreditCard, passesLuhn } from './credit-card-validator.ts';
export type { CardScheme } from './credit-card-validator.ts';
export { ibanCompact, ibanMod97, isValidIban } from './iban-validator.ts';
export { ipVersion, isValidIpAddress, looksLikeVersionNumber } from './ip-address-validator.ts';
export type { IpVersion } from './ip-address-validator.ts';
export { isValidPersonName, matchPersonName } from './person-name-validator.ts';
export { parseDateValue } from './date-value-parser.ts';
export type { ParsedDate } from './date-value-parser.ts';
export { ageInYears, isValidDateOfBirth, matchDateOfBirth } from './date-of-birth-validator.ts';
export { isValidZipCode, isZipPlus4, matchZipCode } from './zip-code-validator.ts';
