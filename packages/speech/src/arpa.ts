/**
 * A bigram language model in ARPA format, built from the phrases a journey expects (prompt verification).
 * Absolute discounting (D = 0.5) with backoff to add-one unigrams: any sequence of the phrase words stays
 * possible, so audio that says something else decodes to something else instead of being forced onto a phrase.
 */
export function buildArpa(phrases: readonly string[][]): string {
  const uni = new Map<string, number>();
  const bi = new Map<string, Map<string, number>>();
  for (const words of phrases) {
    const seq = ['<s>', ...words, '</s>'];
    for (let i = 0; i < seq.length; i++) {
      uni.set(seq[i]!, (uni.get(seq[i]!) ?? 0) + 1);
      if (i > 0) {
        const m = bi.get(seq[i - 1]!) ?? new Map<string, number>();
        m.set(seq[i]!, (m.get(seq[i]!) ?? 0) + 1);
        bi.set(seq[i - 1]!, m);
      }
    }
  }
  const vocab = [...uni.keys()].filter((w) => w !== '<s>').sort();
  const total = vocab.reduce((n, w) => n + uni.get(w)!, 0);
  const pUni = new Map(vocab.map((w) => [w, (uni.get(w)! + 1) / (total + vocab.length)]));
  const D = 0.5;
  const lines1: string[] = [];
  const lines2: string[] = [];
  const log = (p: number) => Math.log10(p).toFixed(4);
  const backoff = new Map<string, number>();
  for (const [v, next] of bi) {
    const cv = [...next.values()].reduce((a, b) => a + b, 0);
    let seenMass = 0;
    let seenUni = 0;
    for (const [w, c] of next) {
      const p = (c - D) / cv;
      seenMass += p;
      seenUni += pUni.get(w) ?? 0;
      lines2.push(`${log(p)} ${v} ${w}`);
    }
    backoff.set(v, (1 - seenMass) / Math.max(1e-9, 1 - seenUni));
  }
  lines1.push(`-99.0000 <s> ${log(backoff.get('<s>') ?? 1)}`);
  for (const w of vocab) lines1.push(`${log(pUni.get(w)!)} ${w}${w === '</s>' ? '' : ` ${log(backoff.get(w) ?? 1)}`}`);
  return ['\\data\\', `ngram 1=${lines1.length}`, `ngram 2=${lines2.length}`, '', '\\1-grams:', ...lines1, '', '\\2-grams:', ...lines2, '', '\\end\\', ''].join('\n');
}
