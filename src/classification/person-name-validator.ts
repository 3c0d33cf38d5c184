import type { ValueMatch } from './classification-types.ts';
import { GIVEN_NAMES, NON_PERSON_WORDS, SURNAMES } from './person-name-lists.ts';

/**
 * Person names: 1-4 capitalised words of letters, hyphens and apostrophes (`Mary`, `Jean-Luc Picard`,
 * `Siobhan O'Brien`, `Ludwig van Beethoven`), optionally with initials, a title (`Dr.`) or a suffix
 * (`Jr.`), in `First Last` or `Last, First` order, entirely in upper case (`JOHN SMITH`), or in lower
 * case when every word is a known name (`john smith`).
 *
 * Shape alone is weak evidence: product names, cities and statuses are capitalised words too. A value is
 * strong when at least one word is a common given name or surname from the embedded lists; a word that
 * names organisations or places (`Inc`, `Street`, `University`) rejects it.
 */
const TITLES = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'dame']);
const SUFFIXES = new Set(['jr', 'sr', 'ii', 'iii', 'iv', 'phd', 'md']);
const PARTICLES = new Set([
  'van', 'von', 'de', 'der', 'den', 'del', 'della', 'da', 'di', 'du', 'dos', 'das', 'la', 'le', 'bin',
  'binti', 'al', 'el', 'ibn', 'y', 'ter', 'ten', 'zu',
]);
const INITIAL = /^\p{Lu}\.?$/u;
/** A capitalised word; inner capitals allowed after Mc/Mac/O' and hyphens (McDonald, O'Neil, Smith-Jones). */
const WORD = /^\p{Lu}\p{L}*(?:['’-]\p{Lu}?\p{L}+)*$/u;
const MAX_NAME_WORDS = 4;

export function matchPersonName(value: string): ValueMatch {
  const words = nameWords(value);
  if (words === null) return 'invalid';
  if (value === value.toLowerCase()) return matchLowerCaseName(words);
  const upperCase = value === value.toUpperCase();
  let nameWordCount = 0;
  let known = false;
  for (const word of words) {
    const key = lookupKey(word);
    if (NON_PERSON_WORDS.has(key)) return 'invalid';
    if (PARTICLES.has(word)) continue; // lower-case particles only: `Van` is a word like any other
    if (INITIAL.test(word)) {
      nameWordCount++;
      continue;
    }
    if (!WORD.test(word) || word.length < 2) return 'invalid';
    // Mixed case is how names are written; reject all-caps words inside mixed-case text (SKU codes).
    if (!upperCase && !/\p{Ll}/u.test(word)) return 'invalid';
    nameWordCount++;
    if (key.split('-').some((part) => GIVEN_NAMES.has(part) || SURNAMES.has(part))) known = true;
  }
  // Initials count towards the word limit but a name needs at least one written-out word.
  if (nameWordCount > MAX_NAME_WORDS || words.every((w) => INITIAL.test(w) || PARTICLES.has(w))) return 'invalid';
  return known ? 'strong' : 'weak';
}

export function isValidPersonName(value: string): boolean {
  return matchPersonName(value) !== 'invalid';
}

/**
 * `john smith`: user-typed names often lack capitals, but so does free text (`great service`), so in
 * lower case every word must be a known given name or surname.
 */
function matchLowerCaseName(words: readonly string[]): ValueMatch {
  const nameWords = words.filter((w) => !PARTICLES.has(w));
  if (nameWords.length === 0 || nameWords.length > MAX_NAME_WORDS) return 'invalid';
  const allKnown = nameWords.every((w) => /^\p{Ll}+$/u.test(w) && (GIVEN_NAMES.has(lookupKey(w)) || SURNAMES.has(lookupKey(w))));
  return allKnown ? 'strong' : 'invalid';
}

/** The words of a name in `First … Last` order without title and suffix, or null when it is not name-like. */
function nameWords(value: string): string[] | null {
  const text = value.trim().replace(/\s+/g, ' ');
  if (text.length === 0 || text.length > 80) return null;
  const parts = text.split(',');
  if (parts.length > 2) return null;
  let words: string[];
  if (parts.length === 2) {
    const last = (parts[0] ?? '').trim();
    const first = (parts[1] ?? '').trim();
    if (last === '' || first === '') return null;
    words = [...first.split(' '), ...last.split(' ')];
  } else {
    words = text.split(' ');
  }
  while (words.length > 0 && TITLES.has(lookupKey(words[0] ?? '').replace(/\.$/, ''))) words.shift();
  while (words.length > 0 && SUFFIXES.has(lookupKey(words[words.length - 1] ?? '').replace(/\.$/, ''))) words.pop();
  return words.length > 0 ? words : null;
}

/** Lower case, diacritics and apostrophes removed: `O'Brien` → `obrien`, `Müller` → `muller`. */
function lookupKey(word: string): string {
  return word
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/['’]/g, '')
    .toLowerCase();
}
