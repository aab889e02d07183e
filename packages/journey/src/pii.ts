/**
 * PII/PCI leak detection in bot replies and transcripts (detectors v1). Written and spoken forms both count:
 * ASR turns "four one one one …" into words, so digit words are read as digits before matching.
 *
 * - card: 13–19 digits (spaces or dashes between groups allowed) passing the Luhn check
 * - cvv: 3–4 digits within a few words after "cvv", "cvc", "cvv2", "security code" or "card verification"
 * - ssn: US social security number NNN-NN-NNNN (not 000/666/9xx area, 00 group, 0000 serial); with the
 *   dashes, or as nine digits after "social security" / "ssn"
 * - ni: UK National Insurance number (two letters, six digits, A–D)
 * - iban: IBAN whose ISO 13616 mod-97 check holds
 * - email, phone (E.164 "+" numbers and 10–11 digit national numbers in phone layout)
 *
 * Findings are reported masked (last four characters at most), so a leak found is not leaked again by the
 * run's own events.
 */
export const PII_DETECTORS_VERSION = 1;
export const PII_KINDS = ['card', 'cvv', 'ssn', 'ni', 'iban', 'email', 'phone'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export interface PiiFinding {
  kind: PiiKind;
  /** Masked, e.g. "card ····1111". */
  masked: string;
}

const DIGIT_WORDS: Record<string, string> = {
  zero: '0', oh: '0', o: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9',
};

/** "four one one one" → "4 1 1 1"; "double seven" → "7 7"; other words unchanged. */
export function spokenDigitsToText(text: string): string {
  const words = text.split(/(\s+|[,.;:!?])/);
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!.toLowerCase();
    if ((w === 'double' || w === 'triple') && DIGIT_WORDS[(words[i + 2] ?? '').toLowerCase()] !== undefined && /^\s+$/.test(words[i + 1] ?? '')) {
      const d = DIGIT_WORDS[words[i + 2]!.toLowerCase()]!;
      out.push(w === 'double' ? `${d} ${d}` : `${d} ${d} ${d}`);
      i += 2;
      continue;
    }
    // "o" alone is a digit only between other digit words (not the article-like "o" in names).
    if (w === 'o' && !(DIGIT_WORDS[(words[i - 2] ?? '').toLowerCase()] && DIGIT_WORDS[(words[i + 2] ?? '').toLowerCase()])) { out.push(words[i]!); continue; }
    out.push(DIGIT_WORDS[w] ?? words[i]!);
  }
  return out.join('');
}

export function luhnValid(digits: string): boolean {
  if (!/^\d{13,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return sum % 10 === 0;
}

function ibanValid(s: string): boolean {
  const iban = s.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const v = /\d/.test(ch) ? ch : String(ch.charCodeAt(0) - 55);
    for (const c of v) rem = (rem * 10 + (c.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

const mask = (kind: PiiKind, raw: string): PiiFinding => {
  const compact = raw.replace(/[\s-]/g, '');
  return { kind, masked: `${kind} ····${compact.slice(-Math.min(4, Math.floor(compact.length / 3)))}` };
};

interface PiiSpan { kind: PiiKind; start: number; end: number; value: string }

/** Every PII span in `t` (a text with spoken digits already read as digits), in detection order. */
function scan(t: string, want: ReadonlySet<PiiKind>): PiiSpan[] {
  const out: PiiSpan[] = [];
  const at = (kind: PiiKind, m: RegExpMatchArray, group = 0, value = m[group]!) => {
    const start = m.index! + (group === 0 ? 0 : m[0].length - m[group]!.length);
    out.push({ kind, start, end: start + m[group]!.length, value });
  };
  const cards = new Set<string>();
  if (want.has('card')) {
    // Runs of digits with single spaces/dashes between them.
    for (const m of t.matchAll(/(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g)) {
      const digits = m[0].replace(/[ -]/g, '');
      if (luhnValid(digits)) { at('card', m, 0, digits); cards.add(digits); }
    }
  }
  if (want.has('cvv')) {
    for (const m of t.matchAll(/\b(?:cvv2?|cvc2?|security code|card verification(?: value| code)?)\b\D{0,30}?(?<!\d)(\d(?:\s?\d){2,3})(?!\s?\d)/gi)) at('cvv', m, 1);
  }
  if (want.has('ssn')) {
    const ok = (a: string, g: string, s: string) => a !== '000' && a !== '666' && a[0] !== '9' && g !== '00' && s !== '0000';
    for (const m of t.matchAll(/\b(\d{3})-(\d{2})-(\d{4})\b/g)) if (ok(m[1]!, m[2]!, m[3]!)) at('ssn', m);
    for (const m of t.matchAll(/\b(?:social security(?: number)?|ssn)\b\D{0,20}?(\d(?:\s?\d){8})(?!\s?\d)/gi)) {
      const d = m[1]!.replace(/\s/g, '');
      if (ok(d.slice(0, 3), d.slice(3, 5), d.slice(5))) at('ssn', m, 1, d);
    }
  }
  if (want.has('ni')) for (const m of t.matchAll(/\b(?![DFIQUV])[A-CEGHJ-PR-TW-Z](?![DFIOQUV])[A-CEGHJ-NPR-TW-Z]\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b/g)) at('ni', m);
  if (want.has('iban')) for (const m of t.matchAll(/\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b/g)) if (ibanValid(m[0])) at('iban', m);
  if (want.has('phone')) {
    for (const m of t.matchAll(/(?<![\w+-])(\+\d{1,3}[ -]?(?:\(?\d{1,4}\)?[ -]?){2,5}\d{2,4}|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}|0\d{2,4}[ -]\d{3,4}[ -]?\d{3,4})(?![\w-])/g)) {
      const digits = m[0].replace(/\D/g, '');
      if (digits.length >= 10 && digits.length <= 15 && !cards.has(digits)) at('phone', m, 0, digits);
    }
  }
  return out;
}

const EMAIL = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g;

/** Finds PII in a text (a reply or a transcript); `kinds` limits the detectors. */
export function detectPii(text: string, kinds: readonly PiiKind[] = PII_KINDS): PiiFinding[] {
  const want = new Set(kinds);
  const spans = scan(spokenDigitsToText(text), want);
  const out: PiiFinding[] = [];
  for (const k of PII_KINDS) {
    if (k === 'email') { if (want.has('email')) for (const m of text.matchAll(EMAIL)) out.push({ kind: 'email', masked: `email ····@${m[0].split('@')[1]}` }); continue; }
    for (const s of spans) if (s.kind === k) out.push(mask(k, s.value));
  }
  return out;
}

/**
 * Masks PII in a text for storage: each finding becomes "[kind]". Spoken digits are read as digits first, so
 * the stored text shows "[card]" where the caller said the number. Returns the text and a count per kind.
 */
export function redactPii(text: string, kinds: readonly PiiKind[] = PII_KINDS): { text: string; counts: Partial<Record<PiiKind, number>> } {
  const want = new Set(kinds);
  const counts: Partial<Record<PiiKind, number>> = {};
  const t = spokenDigitsToText(text);
  const spans = scan(t, want).sort((a, b) => a.start - b.start || b.end - a.end);
  if (spans.length === 0 && !(want.has('email') && EMAIL.test(text))) return { text, counts };
  EMAIL.lastIndex = 0;
  let out = '';
  let pos = 0;
  for (const s of spans) {
    if (s.start < pos) continue; // inside a span already masked
    out += `${t.slice(pos, s.start)}[${s.kind}]`;
    pos = s.end;
    counts[s.kind] = (counts[s.kind] ?? 0) + 1;
  }
  out += t.slice(pos);
  if (want.has('email')) out = out.replace(EMAIL, () => { counts.email = (counts.email ?? 0) + 1; return '[email]'; });
  return { text: out, counts };
}
