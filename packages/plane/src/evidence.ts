/**
 * The plane's evidence service. Probes enrol their Ed25519 keys at registration and sign one record per run
 * (a DSSE envelope over an in-toto statement); the plane checks each against the enrolled key and the run it
 * claims, and appends it to the tenant's Merkle log in the same transaction that stores the run's verdict.
 * Runs nobody finished by their deadline get a plane-signed missed/interrupted record, so every scheduled run
 * has exactly one terminal record. Checkpoints (C2SP signed notes) are signed by the log key; inclusion and
 * consistency proofs come from a tree cache that catches up with the database before each use.
 *
 * Artifacts are sealed with AES-256-GCM under a per-run key, itself wrapped by the plane's key-encryption key.
 * Erasure destroys the run key and appends a signed erasure record; bundles still verify and report it.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { RunRequest } from '@vigil/contract';
import {
  BUNDLE_FORMAT, MerkleTree, PROBE_OUTCOMES, bundleLines, contentHash, envelopePayload, erasureStatement, generateSigningKey, isEnvelope, leafHash, logLeaf,
  parseStatement, privateKeyToPem, publicKeyFromRaw, runStatement, signCheckpoint, signEnvelope, signingKeyFromPem, trustRootLog, verifyEnvelope,
  keyIdOf, type BundleManifest, type DsseEnvelope, type RunPredicate, type SigningKey, type TrustRoot,
} from '@vigil/evidence';
import { VigilError } from '@vigil/errors';
import type { Db, EvidenceStore, FinalHook, QueuedEntry, RunRow, Store } from '@vigil/store';

export interface EvidenceConfig {
  tenant: string;
  origin: string;
  keyFile: string | undefined;
  kekFile: string | undefined;
  runDeadlineMs: number;
}

const MAX_ARTIFACT_BYTES = 256 * 1024 * 1024;

function recordInvalid(message: string, field: string): VigilError {
  return new VigilError('VIGIL_E_EVIDENCE_RECORD_INVALID', message, { field, fix: 'the probe must sign a record of this run with its enrolled key (upgrade the probe)' });
}

function seal(key: Buffer, plain: Buffer, aad: string): Buffer {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(aad));
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
}

export class EvidenceService {
  readonly tenant: string;
  readonly origin: string;
  readonly logKey: SigningKey;
  readonly #kek: Buffer;
  readonly #es: EvidenceStore;
  readonly #store: Store;
  readonly #log: Logger;
  readonly #deadlineMs: number;
  readonly #tree = new MerkleTree();
  #syncing: Promise<void> | undefined;
  #integrating: Promise<number> | undefined;
  #kickTimer: NodeJS.Timeout | undefined;

  private constructor(store: Store, es: EvidenceStore, cfg: EvidenceConfig, logKey: SigningKey, kek: Buffer, log: Logger) {
    this.#store = store;
    this.#es = es;
    this.tenant = cfg.tenant;
    this.origin = cfg.origin;
    this.logKey = logKey;
    this.#kek = kek;
    this.#log = log;
    this.#deadlineMs = cfg.runDeadlineMs;
  }

  static async open(store: Store, es: EvidenceStore, cfg: EvidenceConfig, log: Logger): Promise<EvidenceService> {
    const read = async (file: string, field: string) => {
      try { return await readFile(file, 'utf8'); } catch (e) {
        throw new VigilError('VIGIL_E_CONFIG_INVALID', `cannot read ${field} ${file}: ${(e as Error).message}`, { field, fix: `put the file there or unset ${field}` });
      }
    };
    let logKey: SigningKey;
    if (cfg.keyFile) logKey = signingKeyFromPem(await read(cfg.keyFile, 'VIGIL_EVIDENCE_KEY_FILE'), 'VIGIL_EVIDENCE_KEY_FILE');
    else {
      const pem = await es.secret(`log-key:${cfg.tenant}`, () => Buffer.from(privateKeyToPem(generateSigningKey())));
      logKey = signingKeyFromPem(pem.toString('utf8'), 'plane_secrets log key');
      log.warn('VIGIL_EVIDENCE_KEY_FILE is not set: the log signing key is kept in the database; set it in production');
    }
    let kek: Buffer;
    if (cfg.kekFile) {
      kek = Buffer.from((await read(cfg.kekFile, 'VIGIL_EVIDENCE_KEK_FILE')).trim(), 'base64');
      if (kek.length !== 32) throw new VigilError('VIGIL_E_CONFIG_INVALID', `VIGIL_EVIDENCE_KEK_FILE must hold 32 bytes in base64, got ${kek.length}`, { field: 'VIGIL_EVIDENCE_KEK_FILE', fix: 'openssl rand -base64 32 > kek.b64' });
    } else {
      kek = await es.secret('kek', () => randomBytes(32));
    }
    await es.ensureLogKey(cfg.tenant, logKey.keyId, logKey.publicKey, new Date());
    const svc = new EvidenceService(store, es, cfg, logKey, kek, log);
    await svc.sync();
    return svc;
  }

  get verifierKey(): string { return trustRootLog(this.origin, this.logKey).verifierKey; }

  /** Integrates what is queued, then catches the tree cache up with the database (other planes append too). */
  sync(): Promise<void> {
    this.#syncing ??= (async () => {
      await this.integrate();
      for (;;) {
        const hashes = await this.#es.leafHashes(this.tenant, this.#tree.size);
        for (const h of hashes) this.#tree.append(h);
        if (hashes.length < 50_000) return;
      }
    })().finally(() => { this.#syncing = undefined; });
    return this.#syncing;
  }

  // --- keys ------------------------------------------------------------------------------------------------

  async enroll(probeId: string, publicKey: string): Promise<string> {
    if (!publicKey) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'the probe sent no public key', { field: 'public_key', fix: 'upgrade the probe: it must enrol an Ed25519 key to sign evidence' });
    publicKeyFromRaw(publicKey, 'public_key');
    const keyId = keyIdOf(publicKey);
    await this.#es.enrollProbeKey(this.tenant, probeId, keyId, publicKey, new Date());
    return keyId;
  }

  async trustRoot(): Promise<TrustRoot> {
    const keys = await this.#es.listKeys(this.tenant);
    return {
      log: trustRootLog(this.origin, this.logKey),
      probeKeys: keys.filter((k) => k.kind === 'probe').map((k) => ({
        keyId: k.keyId, probeId: k.probeId!, publicKey: k.publicKey, validFromMs: k.validFrom.getTime(),
        validUntilMs: k.validUntil?.getTime() ?? null, revokedAtMs: k.revokedAt?.getTime() ?? null,
      })),
    };
  }

  // --- records ---------------------------------------------------------------------------------------------

  /** The ingest hook: checks the probe's record of a run that has just become final and logs it. */
  readonly onFinal: FinalHook = async (tx, e, run) => {
    const text = e.body.evidenceDsse;
    if (!text) throw recordInvalid(`run_finished of run ${e.runId} carries no evidence record`, 'run_finished.evidence_dsse_json');
    let env: DsseEnvelope;
    try { env = JSON.parse(text) as DsseEnvelope; } catch { throw recordInvalid('evidence_dsse_json is not JSON', 'run_finished.evidence_dsse_json'); }
    if (!isEnvelope(env) || env.signatures.length === 0) throw recordInvalid('evidence_dsse_json is not a signed DSSE envelope', 'run_finished.evidence_dsse_json');
    const keyId = env.signatures[0]!.keyid;
    // Every query here goes through the ingest transaction (PGlite has one connection).
    const key = await this.#es.getKey(keyId, tx);
    const now = new Date();
    if (!key || key.kind !== 'probe' || key.probeId !== e.probeId || key.tenant !== this.tenant) throw new VigilError('VIGIL_E_EVIDENCE_KEY_UNKNOWN', `record of run ${e.runId} is signed by key ${keyId}, which is not enrolled for probe ${e.probeId}`, { fix: 'restart the probe so it enrols its key' });
    if (key.revokedAt && key.revokedAt <= now) throw new VigilError('VIGIL_E_EVIDENCE_KEY_REVOKED', `probe ${e.probeId}'s key ${keyId} is revoked`, { fix: 'give the probe a new key (delete its key file) and restart it' });
    if (key.validUntil && key.validUntil <= now) throw new VigilError('VIGIL_E_EVIDENCE_KEY_UNKNOWN', `probe ${e.probeId}'s key ${keyId} was rotated out`, { fix: 'restart the probe with its newest key' });
    if (!verifyEnvelope(env, keyId, publicKeyFromRaw(key.publicKey))) throw new VigilError('VIGIL_E_EVIDENCE_SIGNATURE', `record of run ${e.runId}: the signature does not verify`, { fix: 'the record was changed after signing, or signed with another key' });
    let parsed;
    try { parsed = parseStatement(envelopePayload(env)); } catch (err) { throw err instanceof VigilError ? err : recordInvalid('the record payload is not JSON', 'payload'); }
    if (parsed.kind !== 'run') throw recordInvalid('a probe record must carry the run predicate', 'predicateType');
    const p = parsed.statement.predicate;
    const mismatch = (field: string, got: unknown, want: unknown) => { if (got !== want) throw recordInvalid(`record of run ${e.runId}: ${field} is ${JSON.stringify(got)}, the run has ${JSON.stringify(want)}`, `predicate.${field}`); };
    mismatch('run.id', p.run.id, run.id);
    mismatch('run.attempt', p.run.attempt, e.attempt);
    mismatch('run.verdict', p.run.verdict, e.body.verdict);
    mismatch('where.probeId', p.where.probeId, e.probeId);
    mismatch('where.region', p.where.region, run.region);
    mismatch('test.journeyVersionId', p.test.journeyVersionId, run.journeyVersionId);
    mismatch('test.contentHash', p.test.contentHash, contentHash((run.request as RunRequest).journey));
    mismatch('conditions.targetId', p.conditions.targetId, run.targetId);
    if (!PROBE_OUTCOMES.includes(p.run.outcome)) throw recordInvalid(`a probe cannot sign outcome ${p.run.outcome}`, 'predicate.run.outcome');
    if (p.artifacts.length > 0) {
      const stored = new Map((await this.#es.artifactsOf(run.id, e.attempt, tx)).map((a) => [a.name, a]));
      for (const a of p.artifacts) {
        const s = stored.get(a.name);
        if (!s || s.sha256 !== a.sha256 || s.bytes !== a.bytes) throw recordInvalid(`record of run ${e.runId} names artifact ${a.name} (${a.sha256.slice(0, 12)}…), which the plane did not receive`, 'predicate.artifacts');
      }
    }
    await this.#es.queueEntries(tx, this.tenant, [this.#entry('run', run, keyId, env, p.run.outcome, p.run.verdict)]);
  };

  #entry(kind: 'run' | 'erasure', run: Pick<RunRow, 'id' | 'journeyId' | 'targetId' | 'region' | 'scheduledAt'>, keyId: string, envelope: DsseEnvelope, outcome: string | null, verdict: string | null): QueuedEntry {
    return { kind, runId: run.id, outcome, verdict, journeyId: run.journeyId, targetId: run.targetId, region: run.region, scheduledAt: run.scheduledAt, keyId, envelope };
  }

  /**
   * The sequencer: integrates queued records into the log (in batches, in queue order). Runs soon after
   * records are queued (`kick`), on each scheduler tick, and before anything reads the log.
   */
  integrate(): Promise<number> {
    this.#integrating ??= (async () => {
      let total = 0;
      for (;;) {
        const n = await this.#es.integrate(this.tenant, (env, ms) => leafHash(logLeaf(env as DsseEnvelope, ms)));
        total += n;
        if (n < 2000) return total;
      }
    })().finally(() => { this.#integrating = undefined; });
    return this.#integrating;
  }

  /** Asks for an integration shortly (records that arrive together share one). */
  kick(): void {
    if (this.#kickTimer) return;
    this.#kickTimer = setTimeout(() => {
      this.#kickTimer = undefined;
      this.integrate().catch((e) => this.#log.warn({ err: (e as Error).message }, 'evidence integration failed; retrying on the next tick'));
    }, 20);
  }

  close(): void {
    if (this.#kickTimer) clearTimeout(this.#kickTimer);
    this.#kickTimer = undefined;
  }

  /** Finishes overdue runs as missed (never started) or interrupted, each with a plane-signed record. */
  async sealOverdue(now = new Date(), onSealed?: (runId: string) => void): Promise<number> {
    const overdue = await this.#es.overdueRuns(new Date(now.getTime() - this.#deadlineMs));
    let n = 0;
    for (const run of overdue) {
      const outcome = run.startedAt ? 'interrupted' as const : 'missed' as const;
      const code = outcome === 'missed' ? 'VIGIL_E_RUN_MISSED' : 'VIGIL_E_RUN_INTERRUPTED';
      const message = outcome === 'missed' ? `no probe in ${run.region} started the run within ${this.#deadlineMs} ms` : `probe ${run.probeId} started the run and no result came within ${this.#deadlineMs} ms`;
      const req = run.request as RunRequest;
      const predicate: RunPredicate = {
        run: { id: run.id, attempt: run.attempt, scheduleId: run.scheduleId, outcome, verdict: 'error', errorCode: code },
        test: { journeyId: run.journeyId, journeyName: String((req.journey as { name?: unknown }).name ?? ''), journeyVersion: req.journeyVersion ?? null, journeyVersionId: run.journeyVersionId, contentHash: contentHash(req.journey) },
        when: { scheduledAtMs: run.scheduledAt.getTime(), startedAtMs: run.startedAt?.getTime() ?? null, endedAtMs: now.getTime(), probeClockOffsetMs: null },
        where: { probeId: run.probeId, region: run.region, probeVersion: null },
        conditions: { targetId: run.targetId, targetName: req.target.name, channel: req.target.channel, endpointSaltedSha256: null, codec: null, targetVersions: {}, judges: [] },
        outcome: { verdict: 'error', stepsPassed: 0, stepsFailed: 0, durationMs: 0, assertions: [] },
        artifacts: [],
        redaction: { policy: 'none', applied: {} },
      };
      const env = signEnvelope(JSON.stringify(runStatement(predicate)), this.logKey);
      const done = await this.#store.db.transaction(async (tx) => {
        const updated = await this.#store.finishRun(tx as unknown as Db, run.id, { verdict: 'error', errorCode: code, errorMessage: message, at: now });
        if (!updated) return false;
        await this.#es.queueEntries(tx as unknown as Db, this.tenant, [this.#entry('run', run, this.logKey.keyId, env, outcome, 'error')]);
        return true;
      });
      if (done) { n++; onSealed?.(run.id); this.#log.warn({ runId: run.id, region: run.region, outcome }, 'run sealed by the plane'); }
    }
    if (n) await this.integrate();
    return n;
  }

  // --- checkpoints and proofs ------------------------------------------------------------------------------

  /** The newest checkpoint, signing a new one when the log has grown since. */
  async checkpoint(): Promise<{ size: number; rootHash: Buffer; note: string }> {
    await this.sync();
    const size = this.#tree.size;
    const last = await this.#es.latestCheckpoint(this.tenant);
    if (last && last.size === size) return { size, rootHash: last.rootHash, note: last.note };
    const rootHash = this.#tree.root(size);
    const note = signCheckpoint({ origin: this.origin, size, rootHash }, this.logKey);
    await this.#es.putCheckpoint(this.tenant, size, rootHash, note);
    return { size, rootHash, note };
  }

  async inclusionProof(index: number, size: number): Promise<Buffer[]> {
    await this.sync();
    if (!(size >= 1 && size <= this.#tree.size)) throw new VigilError('VIGIL_E_REQUEST_INVALID', `treeSize ${size} is not a size this log has had (1–${this.#tree.size})`, { field: 'treeSize', fix: 'use the size of a checkpoint the log served' });
    if (!(index >= 0 && index < size)) throw new VigilError('VIGIL_E_REQUEST_INVALID', `index ${index} is not in a tree of ${size}`, { field: 'index', fix: `use an index from 0 to ${size - 1}` });
    return this.#tree.inclusionProof(index, size);
  }

  async consistencyProof(first: number, second: number): Promise<Buffer[]> {
    await this.sync();
    if (!(second >= 1 && second <= this.#tree.size)) throw new VigilError('VIGIL_E_REQUEST_INVALID', `second ${second} is not a size this log has had (1–${this.#tree.size})`, { field: 'second', fix: 'use the size of the newest checkpoint' });
    if (!(first >= 1 && first <= second)) throw new VigilError('VIGIL_E_REQUEST_INVALID', `first ${first} must be from 1 to ${second}`, { field: 'first', fix: 'use the size of the checkpoint you hold' });
    return this.#tree.consistencyProof(first, second);
  }

  // --- artifacts and erasure -------------------------------------------------------------------------------

  async #runKey(runId: string): Promise<{ key: Buffer; salt: Buffer }> {
    const row = await this.#es.runKey(runId, () => ({ wrappedKey: seal(this.#kek, randomBytes(32), `run-key:${runId}`), salt: randomBytes(16) }));
    if (!row.wrappedKey || !row.salt) throw new VigilError('VIGIL_E_ARTIFACT_ERASED', `run ${runId} was erased`, { fix: 'an erased run takes no new artifacts' });
    return { key: open(this.#kek, row.wrappedKey, `run-key:${runId}`), salt: row.salt };
  }

  async putArtifact(a: { runId: string; attempt: number; name: string; mediaType: string; retention: string; redactions: string[]; data: Buffer }): Promise<{ sha256: string; bytes: number; salt: Buffer }> {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(a.name)) throw new VigilError('VIGIL_E_REQUEST_INVALID', `artifact name "${a.name}" is not a file name`, { field: 'name', fix: 'use letters, digits, ".", "_" and "-" only' });
    if (a.data.length > MAX_ARTIFACT_BYTES) throw new VigilError('VIGIL_E_REQUEST_TOO_LARGE', `artifact ${a.name} is over ${MAX_ARTIFACT_BYTES} bytes`, { field: 'data' });
    const run = await this.#store.getRun(a.runId);
    if (!run) throw new VigilError('VIGIL_E_RUN_UNKNOWN', `unknown run ${a.runId}`, { field: 'run_id', fix: 'upload artifacts only for runs received from the plane\'s queue' });
    const { key, salt } = await this.#runKey(a.runId);
    const sha256 = createHash('sha256').update(a.data).digest('hex');
    await this.#es.putArtifact({
      runId: a.runId, attempt: a.attempt, name: a.name, sha256, bytes: a.data.length, mediaType: a.mediaType || 'application/octet-stream',
      retention: a.retention || 'default', redactions: a.redactions, sealed: seal(key, a.data, `${a.runId}/${a.attempt}/${a.name}`),
    });
    return { sha256, bytes: a.data.length, salt };
  }

  /** An artifact's bytes (of the attempt that finished the run); VIGIL_E_ARTIFACT_ERASED once erased. */
  async readArtifact(runId: string, name: string): Promise<{ data: Buffer; mediaType: string; sha256: string }> {
    const run = await this.#store.getRun(runId);
    if (!run) throw new VigilError('VIGIL_E_NOT_FOUND', `run ${runId} does not exist`, { field: 'runId' });
    const row = (await this.#es.artifactsOf(runId, run.attempt ?? undefined)).find((a) => a.name === name);
    if (!row) throw new VigilError('VIGIL_E_NOT_FOUND', `run ${runId} has no artifact ${name}`, { field: 'name' });
    const k = await this.#es.getRunKey(runId);
    if (!k?.wrappedKey || !row.sealed) throw new VigilError('VIGIL_E_ARTIFACT_ERASED', `artifact ${name} of run ${runId} was erased${k?.erasedAt ? ` at ${k.erasedAt.toISOString()}` : ''}`, { fix: 'only its sha256 remains, in the run\'s evidence record' });
    const key = open(this.#kek, k.wrappedKey, `run-key:${runId}`);
    return { data: open(key, row.sealed, `${runId}/${row.attempt}/${name}`), mediaType: row.mediaType, sha256: row.sha256 };
  }

  async erase(runId: string, reason: string): Promise<{ index: number; artifacts: Array<{ name: string; sha256: string }> }> {
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(reason)) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'reason must be a short code', { field: 'reason', fix: 'e.g. "gdpr-art17" or "retention-expired" (free text stays out of the signed record)' });
    const run = await this.#store.getRun(runId);
    if (!run) throw new VigilError('VIGIL_E_NOT_FOUND', `run ${runId} does not exist`, { field: 'runId' });
    const now = new Date();
    const done = await this.#es.erase(this.tenant, runId, reason, now, (arts) => {
      const env = signEnvelope(JSON.stringify(erasureStatement({ runId, artifacts: arts, erasedAtMs: now.getTime(), reason })), this.logKey);
      return this.#entry('erasure', run, this.logKey.keyId, env, null, null);
    });
    if (!done) throw new VigilError('VIGIL_E_CONFLICT', `run ${runId} has nothing to erase (no artifacts, or already erased)`, { field: 'runId', fix: 'GET /v1/evidence/records?runId= shows its erasure record' });
    await this.integrate();
    const [entry] = await this.#es.queryEntries({ tenant: this.tenant, runId, kind: 'erasure', limit: 1 });
    this.#log.info({ runId, reason, index: entry?.idx, artifacts: done.artifacts.length }, 'run artifacts erased');
    return { index: entry?.idx ?? -1, artifacts: done.artifacts };
  }

  // --- export ----------------------------------------------------------------------------------------------

  /**
   * A bundle of every entry integrated in [sinceMs, untilMs), with inclusion proofs against a fresh
   * checkpoint, the consistency proof from `fromSize` (a checkpoint the auditor holds), the trust root,
   * and the artifacts when asked.
   */
  async bundle(o: { sinceMs: number | null; untilMs: number | null; fromSize: number | null; artifacts: boolean }): Promise<AsyncGenerator<string>> {
    const cp = await this.checkpoint();
    const range = await this.#es.rangeFor(this.tenant, o.sinceMs, o.untilMs);
    range.end = Math.min(range.end, cp.size);
    range.first = Math.min(range.first, range.end);
    let previous: string | null = null;
    let consistency: Buffer[] = [];
    if (o.fromSize !== null) {
      if (o.fromSize < 1 || o.fromSize > cp.size) throw new VigilError('VIGIL_E_REQUEST_INVALID', `fromSize ${o.fromSize} is not a size of this log (1–${cp.size})`, { field: 'fromSize', fix: 'pass the tree size of the checkpoint you hold' });
      const held = await this.#es.checkpointAt(this.tenant, o.fromSize);
      if (!held) throw new VigilError('VIGIL_E_NOT_FOUND', `the log never signed a checkpoint of size ${o.fromSize}`, { field: 'fromSize', fix: 'pass the size of a checkpoint the log served (GET /v1/evidence/checkpoint)' });
      previous = held.note;
      consistency = this.#tree.consistencyProof(o.fromSize, cp.size);
    }
    const terminal: BundleManifest['runs'] = [];
    for await (const e of this.#es.entries(this.tenant, range.first, range.end)) {
      if (e.kind === 'run') terminal.push({ runId: e.runId, scheduledAtMs: e.scheduledAt?.getTime() ?? 0, status: 'terminal' });
    }
    const inRange = new Set(terminal.map((r) => r.runId));
    const pending = (await this.#es.pendingRuns(o.sinceMs, o.untilMs)).filter((r) => !inRange.has(r.id)).map((r) => ({ runId: r.id, scheduledAtMs: r.scheduledAt.getTime(), status: 'pending' as const }));
    const extras = (await this.#es.erasuresFor(this.tenant, [...inRange], range.end)).filter((e) => e.idx < cp.size);
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT, tenant: this.tenant, origin: this.origin, createdAtMs: Date.now(), window: { sinceMs: o.sinceMs, untilMs: o.untilMs },
      range, extraIndices: extras.map((e) => e.idx), runs: [...terminal, ...pending], artifactsIncluded: o.artifacts, trustRoot: await this.trustRoot(),
    };
    const es = this.#es;
    const tenant = this.tenant;
    const read = (runId: string, name: string) => this.readArtifact(runId, name);
    const tree = this.#tree;
    return bundleLines({
      manifest, logKey: this.logKey, checkpoint: cp.note, previous, consistencyProof: consistency,
      records: (async function* () {
        for await (const e of es.entries(tenant, range.first, range.end)) yield { index: e.idx, integratedTimeMs: e.integratedMs, envelope: e.envelope as DsseEnvelope };
        for (const e of extras) yield { index: e.idx, integratedTimeMs: e.integratedMs, envelope: e.envelope as DsseEnvelope };
      })(),
      proof: (i) => tree.inclusionProof(i, cp.size),
      ...(o.artifacts ? {
        artifacts: (async function* () {
          for await (const e of es.entries(tenant, range.first, range.end)) {
            if (e.kind !== 'run') continue;
            const p = (envelopePayload(e.envelope as DsseEnvelope) as { predicate: RunPredicate }).predicate;
            for (const a of p.artifacts) {
              try {
                const got = await read(e.runId, a.name);
                yield { runId: e.runId, name: a.name, sha256: got.sha256, bytes: got.data.length, mediaType: got.mediaType, data: got.data };
              } catch (err) {
                if (!(err instanceof VigilError && (err.code === 'VIGIL_E_ARTIFACT_ERASED' || err.code === 'VIGIL_E_NOT_FOUND'))) throw err;
              }
            }
          }
        })(),
      } : {}),
    });
  }
}
