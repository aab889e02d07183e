/**
 * Calibration: how often a judge agrees with human labels on a labelled set — accuracy, Cohen's kappa
 * (agreement beyond chance) and the confusion matrix. Inconclusive judgements count against accuracy and are
 * reported apart.
 */
import type { JudgeInput, JudgeOutcome } from './judge.ts';

export interface LabelledExample extends Omit<JudgeInput, 'rubric'> {
  id: string;
  label: 'pass' | 'fail';
}

export interface Calibration {
  n: number;
  accuracy: number;
  kappa: number;
  /** Rows: human label; columns: judge verdict. */
  confusion: { pass: { pass: number; fail: number; inconclusive: number }; fail: { pass: number; fail: number; inconclusive: number } };
  disagreements: Array<{ id: string; label: 'pass' | 'fail'; verdict: JudgeOutcome['verdict']; rationale: string }>;
}

/** Cohen's kappa over two raters' labels (same length, any label set). */
export function cohensKappa(a: readonly string[], b: readonly string[]): number {
  const n = a.length;
  if (n === 0 || n !== b.length) return 0;
  const labels = [...new Set([...a, ...b])];
  const observed = a.filter((x, i) => x === b[i]).length / n;
  const expected = labels.reduce((sum, l) => sum + (a.filter((x) => x === l).length / n) * (b.filter((x) => x === l).length / n), 0);
  return expected === 1 ? 1 : (observed - expected) / (1 - expected);
}

export async function calibrate(judge: { judge(i: JudgeInput): Promise<JudgeOutcome> }, rubric: string, set: readonly LabelledExample[]): Promise<Calibration> {
  const confusion: Calibration['confusion'] = { pass: { pass: 0, fail: 0, inconclusive: 0 }, fail: { pass: 0, fail: 0, inconclusive: 0 } };
  const human: string[] = [];
  const judged: string[] = [];
  const disagreements: Calibration['disagreements'] = [];
  for (const ex of set) {
    const o = await judge.judge({ rubric, conversation: ex.conversation });
    confusion[ex.label][o.verdict]++;
    human.push(ex.label);
    judged.push(o.verdict);
    if (o.verdict !== ex.label) disagreements.push({ id: ex.id, label: ex.label, verdict: o.verdict, rationale: o.rationale });
  }
  const n = set.length;
  return { n, accuracy: n ? (confusion.pass.pass + confusion.fail.fail) / n : 0, kappa: cohensKappa(human, judged), confusion, disagreements };
}
