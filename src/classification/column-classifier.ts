import type {
  ClassificationProposal,
  ClassifyOptions,
  ColumnSample,
} from './classification-types.ts';
import { CLASSIFICATION_TAGS } from './classification-types.ts';
import { columnNameHints, type NameHint } from './column-name-hints.ts';
import { typeFamily } from './column-type-family.ts';
import { TAG_RULES, type MatchContext, type TagRule } from './tag-rules.ts';

/**
 * Proposes tags for a column from its name, type and sampled values.
 *
 * Decision per tag (rules in tag-rules.ts), over the non-null sample values:
 * - strong name hint (`ssn`, `date_of_birth`): at least half the values match, weak forms included;
 * - weak name hint (`account`, a bare `name`): at least half the values are strong matches;
 * - no hint: the rule's shares of strong and of all matches (80% by default), and no column-level veto;
 *   tags whose values are never specific enough on their own (dates of birth) need a hint.
 *
 * Confidence combines the value evidence v = specificity × (strong + ½·weak) / n with the hint's prior h
 * (0.7 strong, 0.4 weak) as 1 − (1 − v)(1 − h), and is scaled down for samples under 20 values.
 * Below those bars a column may still get a low-confidence proposal (< 0.5) that a steward can confirm:
 * a name hint over hard-to-validate values (person names), dates that look like birth dates without a
 * hint, a vetoed match, or an all-null sample under a strong hint. Evaluation counts only ≥ 0.5.
 */
const HINT_PRIOR = { strong: 0.7, weak: 0.4 } as const;
const WEAK_MATCH_WEIGHT = 0.5;
const FULL_SAMPLE = 20;
const MAX_CONFIDENCE = 0.99;
/** Confidences of the low-confidence proposals described above, all below the 0.5 counting threshold. */
const LOW_CONFIDENCE = { nameOnlyStrong: 0.45, nameOnlyWeak: 0.3, suggestion: 0.4, vetoed: 0.4, emptySample: 0.3 } as const;

/** Text that stands for a missing value in exports and spreadsheets. */
const NULL_PLACEHOLDERS = new Set(['', 'null', 'nil', 'none', 'n/a', 'na', '-', '--', '?', 'unknown', '#n/a']);

export function classifyColumn(input: ColumnSample, options: ClassifyOptions = {}): ClassificationProposal[] {
  const context: MatchContext = { family: typeFamily(input.type), now: options.now ?? new Date() };
  const values: string[] = [];
  for (const raw of input.values) {
    if (raw === null) continue;
    const value = raw.trim();
    if (!NULL_PLACEHOLDERS.has(value.toLowerCase())) values.push(value);
  }
  const nulls = input.values.length - values.length;
  const hints = new Map(columnNameHints(input.name).map((h) => [h.tag, h]));

  const proposals: ClassificationProposal[] = [];
  for (const rule of TAG_RULES) {
    if (!rule.families.has(context.family)) continue;
    const outcome = assess(rule, values, hints.get(rule.tag) ?? null, context);
    if (outcome === null) continue;
    const notes = nulls > 0 ? [...outcome.notes, `${nulls} null or empty value${nulls === 1 ? '' : 's'} not counted`] : outcome.notes;
    proposals.push({ column: input.name, tag: rule.tag, confidence: round2(outcome.confidence), evidence: notes.join('; ') });
  }
  return proposals.sort(
    (a, b) => b.confidence - a.confidence || CLASSIFICATION_TAGS.indexOf(a.tag) - CLASSIFICATION_TAGS.indexOf(b.tag),
  );
}

/** Proposals for every column of a dataset, in column order. */
export function classifyColumns(columns: readonly ColumnSample[], options: ClassifyOptions = {}): ClassificationProposal[] {
  return columns.flatMap((column) => classifyColumn(column, options));
}

interface Outcome {
  readonly confidence: number;
  readonly notes: string[];
}

function assess(rule: TagRule, values: readonly string[], hint: NameHint | null, context: MatchContext): Outcome | null {
  const hintNote = hint === null ? null : `name ${hint.strength === 'weak' ? 'may suggest' : 'suggests'} ${rule.describe.hint}`;
  const n = values.length;
  if (n === 0) {
    return hint?.strength === 'strong'
      ? { confidence: LOW_CONFIDENCE.emptySample, notes: ['no non-null values in the sample', ...(hintNote === null ? [] : [hintNote])] }
      : null;
  }

  const matching: string[] = [];
  let strong = 0;
  let weak = 0;
  for (const value of values) {
    const match = rule.match(value, context);
    if (match === 'invalid') continue;
    matching.push(value);
    if (match === 'strong') strong++;
    else weak++;
  }
  const strongShare = strong / n;
  const validShare = (strong + weak) / n;
  const notes = [valueNote(rule, n, strong, weak)];
  if (hintNote !== null) notes.push(hintNote);

  const sampleFactor = Math.min(1, 0.6 + (0.4 * n) / FULL_SAMPLE);
  const valueEvidence = (rule.specificity * (strong + WEAK_MATCH_WEIGHT * weak)) / n;

  if (hint !== null) {
    const enough = hint.strength === 'strong' ? validShare >= 0.5 : strongShare >= 0.5;
    if (enough) {
      const combined = 1 - (1 - valueEvidence) * (1 - HINT_PRIOR[hint.strength]);
      return { confidence: Math.min(MAX_CONFIDENCE, combined * sampleFactor), notes };
    }
    if (rule.nameOnly && (hint.strength === 'strong' || validShare >= 0.5)) {
      notes.push('values alone do not confirm it');
      const low = hint.strength === 'strong' ? LOW_CONFIDENCE.nameOnlyStrong : LOW_CONFIDENCE.nameOnlyWeak;
      return { confidence: low, notes };
    }
    return null;
  }

  if (rule.withoutHint === null) {
    const note = validShare >= 0.8 ? (rule.suggestWithoutHint?.(matching, context) ?? null) : null;
    return note === null ? null : { confidence: LOW_CONFIDENCE.suggestion, notes: [...notes, note] };
  }
  if (strongShare < rule.withoutHint.strongShare || validShare < rule.withoutHint.validShare) return null;
  const veto = rule.vetoWithoutHint?.(matching, context) ?? null;
  if (veto !== null) return { confidence: LOW_CONFIDENCE.vetoed, notes: [...notes, veto, 'no name hint'] };
  return { confidence: Math.min(MAX_CONFIDENCE, valueEvidence * sampleFactor), notes };
}

/** "97 of 100 sampled values are valid IBANs (…)", with the strong subset when the rule has weak forms. */
function valueNote(rule: TagRule, n: number, strong: number, weak: number): string {
  const base = `${strong + weak} of ${n} sampled values are ${rule.describe.valid}`;
  if (rule.describe.strongForm === null || strong + weak === 0) return base;
  const strongCount = weak === 0 ? 'all' : strong === 0 ? 'none' : String(strong);
  return `${base} (${strongCount} ${rule.describe.strongForm})`;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
