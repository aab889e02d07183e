/**
 * Evidence records: in-toto Statement v1 (https://in-toto.io/Statement/v1) with a Vigil predicate. A run
 * record says what was tested (journey id, version, RFC 8785 content hash), when (scheduled, started, ended,
 * the probe's clock offset from the plane), where (probe, region, version), under which conditions (target,
 * channel, codec, versions the target reported, judge models and prompt hashes), with which outcome (each
 * assertion's verdict, score and threshold) and which artifacts (sha256, bytes, media type, retention class,
 * redactions applied). It holds no personal data: a target endpoint appears only as a salted hash.
 */
import { VigilError } from '@vigil/errors';
import { sha256Hex } from './jcs.ts';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const RUN_PREDICATE = 'https://vigil.dev/evidence/run/v1';
export const ERASURE_PREDICATE = 'https://vigil.dev/evidence/erasure/v1';

/**
 * completed: the probe ran the journey to a verdict. rejected: the probe took the run but could not run it
 * (no driver, invalid journey). missed: no probe started the run before its deadline. interrupted: a probe
 * started it and no result came before the deadline. The first two are signed by the probe, the last two by
 * the plane.
 */
export type RunOutcome = 'completed' | 'rejected' | 'missed' | 'interrupted';
export const PROBE_OUTCOMES: readonly RunOutcome[] = ['completed', 'rejected'];
export const PLANE_OUTCOMES: readonly RunOutcome[] = ['missed', 'interrupted'];

export interface EvidenceArtifact {
  name: string;
  sha256: string;
  bytes: number;
  mediaType: string;
  /** Retention class: how long the plane keeps the bytes (e.g. "recording-90d"). */
  retention: string;
  /** Redactions applied before hashing, e.g. ["dtmf", "pii:card_number"]. */
  redactions: string[];
}

export interface AssertionRecord {
  step: number;
  assertion: string;
  verdict: string;
  score: number | null;
  threshold: string | null;
}

export interface RunPredicate {
  run: { id: string; attempt: number | null; scheduleId: string | null; outcome: RunOutcome; verdict: string; errorCode: string | null };
  test: { journeyId: string; journeyName: string; journeyVersion: number | null; journeyVersionId: string; contentHash: string };
  when: { scheduledAtMs: number; startedAtMs: number | null; endedAtMs: number; probeClockOffsetMs: number | null };
  where: { probeId: string | null; region: string; probeVersion: string | null };
  conditions: {
    targetId: string;
    targetName: string;
    channel: string;
    /** sha256(salt || endpoint); the salt is kept with the run's key and destroyed by erasure. */
    endpointSaltedSha256: string | null;
    codec: string | null;
    targetVersions: Record<string, string>;
    judges: Array<{ model: string; promptSha256: string | null }>;
  };
  outcome: { verdict: string; stepsPassed: number; stepsFailed: number; durationMs: number; assertions: AssertionRecord[] };
  artifacts: EvidenceArtifact[];
  redaction: { policy: string; applied: Record<string, number> };
}

export interface ErasurePredicate {
  runId: string;
  artifacts: Array<{ name: string; sha256: string }>;
  erasedAtMs: number;
  /** A short code the operator gives (e.g. "gdpr-art17"); free text stays out of the signed record. */
  reason: string;
}

export type Statement<P> = {
  _type: typeof STATEMENT_TYPE;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: string;
  predicate: P;
};

export function runStatement(p: RunPredicate): Statement<RunPredicate> {
  return {
    _type: STATEMENT_TYPE,
    subject: [
      { name: `vigil:journey/${p.test.journeyId}@${p.test.journeyVersion ?? p.test.journeyVersionId}`, digest: { sha256: p.test.contentHash } },
      ...p.artifacts.map((a) => ({ name: `vigil:run/${p.run.id}/${a.name}`, digest: { sha256: a.sha256 } })),
    ],
    predicateType: RUN_PREDICATE,
    predicate: p,
  };
}

export function erasureStatement(p: ErasurePredicate): Statement<ErasurePredicate> {
  return {
    _type: STATEMENT_TYPE,
    subject: p.artifacts.map((a) => ({ name: `vigil:run/${p.runId}/${a.name}`, digest: { sha256: a.sha256 } })),
    predicateType: ERASURE_PREDICATE,
    predicate: p,
  };
}

export function saltedHash(salt: Buffer, value: string): string {
  return sha256Hex(Buffer.concat([salt, Buffer.from(value, 'utf8')]));
}

function invalid(message: string, field: string): VigilError {
  return new VigilError('VIGIL_E_EVIDENCE_RECORD_INVALID', message, { field, fix: 'sign records built by @vigil/evidence runStatement' });
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const HEX64 = /^[0-9a-f]{64}$/;

export type ParsedStatement =
  | { kind: 'run'; statement: Statement<RunPredicate> }
  | { kind: 'erasure'; statement: Statement<ErasurePredicate> };

/** Checks the shape of a statement (the fields verification and queries rely on); throws VIGIL_E_EVIDENCE_RECORD_INVALID. */
export function parseStatement(v: unknown): ParsedStatement {
  if (!isObj(v) || v._type !== STATEMENT_TYPE) throw invalid(`a record must be an in-toto Statement v1 (_type ${STATEMENT_TYPE})`, '_type');
  if (!Array.isArray(v.subject) || !v.subject.every((s) => isObj(s) && typeof s.name === 'string' && isObj(s.digest) && typeof s.digest.sha256 === 'string' && HEX64.test(s.digest.sha256))) {
    throw invalid('statement subjects need a name and a sha256 digest', 'subject');
  }
  const p = v.predicate;
  if (!isObj(p)) throw invalid('statement has no predicate', 'predicate');
  if (v.predicateType === RUN_PREDICATE) {
    const run = p.run, test = p.test, when = p.when, where = p.where, cond = p.conditions, out = p.outcome;
    if (!isObj(run) || typeof run.id !== 'string' || !['completed', 'rejected', 'missed', 'interrupted'].includes(run.outcome as string)) throw invalid('run predicate needs run.id and run.outcome', 'predicate.run');
    if (!isObj(test) || typeof test.journeyId !== 'string' || typeof test.contentHash !== 'string' || !HEX64.test(test.contentHash)) throw invalid('run predicate needs test.journeyId and test.contentHash', 'predicate.test');
    if (!isObj(when) || typeof when.scheduledAtMs !== 'number' || typeof when.endedAtMs !== 'number') throw invalid('run predicate needs when.scheduledAtMs and when.endedAtMs', 'predicate.when');
    if (!isObj(where) || typeof where.region !== 'string') throw invalid('run predicate needs where.region', 'predicate.where');
    if (!isObj(cond) || typeof cond.targetId !== 'string') throw invalid('run predicate needs conditions.targetId', 'predicate.conditions');
    if (!isObj(out) || typeof out.verdict !== 'string' || !Array.isArray(out.assertions)) throw invalid('run predicate needs outcome.verdict and outcome.assertions', 'predicate.outcome');
    if (!Array.isArray(p.artifacts) || !p.artifacts.every((a) => isObj(a) && typeof a.name === 'string' && typeof a.sha256 === 'string' && HEX64.test(a.sha256) && typeof a.bytes === 'number')) {
      throw invalid('run predicate artifacts need a name, sha256 and bytes', 'predicate.artifacts');
    }
    return { kind: 'run', statement: v as unknown as Statement<RunPredicate> };
  }
  if (v.predicateType === ERASURE_PREDICATE) {
    if (typeof p.runId !== 'string' || !Array.isArray(p.artifacts) || typeof p.erasedAtMs !== 'number') throw invalid('erasure predicate needs runId, artifacts and erasedAtMs', 'predicate');
    return { kind: 'erasure', statement: v as unknown as Statement<ErasurePredicate> };
  }
  throw invalid(`unknown predicate type ${String(v.predicateType)}`, 'predicateType');
}
