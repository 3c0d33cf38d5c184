import type { ClassificationTag, ClassifyOptions, ColumnSample } from './classification-types.ts';
import { CLASSIFICATION_TAGS } from './classification-types.ts';
import { classifyColumn } from './column-classifier.ts';

/**
 * Scores the classifier against columns whose tags are known.
 *
 * A proposal counts as a classification only at confidence ≥ `threshold` (default 0.5, see
 * COUNTED_CONFIDENCE): lower proposals are suggestions a steward may confirm, and counting them would
 * make every name hint a false positive. Per tag: a counted proposal of an expected tag is a true
 * positive, of an unexpected tag a false positive, and an expected tag without a counted proposal a
 * false negative. Overall figures are micro-averaged (counts summed over tags).
 *
 * Conventions for empty denominators: precision is 1 when nothing was proposed, recall is 1 when
 * nothing was expected, so a tag with no examples and no proposals scores 1 and does not hide errors
 * elsewhere; F1 is 0 when precision and recall are both 0.
 */
export const COUNTED_CONFIDENCE = 0.5;

export interface LabelledColumn extends ColumnSample {
  /** Expected tags; empty for decoys. */
  readonly tags: readonly string[];
}

export interface TagScore {
  readonly tag: ClassificationTag;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
  /** Labelled columns expecting the tag. */
  readonly support: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

export interface MisClassification {
  readonly column: string;
  readonly tag: ClassificationTag;
  /** Confidence of the proposal (0 when the expected tag was not proposed at all). */
  readonly confidence: number;
  readonly evidence: string;
}

export interface ClassifierEvaluation {
  readonly threshold: number;
  readonly columns: number;
  readonly decoys: number;
  readonly perTag: readonly TagScore[];
  readonly overall: Omit<TagScore, 'tag'>;
  readonly falsePositives: readonly MisClassification[];
  /** False positives on columns that expect no tag at all. */
  readonly decoyHits: readonly MisClassification[];
  readonly falseNegatives: readonly MisClassification[];
}

export interface EvaluationOptions extends ClassifyOptions {
  readonly threshold?: number;
}

export function evaluateClassifier(
  labelled: readonly LabelledColumn[],
  options: EvaluationOptions = {},
): ClassifierEvaluation {
  const threshold = options.threshold ?? COUNTED_CONFIDENCE;
  const known = new Set<string>(CLASSIFICATION_TAGS);
  const counts = new Map(CLASSIFICATION_TAGS.map((t) => [t, { tp: 0, fp: 0, fn: 0, support: 0 }]));
  const falsePositives: MisClassification[] = [];
  const decoyHits: MisClassification[] = [];
  const falseNegatives: MisClassification[] = [];

  for (const column of labelled) {
    const expected = new Set(column.tags.filter((t) => known.has(t)));
    const proposals = classifyColumn(column, options);
    const counted = proposals.filter((p) => p.confidence >= threshold);
    for (const tag of CLASSIFICATION_TAGS) {
      const c = counts.get(tag);
      if (c === undefined) continue;
      const proposal = counted.find((p) => p.tag === tag);
      if (expected.has(tag)) c.support++;
      if (proposal !== undefined && expected.has(tag)) c.tp++;
      else if (proposal !== undefined) {
        c.fp++;
        const miss = { column: column.name, tag, confidence: proposal.confidence, evidence: proposal.evidence };
        falsePositives.push(miss);
        if (expected.size === 0) decoyHits.push(miss);
      } else if (expected.has(tag)) {
        c.fn++;
        const below = proposals.find((p) => p.tag === tag);
        falseNegatives.push({
          column: column.name,
          tag,
          confidence: below?.confidence ?? 0,
          evidence: below?.evidence ?? 'not proposed',
        });
      }
    }
  }

  const perTag = CLASSIFICATION_TAGS.map((tag) => {
    const c = counts.get(tag) ?? { tp: 0, fp: 0, fn: 0, support: 0 };
    return { tag, ...score(c.tp, c.fp, c.fn, c.support) };
  });
  const sum = (pick: (s: TagScore) => number): number => perTag.reduce((acc, s) => acc + pick(s), 0);
  const overall = score(
    sum((s) => s.truePositives),
    sum((s) => s.falsePositives),
    sum((s) => s.falseNegatives),
    sum((s) => s.support),
  );
  return {
    threshold,
    columns: labelled.length,
    decoys: labelled.filter((c) => c.tags.length === 0).length,
    perTag,
    overall,
    falsePositives,
    decoyHits,
    falseNegatives,
  };
}

function score(tp: number, fp: number, fn: number, support: number): Omit<TagScore, 'tag'> {
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { truePositives: tp, falsePositives: fp, falseNegatives: fn, support, precision, recall, f1 };
}

/** A fixed-width text table of an evaluation, for test output and the CLI. */
export function formatEvaluationTable(evaluation: ClassifierEvaluation): string {
  const header = ['tag', 'support', 'tp', 'fp', 'fn', 'precision', 'recall', 'f1'];
  const row = (name: string, s: Omit<TagScore, 'tag'>): string[] => [
    name,
    String(s.support),
    String(s.truePositives),
    String(s.falsePositives),
    String(s.falseNegatives),
    s.precision.toFixed(3),
    s.recall.toFixed(3),
    s.f1.toFixed(3),
  ];
  const rows = [header, ...evaluation.perTag.map((s) => row(s.tag, s)), row('overall (micro)', evaluation.overall)];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.slice(1, -1).map(line), rule, line(rows[rows.length - 1] ?? [])].join('\n');
}
