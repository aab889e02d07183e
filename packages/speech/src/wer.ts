/**
 * Word and character error rates with the alignment NIST sclite uses: dynamic programming with weights
 * correct 0, substitution 4, insertion 3, deletion 3, traced back from the end preferring substitution/match,
 * then deletion, then insertion. The same reference/hypothesis pairs give the same C/S/D/I as sclite (a test
 * checks it against sclite on 100+ pairs when sclite is installed).
 *   WER = (S + D + I) / (S + D + C)   (the reference length), reported in percent by the CLI.
 */
import { normaliseWords } from './normalise.ts';

export type AlignOp = 'C' | 'S' | 'D' | 'I';

export interface Alignment {
  ops: Array<{ op: AlignOp; ref: string | null; hyp: string | null }>;
  correct: number;
  substitutions: number;
  deletions: number;
  insertions: number;
}

export interface ErrorRate extends Alignment {
  /** Reference length: C + S + D. */
  refLength: number;
  /** (S + D + I) / refLength; Infinity when the reference is empty and the hypothesis is not; 0 when both are. */
  rate: number;
}

const W_SUB = 4;
const W_INS = 3;
const W_DEL = 3;

export function align(ref: readonly string[], hyp: readonly string[]): Alignment {
  const n = ref.length;
  const m = hyp.length;
  const cost = new Array<Uint32Array>(n + 1);
  for (let i = 0; i <= n; i++) {
    const row = new Uint32Array(m + 1);
    if (i === 0) for (let j = 0; j <= m; j++) row[j] = j * W_INS;
    else {
      const prev = cost[i - 1]!;
      row[0] = i * W_DEL;
      for (let j = 1; j <= m; j++) {
        const diag = prev[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : W_SUB);
        const del = prev[j]! + W_DEL;
        const ins = row[j - 1]! + W_INS;
        row[j] = Math.min(diag, del, ins);
      }
    }
    cost[i] = row;
  }
  const ops: Alignment['ops'] = [];
  let c = 0, s = 0, d = 0, ins = 0;
  let i = n, j = m;
  while (i > 0 || j > 0) {
    const here = cost[i]![j]!;
    if (i > 0 && j > 0) {
      const same = ref[i - 1] === hyp[j - 1];
      if (here === cost[i - 1]![j - 1]! + (same ? 0 : W_SUB)) {
        ops.push({ op: same ? 'C' : 'S', ref: ref[i - 1]!, hyp: hyp[j - 1]! });
        if (same) c++; else s++;
        i--; j--;
        continue;
      }
    }
    if (i > 0 && here === cost[i - 1]![j]! + W_DEL) {
      ops.push({ op: 'D', ref: ref[i - 1]!, hyp: null });
      d++; i--;
      continue;
    }
    ops.push({ op: 'I', ref: null, hyp: hyp[j - 1]! });
    ins++; j--;
  }
  ops.reverse();
  return { ops, correct: c, substitutions: s, deletions: d, insertions: ins };
}

function rateOf(a: Alignment): ErrorRate {
  const refLength = a.correct + a.substitutions + a.deletions;
  const errors = a.substitutions + a.deletions + a.insertions;
  return { ...a, refLength, rate: refLength === 0 ? (errors === 0 ? 0 : Infinity) : errors / refLength };
}

export interface ScoreOptions {
  /** Apply the documented normalisation first. @default true */
  normalise?: boolean;
}

const words = (t: string, o: ScoreOptions) => (o.normalise === false ? t.split(/\s+/).filter(Boolean) : normaliseWords(t));

export function wordErrorRate(reference: string, hypothesis: string, o: ScoreOptions = {}): ErrorRate {
  return rateOf(align(words(reference, o), words(hypothesis, o)));
}

/** Character error rate over the normalised words, spaces not counted (as sclite -c NOASCII). */
export function charErrorRate(reference: string, hypothesis: string, o: ScoreOptions = {}): ErrorRate {
  const chars = (t: string) => [...words(t, o).join('')];
  return rateOf(align(chars(reference), chars(hypothesis)));
}

/** Sums several utterances' alignments into one corpus figure (errors over total reference length). */
export function corpusRate(items: readonly Alignment[]): ErrorRate {
  const total = items.reduce((acc, a) => ({ ops: [], correct: acc.correct + a.correct, substitutions: acc.substitutions + a.substitutions, deletions: acc.deletions + a.deletions, insertions: acc.insertions + a.insertions }), { ops: [], correct: 0, substitutions: 0, deletions: 0, insertions: 0 } as Alignment);
  return rateOf(total);
}
