/**
 * The probe's side of evidence: its Ed25519 key (made once, kept in a 0600 file), the redaction of what it
 * reports (DTMF digits and PII masked by the target's policy before anything leaves the probe), and the
 * signed record of each run built from the events it emitted.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RunEventBody, RunRequest } from '@vigil/contract';
import {
  contentHash, generateSigningKey, privateKeyToPem, runStatement, saltedHash, signEnvelope, signingKeyFromPem,
  type AssertionRecord, type EvidenceArtifact, type RunOutcome, type SigningKey,
} from '@vigil/evidence';
import { VigilError } from '@vigil/errors';
import type { RedactionPolicy } from '@vigil/chat';
import { redactPii } from '@vigil/journey';

/** Loads the probe's key, making it (0600) on first start. */
export async function loadProbeKey(file: string): Promise<{ key: SigningKey; created: boolean }> {
  try {
    return { key: signingKeyFromPem(await readFile(file, 'utf8'), 'VIGIL_PROBE_KEY_FILE'), created: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const key = generateSigningKey();
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, privateKeyToPem(key), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return loadProbeKey(file); // another process made it first
    throw new VigilError('VIGIL_E_CONFIG_INVALID', `cannot write the probe key ${file}: ${(e as Error).message}`, { field: 'VIGIL_PROBE_KEY_FILE', fix: 'point VIGIL_PROBE_KEY_FILE at a writable path' });
  }
  return { key, created: true };
}

export function policyName(p: RedactionPolicy): string {
  return `dtmf:${p.dtmf ? 'mask' : 'keep'};pii:${p.pii.length ? p.pii.join(',') : 'keep'};v1`;
}

/** Applies the policy to one event; counts what it masked. */
export class Redactor {
  readonly policy: RedactionPolicy;
  readonly applied: Record<string, number> = {};
  constructor(policy: RedactionPolicy) { this.policy = policy; }

  #count(kind: string, n = 1): void { this.applied[kind] = (this.applied[kind] ?? 0) + n; }

  text(t: string): string {
    let out = t;
    if (this.policy.dtmf) {
      out = out.replace(/\[DTMF ([0-9A-D*#]+)\]/g, (_m, d: string) => { this.#count('dtmf'); return `[DTMF ${'•'.repeat(d.length)}]`; });
    }
    if (this.policy.pii.length) {
      const r = redactPii(out, this.policy.pii);
      for (const [k, n] of Object.entries(r.counts)) this.#count(`pii:${k}`, n);
      out = r.text;
    }
    return out;
  }

  event(b: RunEventBody): RunEventBody {
    switch (b.kind) {
      case 'transcript': return { ...b, text: this.text(b.text), ...(b.structured === undefined ? {} : { structured: JSON.parse(this.text(JSON.stringify(b.structured))) as unknown }) };
      case 'assertion': return { ...b, actual: this.text(b.actual), message: this.text(b.message) };
      case 'step_started':
        return this.policy.dtmf && b.stepKind === 'dtmf' ? { ...b, name: b.name.replace(/^dtmf [0-9A-D*#]+$/, () => { this.#count('dtmf'); return 'dtmf (digits masked)'; }) } : b;
      default: return b;
    }
  }
}

const THRESHOLD = /^(?:[<>]=?|=|≤|≥)?\s*-?\d+(?:\.\d+)?\s*(?:ms|%|s|dB)?$/;

/** Collects what the record needs from the run's events, then signs it. */
export class RunRecord {
  readonly #req: RunRequest;
  readonly #attempt: number;
  #startedAtMs: number | null = null;
  readonly #assertions: AssertionRecord[] = [];
  readonly #judges = new Map<string, { model: string; promptSha256: string | null }>();
  readonly artifacts: EvidenceArtifact[] = [];
  codec: string | null = null;
  versions: Record<string, string> = {};

  constructor(req: RunRequest, attempt: number) {
    this.#req = req;
    this.#attempt = attempt;
  }

  observe(b: RunEventBody, atMs: number): void {
    if (b.kind === 'run_started') this.#startedAtMs ??= atMs;
    if (b.kind === 'assertion') {
      const ev = (b.evidence ?? {}) as { score?: unknown; similarity?: unknown; model?: unknown; promptSha256?: unknown };
      const score = typeof ev.score === 'number' ? ev.score : typeof ev.similarity === 'number' ? ev.similarity : null;
      this.#assertions.push({ step: b.stepIndex, assertion: b.assertion, verdict: b.verdict, score, threshold: THRESHOLD.test(b.expected.trim()) ? b.expected.trim() : null });
      if (typeof ev.model === 'string') {
        const promptSha256 = typeof ev.promptSha256 === 'string' ? ev.promptSha256 : null;
        this.#judges.set(`${ev.model}\u0000${promptSha256}`, { model: ev.model, promptSha256 });
      }
    }
  }

  sign(o: {
    key: SigningKey; probeId: string; region: string; probeVersion: string; clockOffsetMs: number | null; salt: Buffer;
    finished: Extract<RunEventBody, { kind: 'run_finished' }>; outcome: RunOutcome; endedAtMs: number; redaction: Redactor;
  }): string {
    const r = this.#req;
    const f = o.finished;
    const statement = runStatement({
      run: { id: r.runId, attempt: this.#attempt, scheduleId: r.scheduleId ?? null, outcome: o.outcome, verdict: f.verdict, errorCode: f.errorCode ?? null },
      test: { journeyId: r.journeyId, journeyName: String((r.journey as { name?: unknown }).name ?? ''), journeyVersion: r.journeyVersion ?? null, journeyVersionId: r.journeyVersionId, contentHash: contentHash(r.journey) },
      when: { scheduledAtMs: r.scheduledAtMs, startedAtMs: this.#startedAtMs, endedAtMs: o.endedAtMs, probeClockOffsetMs: o.clockOffsetMs },
      where: { probeId: o.probeId, region: o.region, probeVersion: o.probeVersion },
      conditions: {
        targetId: r.target.id, targetName: r.target.name, channel: r.target.channel, endpointSaltedSha256: saltedHash(o.salt, r.target.endpoint),
        codec: this.codec, targetVersions: this.versions, judges: [...this.#judges.values()],
      },
      outcome: { verdict: f.verdict, stepsPassed: f.stepsPassed, stepsFailed: f.stepsFailed, durationMs: Math.round(f.durationMs), assertions: this.#assertions },
      artifacts: this.artifacts,
      redaction: { policy: policyName(o.redaction.policy), applied: { ...o.redaction.applied } },
    });
    return JSON.stringify(signEnvelope(JSON.stringify(statement), o.key));
  }
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
