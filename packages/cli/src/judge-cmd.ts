/**
 * `vigil judge calibrate <rubric.yaml> <labelled.jsonl>`: how often an LLM judge agrees with human labels —
 * accuracy, Cohen's kappa, confusion matrix, the disagreements. The judge is any OpenAI-compatible endpoint
 * (--base-url/--model, or VIGIL_JUDGE_BASE_URL/VIGIL_JUDGE_MODEL, key VIGIL_JUDGE_API_KEY).
 */
import { readFile } from 'node:fs/promises';
import { VigilError } from '@vigil/errors';
import { createHash } from 'node:crypto';
import { calibrate, LlmJudge, loadRubric, writeCalibration, type Calibration, type LabelledExample } from '@vigil/judge';

export interface CalibrateOptions {
  rubricFile: string;
  setFile: string;
  baseUrl?: string;
  model?: string;
  samples?: number;
  minKappa: number;
  json?: boolean;
  /** Record the result in the rubric file (its `calibration:`), where judge verdicts pick it up. */
  write?: boolean;
  env?: NodeJS.ProcessEnv;
  out?: NodeJS.WritableStream;
}

const bad = (field: string, message: string, fix: string) => new VigilError('VIGIL_E_REQUEST_INVALID', message, { field, fix });

async function readText(f: string, what: string): Promise<string> {
  try { return await readFile(f, 'utf8'); } catch (e) { throw bad(what, `cannot read ${f}: ${(e as Error).message}`, `give the path of the ${what}`); }
}

export async function loadLabelledSet(file: string): Promise<LabelledExample[]> {
  const lines = (await readText(file, 'labelled set')).split('\n');
  const out: LabelledExample[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const at = `${file}:${i + 1}`;
    let j: { id?: unknown; label?: unknown; conversation?: unknown };
    try { j = JSON.parse(line); } catch { throw bad(at, `${at} is not JSON`, 'one JSON object per line: {"id", "label": "pass"|"fail", "conversation": [{"speaker", "text"}]}'); }
    if (typeof j.id !== 'string') throw bad(`${at}: id`, `${at}: id must be a string`, 'give every example an id');
    if (j.label !== 'pass' && j.label !== 'fail') throw bad(`${at}: label`, `${at}: label must be "pass" or "fail"`, 'the human verdict');
    const conv = j.conversation;
    if (!Array.isArray(conv) || conv.length === 0 || !conv.every((t) => (t?.speaker === 'caller' || t?.speaker === 'bot') && typeof t.text === 'string') || conv.at(-1).speaker !== 'bot') {
      throw bad(`${at}: conversation`, `${at}: conversation must list {speaker: caller|bot, text} turns ending with the bot reply judged`, 'e.g. [{"speaker":"caller","text":"fees?"},{"speaker":"bot","text":"…"}]');
    }
    out.push({ id: j.id, label: j.label, conversation: conv });
  });
  if (out.length === 0) throw bad(file, `${file} has no examples`, 'one labelled example per line');
  return out;
}

export async function calibrateCommand(o: CalibrateOptions): Promise<Calibration> {
  const env = o.env ?? process.env;
  const out = o.out ?? process.stdout;
  const baseUrl = o.baseUrl ?? env.VIGIL_JUDGE_BASE_URL;
  const model = o.model ?? env.VIGIL_JUDGE_MODEL;
  if (!baseUrl || !model) throw bad(baseUrl ? '--model' : '--base-url', 'a judge endpoint is needed: --base-url and --model (or VIGIL_JUDGE_BASE_URL and VIGIL_JUDGE_MODEL)', 'e.g. --base-url http://localhost:11434/v1 --model llama3.1');
  const rubric = await loadRubric(o.rubricFile);
  const set = await loadLabelledSet(o.setFile);
  const judge = new LlmJudge({ baseUrl, model, ...(env.VIGIL_JUDGE_API_KEY ? { apiKey: env.VIGIL_JUDGE_API_KEY } : {}), ...(o.samples ? { samples: o.samples } : {}) });
  const c = await calibrate(judge, rubric.rubric, set);
  const inconclusive = c.confusion.pass.inconclusive + c.confusion.fail.inconclusive;
  if (inconclusive === c.n) throw new VigilError('VIGIL_E_CHANNEL_UNREACHABLE', `the judge at ${baseUrl} gave no verdict on any of the ${c.n} examples`, { fix: 'check --base-url, --model and the key' });
  const flagged = c.kappa < o.minKappa;
  if (o.write) {
    const setSha256 = createHash('sha256').update(await readText(o.setFile, 'labelled set')).digest('hex');
    await writeCalibration(o.rubricFile, { model, kappa: Number(c.kappa.toFixed(4)), accuracy: Number(c.accuracy.toFixed(4)), n: c.n, setSha256, atIso: new Date().toISOString() });
  }
  if (o.json) {
    out.write(`${JSON.stringify({ rubric: { name: rubric.name, version: rubric.version }, judge: { baseUrl, model, samples: o.samples ?? 3 }, ...c, minKappa: o.minKappa, belowAgreement: flagged }, null, 2)}\n`);
    return c;
  }
  const row = (l: 'pass' | 'fail') => `  human ${l.padEnd(4)}   ${String(c.confusion[l].pass).padStart(4)} ${String(c.confusion[l].fail).padStart(4)} ${String(c.confusion[l].inconclusive).padStart(12)}`;
  out.write([
    `rubric ${rubric.name} v${rubric.version}, judge ${model} at ${baseUrl}, ${c.n} labelled examples`,
    `  accuracy ${(c.accuracy * 100).toFixed(1)} %   Cohen's kappa ${c.kappa.toFixed(3)}${flagged ? `   BELOW the agreement floor ${o.minKappa}: treat this rubric's verdicts as unreliable` : ''}`,
    '                judge pass fail inconclusive',
    row('pass'), row('fail'),
    ...(c.disagreements.length ? ['disagreements:', ...c.disagreements.map((d) => `  ${d.id}: human ${d.label}, judge ${d.verdict} — ${d.rationale}`)] : []),
    '',
  ].join('\n'));
  return c;
}
