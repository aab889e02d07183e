/**
 * Rubric files: a named, versioned rubric and the calibration it last got (`vigil judge calibrate --write`).
 * A judge verdict made with a rubric that was never calibrated, was calibrated for another judge model, or
 * agreed with the human labels below the floor (kappa) is flagged wherever the verdict appears.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { VigilError } from '@vigil/errors';

export interface RubricCalibration { model: string; kappa: number; accuracy: number; n: number; setSha256: string; atIso: string }
export interface Rubric { name: string; version: number; rubric: string; calibration: RubricCalibration | null }
export type RubricFlag = 'uncalibrated' | 'calibrated_for_other_model' | 'below_agreement' | null;

const bad = (field: string, message: string, fix: string) => new VigilError('VIGIL_E_REQUEST_INVALID', message, { field, fix });

export async function loadRubric(file: string): Promise<Rubric> {
  let text: string;
  try { text = await readFile(file, 'utf8'); } catch (e) { throw bad('rubric_file', `cannot read ${file}: ${(e as Error).message}`, 'give the path of a rubric YAML file on the probe host'); }
  const doc = parseDocument(text);
  if (doc.errors.length) throw bad('rubric_file', `${file} is not YAML: ${doc.errors[0]!.message}`, 'fix the YAML');
  const r = doc.toJS() as { name?: unknown; version?: unknown; rubric?: unknown; calibration?: Record<string, unknown> };
  if (typeof r?.rubric !== 'string' || r.rubric.trim().length < 10) throw bad(`${file}: rubric`, 'the rubric file needs `rubric:` with the text the judge applies', 'name: x, version: 1, rubric: "The reply must …"');
  const c = r.calibration;
  const calibration = c && typeof c.model === 'string' && typeof c.kappa === 'number' && typeof c.accuracy === 'number' && typeof c.n === 'number'
    ? { model: c.model, kappa: c.kappa, accuracy: c.accuracy, n: c.n, setSha256: String(c.setSha256 ?? ''), atIso: String(c.atIso ?? '') } : null;
  return { name: typeof r.name === 'string' ? r.name : file, version: typeof r.version === 'number' ? r.version : 1, rubric: r.rubric, calibration };
}

/** Records a calibration in the rubric file, keeping the rest of it (comments included) as it was. */
export async function writeCalibration(file: string, c: RubricCalibration): Promise<void> {
  const doc = parseDocument(await readFile(file, 'utf8'));
  doc.set('calibration', c);
  await writeFile(file, doc.toString());
}

export function rubricFlag(r: Rubric, judgeModel: string, minKappa: number): RubricFlag {
  if (!r.calibration) return 'uncalibrated';
  if (r.calibration.model !== judgeModel) return 'calibrated_for_other_model';
  return r.calibration.kappa < minKappa ? 'below_agreement' : null;
}
