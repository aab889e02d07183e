/** sclite "trn" transcripts: one utterance per line, `text (utterance_id)`; `;;` starts a comment line. */
import { VigilError } from '@vigil/errors';
import { charErrorRate, corpusRate, wordErrorRate, type ErrorRate } from './wer.ts';
import { NORMALISATION_VERSION } from './normalise.ts';

export interface TrnUtterance { id: string; text: string; line: number }

export function parseTrn(text: string, file = 'trn'): TrnUtterance[] {
  const out: TrnUtterance[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith(';;')) return;
    const m = /^(.*?)\s*\(([^()]+)\)$/.exec(line);
    if (!m) throw new VigilError('VIGIL_E_REQUEST_INVALID', `${file}:${i + 1}: a trn line is "text (utterance_id)"`, { field: `${file}:${i + 1}`, fix: 'end each line with the utterance id in parentheses' });
    const id = m[2]!.trim();
    if (seen.has(id)) throw new VigilError('VIGIL_E_REQUEST_INVALID', `${file}:${i + 1}: utterance id ${id} appears twice`, { field: `${file}:${i + 1}`, fix: 'give each utterance a unique id' });
    seen.add(id);
    out.push({ id, text: m[1]!, line: i + 1 });
  });
  return out;
}

export interface UtteranceScore { id: string; wer: ErrorRate; cer: ErrorRate; reference: string; hypothesis: string; missing: boolean }

export interface TrnScore {
  normalisation: number | null;
  utterances: UtteranceScore[];
  wer: ErrorRate;
  cer: ErrorRate;
}

/** Scores every reference utterance; a reference without hypothesis counts as all deletions and is flagged. */
export function scoreTrn(ref: TrnUtterance[], hyp: TrnUtterance[], o: { normalise?: boolean } = {}): TrnScore {
  const byId = new Map(hyp.map((h) => [h.id, h]));
  const refIds = new Set(ref.map((r) => r.id));
  const extra = hyp.filter((h) => !refIds.has(h.id));
  if (extra.length) throw new VigilError('VIGIL_E_REQUEST_INVALID', `hypothesis has utterance ${extra[0]!.id} (line ${extra[0]!.line}) that the reference does not`, { field: 'hypothesis', fix: 'score matching trn files: every hypothesis id must be in the reference' });
  const utterances = ref.map((r) => {
    const h = byId.get(r.id);
    const hypText = h?.text ?? '';
    return { id: r.id, reference: r.text, hypothesis: hypText, missing: !h, wer: wordErrorRate(r.text, hypText, o), cer: charErrorRate(r.text, hypText, o) };
  });
  return {
    normalisation: o.normalise === false ? null : NORMALISATION_VERSION,
    utterances,
    wer: corpusRate(utterances.map((u) => u.wer)),
    cer: corpusRate(utterances.map((u) => u.cer)),
  };
}
