/**
 * Text normalisation before scoring, applied identically to reference and hypothesis (version 1):
 *   1. Unicode NFKC, lower case.
 *   2. Numbers become words: "42" → "forty two", "3.5" → "three point five", "1,250" → "one thousand two hundred
 *      fifty", "10%" → "ten percent", "$5" → "five dollars"; ordinals "1st" → "first".
 *   3. Punctuation is removed, except an apostrophe inside a word ("don't"); hyphens and slashes split words.
 *   4. White space collapses; the result is the list of words.
 * `NORMALISATION_VERSION` changes whenever a rule changes, so stored scores say which rules produced them.
 */
export const NORMALISATION_VERSION = 1;

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALES: Array<[number, string]> = [[1e12, 'trillion'], [1e9, 'billion'], [1e6, 'million'], [1e3, 'thousand']];
const ORDINAL: Record<string, string> = { one: 'first', two: 'second', three: 'third', five: 'fifth', eight: 'eighth', nine: 'ninth', twelve: 'twelfth' };

function under1000(n: number): string[] {
  const out: string[] = [];
  if (n >= 100) { out.push(ONES[Math.floor(n / 100)]!, 'hundred'); n %= 100; }
  if (n >= 20) { out.push(TENS[Math.floor(n / 10)]!); n %= 10; if (n) out.push(ONES[n]!); }
  else if (n > 0 || out.length === 0) out.push(ONES[n]!);
  return out;
}

/** Integer to English words ("1250" → ["one", "thousand", "two", "hundred", "fifty"]). */
export function integerWords(n: number): string[] {
  if (!Number.isSafeInteger(n) || n < 0) return String(n).split('').map((d) => ONES[Number(d)] ?? d);
  if (n < 1000) return under1000(n);
  const out: string[] = [];
  for (const [value, name] of SCALES) {
    if (n >= value) { out.push(...under1000(Math.floor(n / value)), name); n %= value; }
  }
  if (n > 0) out.push(...under1000(n));
  return out;
}

function ordinalWords(n: number): string[] {
  const w = integerWords(n);
  const last = w.at(-1)!;
  w[w.length - 1] = ORDINAL[last] ?? (last.endsWith('y') ? `${last.slice(0, -1)}ieth` : `${last}th`);
  return w;
}

function numberToken(tok: string): string {
  // tok is digits with optional thousands separators, decimal part, ordinal suffix, % or currency.
  const m = /^([$€£]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th|%)?$/.exec(tok);
  if (!m) return tok;
  const [, cur, int, frac, suf] = m;
  const n = Number(int!.replaceAll(',', ''));
  let words = suf && suf !== '%' ? ordinalWords(n) : integerWords(n);
  if (frac) words = [...words, 'point', ...frac.split('').map((d) => ONES[Number(d)]!)];
  if (suf === '%') words.push('percent');
  if (cur) words.push(cur === '$' ? 'dollars' : cur === '€' ? 'euros' : 'pounds');
  return words.join(' ');
}

export function normaliseWords(text: string): string[] {
  let t = text.normalize('NFKC').toLowerCase();
  t = t.replace(/[$€£]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:st|nd|rd|th|%)?/g, (tok) => ` ${numberToken(tok)} `);
  t = t.replace(/[-–—/]/g, ' ');
  t = t.replace(/(^|[^\p{L}\p{N}])'+|'+(?=[^\p{L}\p{N}]|$)/gu, '$1'); // apostrophes not inside a word
  t = t.replace(/[^\p{L}\p{N}'\s]/gu, ' ');
  return t.split(/\s+/).filter(Boolean);
}
