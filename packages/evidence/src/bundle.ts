/**
 * Evidence bundles: what a risk team exports and an auditor verifies offline. A bundle is NDJSON, one JSON
 * object per line, so a 100,000-record bundle streams through without being held whole:
 *
 *   {"type":"manifest","envelope":DSSE}            the manifest, signed by the log key (see BundleManifest)
 *   {"type":"checkpoint","note":…,"previous":…,"consistencyProof":[…]}   signed checkpoint notes
 *   {"type":"record","index":i,"integratedTimeMs":t,"envelope":DSSE,"proof":[…]}   one per log entry
 *   {"type":"artifact","runId":…,"name":…,"sha256":…,"bytes":…,"mediaType":…,"data":base64}   when exported
 *
 * A log leaf is the RFC 8785 form of {envelope, integratedTimeMs}; its inclusion proof leads to the
 * checkpoint's root. A bundle covers a contiguous range of the log, so a deleted entry shows as a gap.
 */
import type { KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ErrorCode } from '@vigil/errors';
import { VigilError } from '@vigil/errors';
import { parseVerifierKey, verifyCheckpoint, verifierKey, type Checkpoint } from './checkpoint.ts';
import { canonicalJson, sha256Hex } from './jcs.ts';
import { envelopePayload, isEnvelope, keyIdOf, publicKeyFromRaw, signEnvelope, verifyEnvelope, type DsseEnvelope, type SigningKey } from './keys.ts';
import { leafHash, verifyConsistency, verifyInclusion } from './merkle.ts';
import { PLANE_OUTCOMES, PROBE_OUTCOMES, parseStatement, type ErasurePredicate, type RunPredicate } from './statement.ts';

export const BUNDLE_FORMAT = 'vigil.evidence.bundle/v1';
export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.vigil.evidence-manifest+json';

export interface ProbeKeyEntry {
  keyId: string;
  probeId: string;
  publicKey: string;
  validFromMs: number;
  validUntilMs: number | null;
  /** Records integrated at or after this instant with this key are not to be trusted (key compromise). */
  revokedAtMs: number | null;
}

export interface TrustRoot {
  log: { origin: string; keyId: string; publicKey: string; verifierKey: string };
  probeKeys: ProbeKeyEntry[];
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  tenant: string;
  origin: string;
  createdAtMs: number;
  /** The time window asked for; the range holds the entries integrated in it. */
  window: { sinceMs: number | null; untilMs: number | null };
  /** Log indices [first, end) the bundle holds, every one of them. */
  range: { first: number; end: number };
  /** Erasure entries after the range that concern runs in it. */
  extraIndices: number[];
  /** Runs whose terminal record is in the range, and runs scheduled in the window that have none yet. */
  runs: Array<{ runId: string; scheduledAtMs: number; status: 'terminal' | 'pending' }>;
  artifactsIncluded: boolean;
  trustRoot: TrustRoot;
}

export type BundleLine =
  | { type: 'manifest'; envelope: DsseEnvelope }
  | { type: 'checkpoint'; note: string; previous: string | null; consistencyProof: string[] }
  | { type: 'record'; index: number; integratedTimeMs: number; envelope: DsseEnvelope; proof: string[] }
  | { type: 'artifact'; runId: string; name: string; sha256: string; bytes: number; mediaType: string; data: string };

/** The bytes of a log leaf. */
export function logLeaf(envelope: DsseEnvelope, integratedTimeMs: number): string {
  return canonicalJson({ envelope, integratedTimeMs });
}

export function signManifest(m: BundleManifest, logKey: SigningKey): DsseEnvelope {
  return signEnvelope(canonicalJson(m), logKey, MANIFEST_PAYLOAD_TYPE);
}

export function trustRootLog(origin: string, key: { publicKey: string }): TrustRoot['log'] {
  return { origin, keyId: keyIdOf(key.publicKey), publicKey: key.publicKey, verifierKey: verifierKey(origin, key.publicKey) };
}

// ---------------------------------------------------------------------------------------------------------------
// Verification

export interface VerifyProblem {
  code: ErrorCode;
  message: string;
  index?: number;
  runId?: string;
  artifact?: string;
}

export interface VerifyOptions {
  /** The log's verifier key as the auditor holds it (pinned out of band); without it the bundle's own is used and reported unpinned. */
  logKey?: string;
  /** A checkpoint note the auditor already holds; the bundle must prove the log grew from it append-only. */
  since?: string;
}

export interface VerifyReport {
  ok: boolean;
  problems: VerifyProblem[];
  log: { origin: string; size: number; rootHash: string; verifierKey: string; pinned: boolean } | null;
  consistency: 'verified' | 'not checked';
  records: number;
  runs: { listed: number; terminal: number; pending: number };
  outcomes: Record<string, number>;
  verdicts: Record<string, number>;
  artifacts: { verified: number; erased: number; notExported: number; missing: number };
  erased: Array<{ runId: string; name: string; erasedAtMs: number; reason: string }>;
  window: BundleManifest['window'] | null;
  range: BundleManifest['range'] | null;
}

const bundleInvalid = (message: string) => new VigilError('VIGIL_E_EVIDENCE_BUNDLE_INVALID', message, { fix: 'pass a bundle exported by GET /v1/evidence/bundle, unmodified' });

/** Verifies a bundle file (or any line source) offline. Never throws for a bad bundle: problems are in the report. */
export async function verifyBundle(source: string | AsyncIterable<string> | Iterable<string>, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const lines: AsyncIterable<string> = typeof source === 'string'
    ? createInterface({ input: createReadStream(source), crlfDelay: Infinity })
    : Symbol.asyncIterator in source ? source : Readable.from(source as Iterable<string>);
  const v = new BundleVerifier(opts);
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line.trim() === '') continue;
      let obj: BundleLine;
      try { obj = JSON.parse(line) as BundleLine; } catch { throw bundleInvalid(`line ${n} is not JSON`); }
      v.line(obj, n);
    }
  } catch (e) {
    if (e instanceof VigilError && e.code === 'VIGIL_E_EVIDENCE_BUNDLE_INVALID') { v.problem({ code: e.code, message: e.message }); return v.report(); }
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') { v.problem({ code: 'VIGIL_E_EVIDENCE_BUNDLE_INVALID', message: `no bundle file at ${String(source)}` }); return v.report(); }
    throw e;
  }
  return v.finish();
}

interface RunSeen { terminal: number; artifacts: Map<string, string> }

class BundleVerifier {
  readonly #o: VerifyOptions;
  readonly #problems: VerifyProblem[] = [];
  #manifest: BundleManifest | null = null;
  #checkpoint: Checkpoint | null = null;
  #pinned = false;
  #consistency: VerifyReport['consistency'] = 'not checked';
  readonly #indices = new Set<number>();
  readonly #runs = new Map<string, RunSeen>();
  readonly #erased = new Map<string, { erasedAtMs: number; reason: string }>();
  readonly #artifactsSeen = new Set<string>();
  readonly #outcomes: Record<string, number> = {};
  readonly #verdicts: Record<string, number> = {};
  readonly #art = { verified: 0, erased: 0, notExported: 0, missing: 0 };
  #records = 0;
  #probeKeys = new Map<string, ProbeKeyEntry>();
  readonly #keyObjects = new Map<string, KeyObject>();

  constructor(o: VerifyOptions) { this.#o = o; }

  problem(p: VerifyProblem): void { this.#problems.push(p); }

  line(l: BundleLine, n: number): void {
    if (n === 1 && l.type !== 'manifest') throw bundleInvalid('a bundle starts with its manifest line');
    switch (l.type) {
      case 'manifest': return this.#onManifest(l);
      case 'checkpoint': return this.#onCheckpoint(l);
      case 'record': return this.#onRecord(l);
      case 'artifact': return this.#onArtifact(l);
      default: throw bundleInvalid(`line ${n} has unknown type ${String((l as { type?: unknown }).type)}`);
    }
  }

  #onManifest(l: Extract<BundleLine, { type: 'manifest' }>): void {
    if (this.#manifest) throw bundleInvalid('a bundle has one manifest');
    if (!isEnvelope(l.envelope)) throw bundleInvalid('the manifest line carries no DSSE envelope');
    let m: BundleManifest;
    try { m = envelopePayload(l.envelope) as BundleManifest; } catch { throw bundleInvalid('the manifest payload is not JSON'); }
    if (m?.format !== BUNDLE_FORMAT) throw bundleInvalid(`the manifest format is ${String(m?.format)}, not ${BUNDLE_FORMAT}`);
    const logKey = m.trustRoot?.log;
    let trusted = logKey?.publicKey;
    if (this.#o.logKey) {
      const pinned = parseVerifierKey(this.#o.logKey);
      if (pinned.publicKey !== logKey?.publicKey || pinned.name !== m.origin) {
        this.problem({ code: 'VIGIL_E_EVIDENCE_MANIFEST', message: `the bundle's log key is not the pinned key ${pinned.name}` });
      }
      trusted = pinned.publicKey;
      this.#pinned = true;
    }
    if (l.envelope.payloadType !== MANIFEST_PAYLOAD_TYPE || !trusted || !verifyEnvelope(l.envelope, keyIdOf(trusted), publicKeyFromRaw(trusted))) {
      this.problem({ code: 'VIGIL_E_EVIDENCE_MANIFEST', message: 'the manifest signature does not verify with the log key' });
    }
    this.#manifest = m;
    this.#probeKeys = new Map((m.trustRoot.probeKeys ?? []).map((k) => [k.keyId, k]));
    for (const r of m.runs) this.#runs.set(r.runId, { terminal: 0, artifacts: new Map() });
  }

  #onCheckpoint(l: Extract<BundleLine, { type: 'checkpoint' }>): void {
    const m = this.#manifest!;
    const log = m.trustRoot.log;
    try {
      this.#checkpoint = verifyCheckpoint(l.note, m.origin, log.publicKey);
      if (this.#checkpoint.origin !== m.origin) throw new VigilError('VIGIL_E_EVIDENCE_CHECKPOINT', `checkpoint origin ${this.#checkpoint.origin} is not the log ${m.origin}`);
      if (this.#checkpoint.size < m.range.end) throw new VigilError('VIGIL_E_EVIDENCE_CHECKPOINT', `checkpoint size ${this.#checkpoint.size} does not cover the bundle's range end ${m.range.end}`);
    } catch (e) {
      this.#checkpoint = null;
      this.problem({ code: 'VIGIL_E_EVIDENCE_CHECKPOINT', message: (e as Error).message });
      return;
    }
    const held = this.#o.since ?? l.previous;
    if (!held) return;
    let old: Checkpoint;
    try { old = verifyCheckpoint(held, m.origin, log.publicKey); } catch (e) {
      this.problem({ code: 'VIGIL_E_EVIDENCE_CHECKPOINT', message: `the earlier checkpoint: ${(e as Error).message}` });
      return;
    }
    const prevInBundle = l.previous ? safeCheckpoint(l.previous, m.origin, log.publicKey) : null;
    if (this.#o.since && (!prevInBundle || prevInBundle.size !== old.size)) {
      this.problem({ code: 'VIGIL_E_EVIDENCE_CONSISTENCY', message: `the bundle carries no consistency proof from the held checkpoint (size ${old.size}); export it with ?fromSize=${old.size}` });
      return;
    }
    const proof = (l.consistencyProof ?? []).map((p) => Buffer.from(p, 'base64'));
    if (!verifyConsistency(old.size, this.#checkpoint.size, old.rootHash, this.#checkpoint.rootHash, proof)) {
      this.problem({ code: 'VIGIL_E_EVIDENCE_CONSISTENCY', message: `the log at size ${this.#checkpoint.size} is not an append-only extension of the checkpoint at size ${old.size}` });
      return;
    }
    this.#consistency = 'verified';
  }

  #onRecord(l: Extract<BundleLine, { type: 'record' }>): void {
    const m = this.#manifest!;
    this.#records++;
    const at = { index: l.index };
    if (!Number.isInteger(l.index) || this.#indices.has(l.index)) { this.problem({ code: 'VIGIL_E_EVIDENCE_DUPLICATE', message: `log entry ${l.index} appears twice`, ...at }); return; }
    this.#indices.add(l.index);
    if (!((l.index >= m.range.first && l.index < m.range.end) || m.extraIndices.includes(l.index))) {
      this.problem({ code: 'VIGIL_E_EVIDENCE_MANIFEST', message: `log entry ${l.index} is outside the range the manifest covers`, ...at });
      return;
    }
    if (!isEnvelope(l.envelope) || l.envelope.signatures.length === 0) { this.problem({ code: 'VIGIL_E_EVIDENCE_RECORD_INVALID', message: `entry ${l.index} carries no DSSE envelope`, ...at }); return; }
    // 1. Who signed it, and was that key good at the time the log took the record.
    const keyId = l.envelope.signatures[0]!.keyid;
    const logSigned = keyId === m.trustRoot.log.keyId;
    const probeKey = this.#probeKeys.get(keyId);
    if (!logSigned && !probeKey) { this.problem({ code: 'VIGIL_E_EVIDENCE_KEY_UNKNOWN', message: `entry ${l.index} is signed by key ${keyId}, which the trust root does not hold`, ...at }); return; }
    if (probeKey) {
      if (probeKey.revokedAtMs !== null && l.integratedTimeMs >= probeKey.revokedAtMs) {
        this.problem({ code: 'VIGIL_E_EVIDENCE_KEY_REVOKED', message: `entry ${l.index} was signed by probe ${probeKey.probeId}'s key ${keyId}, revoked at ${new Date(probeKey.revokedAtMs).toISOString()}`, ...at });
        return;
      }
      if (l.integratedTimeMs < probeKey.validFromMs || (probeKey.validUntilMs !== null && l.integratedTimeMs >= probeKey.validUntilMs)) {
        this.problem({ code: 'VIGIL_E_EVIDENCE_KEY_UNKNOWN', message: `entry ${l.index} was logged outside the validity window of key ${keyId}`, ...at });
        return;
      }
    }
    const publicKey = logSigned ? m.trustRoot.log.publicKey : probeKey!.publicKey;
    let keyObject = this.#keyObjects.get(keyId);
    if (!keyObject) { keyObject = publicKeyFromRaw(publicKey); this.#keyObjects.set(keyId, keyObject); }
    // 2. The signature over the statement.
    if (!verifyEnvelope(l.envelope, keyId, keyObject)) { this.problem({ code: 'VIGIL_E_EVIDENCE_SIGNATURE', message: `entry ${l.index}: the signature does not verify (the record was changed after signing)`, ...at }); return; }
    // 3. What it says, and whether its signer may say it.
    let parsed;
    try { parsed = parseStatement(envelopePayload(l.envelope)); } catch (e) {
      this.problem({ code: 'VIGIL_E_EVIDENCE_RECORD_INVALID', message: `entry ${l.index}: ${(e as Error).message}`, ...at });
      return;
    }
    // 4. That it sits at this index of the log the checkpoint commits to.
    if (this.#checkpoint) {
      const proof = (l.proof ?? []).map((p) => Buffer.from(p, 'base64'));
      if (!verifyInclusion(l.index, this.#checkpoint.size, leafHash(logLeaf(l.envelope, l.integratedTimeMs)), proof, this.#checkpoint.rootHash)) {
        this.problem({ code: 'VIGIL_E_EVIDENCE_INCLUSION', message: `entry ${l.index}: the inclusion proof does not lead to the checkpoint root (changed, moved or reordered entry)`, ...at });
        return;
      }
    }
    if (parsed.kind === 'erasure') {
      if (!logSigned) { this.problem({ code: 'VIGIL_E_EVIDENCE_RECORD_INVALID', message: `entry ${l.index}: an erasure record must be signed by the log`, ...at }); return; }
      const p: ErasurePredicate = parsed.statement.predicate;
      for (const a of p.artifacts) this.#erased.set(`${p.runId}/${a.name}`, { erasedAtMs: p.erasedAtMs, reason: p.reason });
      return;
    }
    const p: RunPredicate = parsed.statement.predicate;
    const allowed = logSigned ? PLANE_OUTCOMES : PROBE_OUTCOMES;
    if (!allowed.includes(p.run.outcome) || (probeKey && p.where.probeId !== probeKey.probeId)) {
      this.problem({ code: 'VIGIL_E_EVIDENCE_RECORD_INVALID', message: `entry ${l.index}: a ${logSigned ? 'log' : `probe ${probeKey!.probeId}`}-signed record cannot state outcome ${p.run.outcome}${probeKey ? ` for probe ${p.where.probeId}` : ''}`, ...at });
      return;
    }
    const run = this.#runs.get(p.run.id);
    if (!run) { this.problem({ code: 'VIGIL_E_EVIDENCE_MANIFEST', message: `entry ${l.index} is the record of run ${p.run.id}, which the manifest does not list`, ...at, runId: p.run.id }); return; }
    run.terminal++;
    if (run.terminal > 1) { this.problem({ code: 'VIGIL_E_EVIDENCE_DUPLICATE', message: `run ${p.run.id} has more than one terminal record (entry ${l.index})`, ...at, runId: p.run.id }); return; }
    for (const a of p.artifacts) run.artifacts.set(a.name, a.sha256);
    this.#outcomes[p.run.outcome] = (this.#outcomes[p.run.outcome] ?? 0) + 1;
    this.#verdicts[p.run.verdict] = (this.#verdicts[p.run.verdict] ?? 0) + 1;
  }

  #onArtifact(l: Extract<BundleLine, { type: 'artifact' }>): void {
    const key = `${l.runId}/${l.name}`;
    const run = this.#runs.get(l.runId);
    if (run && run.terminal === 0) return; // its record failed, and that is reported already
    const want = run?.artifacts.get(l.name);
    if (!want) { this.problem({ code: 'VIGIL_E_EVIDENCE_MANIFEST', message: `artifact ${key} is not named by any record in the bundle`, runId: l.runId, artifact: l.name }); return; }
    this.#artifactsSeen.add(key);
    const data = Buffer.from(l.data ?? '', 'base64');
    if (sha256Hex(data) !== want) { this.problem({ code: 'VIGIL_E_EVIDENCE_ARTIFACT_HASH', message: `artifact ${key}: its bytes do not hash to the sha256 the signed record names`, runId: l.runId, artifact: l.name }); return; }
    this.#art.verified++;
  }

  finish(): VerifyReport {
    const m = this.#manifest;
    if (!m) { this.problem({ code: 'VIGIL_E_EVIDENCE_BUNDLE_INVALID', message: 'the bundle is empty' }); return this.report(); }
    if (!this.#checkpoint && !this.#problems.some((p) => p.code === 'VIGIL_E_EVIDENCE_CHECKPOINT')) this.problem({ code: 'VIGIL_E_EVIDENCE_CHECKPOINT', message: 'the bundle has no checkpoint' });
    for (let i = m.range.first; i < m.range.end; i++) {
      if (!this.#indices.has(i)) this.problem({ code: 'VIGIL_E_EVIDENCE_LEAF_MISSING', message: `log entry ${i} is in the manifest's range but not in the bundle (deleted entry)`, index: i });
    }
    for (const i of m.extraIndices) if (!this.#indices.has(i)) this.problem({ code: 'VIGIL_E_EVIDENCE_LEAF_MISSING', message: `erasure entry ${i} the manifest names is not in the bundle`, index: i });
    for (const r of m.runs) {
      const seen = this.#runs.get(r.runId)!;
      if (r.status === 'terminal' && seen.terminal === 0) this.problem({ code: 'VIGIL_E_EVIDENCE_INCOMPLETE', message: `run ${r.runId} (scheduled ${new Date(r.scheduledAtMs).toISOString()}) has no valid terminal record`, runId: r.runId });
      for (const [name] of seen.artifacts) {
        const key = `${r.runId}/${name}`;
        if (this.#artifactsSeen.has(key)) continue;
        if (this.#erased.has(key)) this.#art.erased++;
        else if (!m.artifactsIncluded) this.#art.notExported++;
        else { this.#art.missing++; this.problem({ code: 'VIGIL_E_EVIDENCE_ARTIFACT_MISSING', message: `artifact ${key} is named by its run's record but is neither in the bundle nor erased`, runId: r.runId, artifact: name }); }
      }
    }
    return this.report();
  }

  report(): VerifyReport {
    const m = this.#manifest;
    const runs = m?.runs ?? [];
    return {
      ok: this.#problems.length === 0,
      problems: this.#problems,
      log: m && this.#checkpoint ? { origin: m.origin, size: this.#checkpoint.size, rootHash: this.#checkpoint.rootHash.toString('base64'), verifierKey: m.trustRoot.log.verifierKey, pinned: this.#pinned } : null,
      consistency: this.#consistency,
      records: this.#records,
      runs: { listed: runs.length, terminal: runs.filter((r) => r.status === 'terminal').length, pending: runs.filter((r) => r.status === 'pending').length },
      outcomes: this.#outcomes,
      verdicts: this.#verdicts,
      artifacts: this.#art,
      erased: [...this.#erased].map(([k, e]) => ({ runId: k.slice(0, k.indexOf('/')), name: k.slice(k.indexOf('/') + 1), ...e })),
      window: m?.window ?? null,
      range: m?.range ?? null,
    };
  }
}

function safeCheckpoint(note: string, origin: string, publicKey: string): Checkpoint | null {
  try { return verifyCheckpoint(note, origin, publicKey); } catch { return null; }
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

export interface BundleInput {
  manifest: BundleManifest;
  logKey: SigningKey;
  checkpoint: string;
  previous: string | null;
  consistencyProof: Buffer[];
  /** Entries in index order: the range, then the extra (erasure) indices. */
  records: AsyncIterable<{ index: number; integratedTimeMs: number; envelope: DsseEnvelope }> | Iterable<{ index: number; integratedTimeMs: number; envelope: DsseEnvelope }>;
  proof: (index: number) => Buffer[];
  artifacts?: AsyncIterable<{ runId: string; name: string; sha256: string; bytes: number; mediaType: string; data: Buffer }>;
}

/** The bundle's lines, each ending in "\n", streamed. */
export async function* bundleLines(b: BundleInput): AsyncGenerator<string> {
  yield `${JSON.stringify({ type: 'manifest', envelope: signManifest(b.manifest, b.logKey) })}\n`;
  yield `${JSON.stringify({ type: 'checkpoint', note: b.checkpoint, previous: b.previous, consistencyProof: b.consistencyProof.map((p) => p.toString('base64')) })}\n`;
  for await (const r of b.records) {
    yield `${JSON.stringify({ type: 'record', index: r.index, integratedTimeMs: r.integratedTimeMs, envelope: r.envelope, proof: b.proof(r.index).map((p) => p.toString('base64')) })}\n`;
  }
  if (b.artifacts) {
    for await (const a of b.artifacts) {
      yield `${JSON.stringify({ type: 'artifact', runId: a.runId, name: a.name, sha256: a.sha256, bytes: a.bytes, mediaType: a.mediaType, data: a.data.toString('base64') })}\n`;
    }
  }
}
