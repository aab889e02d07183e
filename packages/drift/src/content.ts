/**
 * Content drift: is a step's reply (or what the target heard) still what the baseline accepted?
 *
 * Each run's text is scored by its distance to the baseline's texts for that step: 1 − the highest similarity
 * to any of them (cosine of embeddings when an embeddings endpoint is configured, else the lexical fallback — the
 * caller supplies the similarity; this module sees only distances). The threshold comes from the baseline itself:
 * the leave-one-out distances of its texts (how far each accepted reply is from the others) give how much
 * accepted replies vary; τ = their 95th percentile + a margin (0.05 by default). A bot that answers the same
 * words every time gets τ = 0.05; one that paraphrases gets a wider band.
 *
 * One run beyond τ is not an alarm (an unlucky paraphrase, a recognition slip); `m` of the last `w` runs beyond
 * it is (default 3 of 5). Documented and checked in `drift.test.ts` on generated reply series of a paraphrasing
 * bot (openers, sentence variants, closers drawn at random; 40-run baselines; the lexical fallback, the harder
 * case): under 0.5 false alarms per 1,000 steady runs; an answer quoting a fee that does not exist found after a
 * median ≤ 5 runs (95th percentile ≤ 10); a dropped disclosure sentence median ≤ 6 (95th percentile ≤ 20). A bot
 * that always says the same words is found at the third changed run.
 */

export interface ContentBaseline {
  /** Distance threshold τ. */
  threshold: number;
  /** Leave-one-out distances' 95th percentile (how much accepted texts vary). */
  spread: number;
  n: number;
}

export interface ContentOptions {
  /** Added to the baseline's spread. @default 0.05 */
  margin?: number;
  /** Runs beyond τ needed… @default 3 */
  m?: number;
  /** …among the last w. @default 5 */
  w?: number;
}

export interface ContentVerdict {
  alarm: boolean;
  /** Index of the first of the runs beyond τ in the alarming window (when alarmed). */
  changeAt: number | null;
  distance: number;
  threshold: number;
}

const quantile = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : 0; };

/**
 * The baseline of one step's texts. `similarity` is a symmetric similarity in [0, 1]; texts repeat (a
 * deterministic bot says the same thing every run), so distinct texts are compared once and counted.
 */
export function contentBaseline(texts: string[], similarity: (a: string, b: string) => number, o: ContentOptions = {}): ContentBaseline {
  if (texts.length < 5) throw new RangeError(`a content baseline needs at least 5 texts, got ${texts.length}`);
  const counts = new Map<string, number>();
  for (const t of texts) counts.set(t, (counts.get(t) ?? 0) + 1);
  const distinct = [...counts.keys()];
  const loo: number[] = [];
  for (const [i, a] of distinct.entries()) {
    // Leaving one run out, its text is still among the others when it occurred more than once.
    let best = counts.get(a)! > 1 ? 1 : 0;
    for (const [j, b] of distinct.entries()) if (i !== j && best < 1) best = Math.max(best, similarity(a, b));
    for (let k = 0; k < counts.get(a)!; k++) loo.push(1 - best);
  }
  const spread = quantile(loo, 0.95);
  return { threshold: Math.min(1, spread + (o.margin ?? 0.05)), spread, n: texts.length };
}

/** Distance of a text to a baseline's texts: 1 − the best similarity. */
export function contentDistance(text: string, baselineTexts: readonly string[], similarity: (a: string, b: string) => number): number {
  let best = 0;
  for (const b of baselineTexts) { best = Math.max(best, similarity(text, b)); if (best >= 1) break; }
  return Math.max(0, 1 - best);
}

export class ContentDetector {
  readonly baseline: ContentBaseline;
  readonly m: number;
  readonly w: number;
  readonly #recent: boolean[] = [];
  #n = 0;
  constructor(baseline: ContentBaseline, o: ContentOptions = {}) {
    this.baseline = baseline;
    this.m = o.m ?? 3;
    this.w = o.w ?? 5;
  }

  push(distance: number): ContentVerdict {
    const beyond = distance > this.baseline.threshold;
    this.#recent.push(beyond);
    if (this.#recent.length > this.w) this.#recent.shift();
    const i = this.#n++;
    const hits = this.#recent.filter(Boolean).length;
    if (hits < this.m) return { alarm: false, changeAt: null, distance, threshold: this.baseline.threshold };
    const first = this.#recent.indexOf(true);
    return { alarm: true, changeAt: i - (this.#recent.length - 1) + first, distance, threshold: this.baseline.threshold };
  }

  reset(): void { this.#recent.length = 0; }
}

/**
 * New failure modes: a failure signature (step and assertion, or error code) the baseline never showed, seen in
 * `m` of the last `w` runs (default 2 of 10). The pass-rate test sees failures become more frequent; this sees a
 * new kind of failure while it is still rare — a policy breach in one call in five. A single occurrence is not
 * enough (a one-off glitch); a signature the baseline had is the pass-rate test's business. Documented and
 * checked in `drift.test.ts`: no false alarm in 200,000 steady runs whose only failures are the baseline's kinds
 * and a one-in-a-thousand unseen glitch; a new mode in 20 % of runs found after a median ≤ 10 runs (95th percentile ≤ 40).
 */
export class NewFailureDetector {
  readonly known: ReadonlySet<string>;
  readonly m: number;
  readonly w: number;
  readonly #recent: Array<ReadonlySet<string>> = [];
  readonly #alarmed = new Set<string>();
  #n = 0;
  constructor(baselineSignatures: Iterable<string>, o: { m?: number; w?: number } = {}) {
    this.known = new Set(baselineSignatures);
    this.m = o.m ?? 2;
    this.w = o.w ?? 10;
  }

  /** One run's failure signatures; returns the new modes that just crossed m of w, with the run index each first appeared at. */
  push(signatures: Iterable<string>): Array<{ signature: string; changeAt: number; runs: number }> {
    const fresh = new Set([...signatures].filter((s) => !this.known.has(s)));
    this.#recent.push(fresh);
    if (this.#recent.length > this.w) this.#recent.shift();
    const i = this.#n++;
    const out: Array<{ signature: string; changeAt: number; runs: number }> = [];
    for (const sig of fresh) {
      if (this.#alarmed.has(sig)) continue;
      const hits = this.#recent.filter((r) => r.has(sig)).length;
      if (hits < this.m) continue;
      this.#alarmed.add(sig);
      out.push({ signature: sig, changeAt: i - (this.#recent.length - 1) + this.#recent.findIndex((r) => r.has(sig)), runs: hits });
    }
    return out;
  }
}
