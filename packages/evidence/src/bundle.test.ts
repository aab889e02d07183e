import { describe, expect, it } from 'vitest';
import { BUNDLE_FORMAT, bundleLines, logLeaf, trustRootLog, verifyBundle, type BundleManifest, type ProbeKeyEntry } from './bundle.ts';
import { signCheckpoint } from './checkpoint.ts';
import { sha256Hex } from './jcs.ts';
import { generateSigningKey, signEnvelope, type DsseEnvelope, type SigningKey } from './keys.ts';
import { MerkleTree, leafHash } from './merkle.ts';
import { erasureStatement, runStatement, type RunPredicate } from './statement.ts';

const ORIGIN = 'vigil.test/acme';
const T0 = Date.UTC(2026, 10, 1);

function predicate(runId: string, probeId: string, artifact: Buffer): RunPredicate {
  return {
    run: { id: runId, attempt: 1, scheduleId: 's1', outcome: 'completed', verdict: 'pass', errorCode: null },
    test: { journeyId: 'j1', journeyName: 'balance', journeyVersion: 1, journeyVersionId: 'a'.repeat(64), contentHash: 'b'.repeat(64) },
    when: { scheduledAtMs: T0, startedAtMs: T0 + 10, endedAtMs: T0 + 900, probeClockOffsetMs: 2 },
    where: { probeId, region: 'eu-west', probeVersion: '0.1.0' },
    conditions: { targetId: 't1', targetName: 'bot', channel: 'voice.sip', endpointSaltedSha256: 'c'.repeat(64), codec: 'PCMU', targetVersions: {}, judges: [] },
    outcome: { verdict: 'pass', stepsPassed: 2, stepsFailed: 0, durationMs: 890, assertions: [{ step: 1, assertion: 'contains "balance"', verdict: 'pass', score: null, threshold: null }] },
    artifacts: [{ name: 'call.wav', sha256: sha256Hex(artifact), bytes: artifact.length, mediaType: 'audio/wav', retention: 'recording', redactions: ['dtmf'] }],
    redaction: { policy: 'default', applied: { dtmf: 1 } },
  };
}

interface Fixture { lines: string[]; logKey: SigningKey; probeKey: SigningKey; tree: MerkleTree; firstCheckpoint: string }

async function fixture(o: { runs?: number; revokedAtMs?: number | null; erase?: boolean } = {}): Promise<Fixture> {
  const logKey = generateSigningKey();
  const probeKey = generateSigningKey();
  const tree = new MerkleTree();
  const entries: Array<{ index: number; integratedTimeMs: number; envelope: DsseEnvelope }> = [];
  const artifacts: Array<{ runId: string; name: string; sha256: string; bytes: number; mediaType: string; data: Buffer }> = [];
  const runs: BundleManifest['runs'] = [];
  let firstCheckpoint = '';
  const n = o.runs ?? 5;
  for (let i = 0; i < n; i++) {
    const runId = `run-${i}`;
    const data = Buffer.from(`recording of ${runId}`);
    const envelope = signEnvelope(JSON.stringify(runStatement(predicate(runId, 'probe-1', data))), probeKey);
    const at = T0 + 1000 * (i + 1);
    entries.push({ index: tree.append(leafHash(logLeaf(envelope, at))), integratedTimeMs: at, envelope });
    runs.push({ runId, scheduledAtMs: T0 + i, status: 'terminal' });
    if (!(o.erase && i === 1)) artifacts.push({ runId, name: 'call.wav', sha256: sha256Hex(data), bytes: data.length, mediaType: 'audio/wav', data });
    if (i === 1) firstCheckpoint = signCheckpoint({ origin: ORIGIN, size: tree.size, rootHash: tree.root() }, logKey);
  }
  const end = tree.size;
  const extra: number[] = [];
  if (o.erase) {
    const envelope = signEnvelope(JSON.stringify(erasureStatement({ runId: 'run-1', artifacts: [{ name: 'call.wav', sha256: sha256Hex(Buffer.from('recording of run-1')) }], erasedAtMs: T0 + 99_000, reason: 'gdpr-art17' })), logKey);
    const index = tree.append(leafHash(logLeaf(envelope, T0 + 99_000)));
    entries.push({ index, integratedTimeMs: T0 + 99_000, envelope });
    extra.push(index);
  }
  const probeKeys: ProbeKeyEntry[] = [{ keyId: probeKey.keyId, probeId: 'probe-1', publicKey: probeKey.publicKey, validFromMs: T0, validUntilMs: null, revokedAtMs: o.revokedAtMs ?? null }];
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT, tenant: 'acme', origin: ORIGIN, createdAtMs: T0 + 100_000, window: { sinceMs: T0, untilMs: T0 + 50_000 },
    range: { first: 0, end }, extraIndices: extra, runs, artifactsIncluded: true, trustRoot: { log: trustRootLog(ORIGIN, logKey), probeKeys },
  };
  const checkpoint = signCheckpoint({ origin: ORIGIN, size: tree.size, rootHash: tree.root() }, logKey);
  const lines: string[] = [];
  for await (const l of bundleLines({
    manifest, logKey, checkpoint, previous: firstCheckpoint, consistencyProof: tree.consistencyProof(2, tree.size),
    records: entries, proof: (i) => tree.inclusionProof(i, tree.size),
    artifacts: (async function* () { yield* artifacts; })(),
  })) lines.push(l.trimEnd());
  return { lines, logKey, probeKey, tree, firstCheckpoint };
}

const codes = (r: { problems: Array<{ code: string }> }) => [...new Set(r.problems.map((p) => p.code))];
const recordLine = (f: Fixture, index: number) => f.lines.findIndex((l) => l.includes('"type":"record"') && JSON.parse(l).index === index);

describe('evidence bundles, verified offline', () => {
  it('an untouched bundle passes, with its consistency from the earlier checkpoint proven', async () => {
    const f = await fixture();
    const r = await verifyBundle(f.lines, { since: f.firstCheckpoint, logKey: JSON.parse(Buffer.from(JSON.parse(f.lines[0]!).envelope.payload, 'base64').toString()).trustRoot.log.verifierKey });
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.consistency).toBe('verified');
    expect(r.log?.pinned).toBe(true);
    expect(r.records).toBe(5);
    expect(r.artifacts).toEqual({ verified: 5, erased: 0, notExported: 0, missing: 0 });
    expect(r.outcomes).toEqual({ completed: 5 });
  });

  it('a flipped byte in a record fails its signature', async () => {
    const f = await fixture();
    const i = recordLine(f, 2);
    const rec = JSON.parse(f.lines[i]!);
    const payload = Buffer.from(rec.envelope.payload, 'base64');
    payload[payload.indexOf('pass')] ^= 0x01; // "pass" → "qass"
    rec.envelope.payload = payload.toString('base64');
    f.lines[i] = JSON.stringify(rec);
    const r = await verifyBundle(f.lines);
    expect(r.ok).toBe(false);
    expect(codes(r)[0]).toBe('VIGIL_E_EVIDENCE_SIGNATURE');
    expect(r.problems[0]!.index).toBe(2);
  });

  it('a flipped byte in an artifact fails its hash', async () => {
    const f = await fixture();
    const i = f.lines.findIndex((l) => l.includes('"type":"artifact"') && l.includes('run-3'));
    const a = JSON.parse(f.lines[i]!);
    const data = Buffer.from(a.data, 'base64');
    data[0] ^= 0x80;
    a.data = data.toString('base64');
    f.lines[i] = JSON.stringify(a);
    expect(codes(await verifyBundle(f.lines))).toEqual(['VIGIL_E_EVIDENCE_ARTIFACT_HASH']);
  });

  it('reordered entries fail their inclusion proofs', async () => {
    const f = await fixture();
    const a = recordLine(f, 1), b = recordLine(f, 3);
    const ra = JSON.parse(f.lines[a]!), rb = JSON.parse(f.lines[b]!);
    [ra.envelope, rb.envelope, ra.integratedTimeMs, rb.integratedTimeMs] = [rb.envelope, ra.envelope, rb.integratedTimeMs, ra.integratedTimeMs];
    f.lines[a] = JSON.stringify(ra);
    f.lines[b] = JSON.stringify(rb);
    const r = await verifyBundle(f.lines);
    expect(codes(r)).toEqual(['VIGIL_E_EVIDENCE_INCLUSION', 'VIGIL_E_EVIDENCE_INCOMPLETE']);
    expect(r.problems.filter((p) => p.code === 'VIGIL_E_EVIDENCE_INCLUSION').map((p) => p.index)).toEqual([1, 3]);
  });

  it('a deleted entry is a gap in the signed range, and its run is incomplete', async () => {
    const f = await fixture();
    f.lines.splice(recordLine(f, 2), 1);
    const r = await verifyBundle(f.lines);
    expect(codes(r)).toEqual(['VIGIL_E_EVIDENCE_LEAF_MISSING', 'VIGIL_E_EVIDENCE_INCOMPLETE']);
    expect(r.problems[0]).toMatchObject({ index: 2 });
  });

  it('a forged checkpoint fails, whether re-signed by another key or with its root changed', async () => {
    const f = await fixture();
    const cp = JSON.parse(f.lines[1]!);
    const forger = generateSigningKey();
    f.lines[1] = JSON.stringify({ ...cp, note: signCheckpoint({ origin: ORIGIN, size: f.tree.size, rootHash: f.tree.root() }, forger) });
    expect(codes(await verifyBundle(f.lines))[0]).toBe('VIGIL_E_EVIDENCE_CHECKPOINT');
    const g = await fixture();
    const cp2 = JSON.parse(g.lines[1]!);
    const lines = (cp2.note as string).split('\n');
    lines[2] = Buffer.alloc(32, 7).toString('base64');
    g.lines[1] = JSON.stringify({ ...cp2, note: lines.join('\n') });
    expect(codes(await verifyBundle(g.lines))[0]).toBe('VIGIL_E_EVIDENCE_CHECKPOINT');
  });

  it('a record signed by a probe key revoked before it was logged fails as revoked', async () => {
    const f = await fixture({ revokedAtMs: T0 + 3500 });
    const r = await verifyBundle(f.lines);
    expect(codes(r)).toEqual(['VIGIL_E_EVIDENCE_KEY_REVOKED', 'VIGIL_E_EVIDENCE_INCOMPLETE']);
    expect(r.problems.filter((p) => p.code === 'VIGIL_E_EVIDENCE_KEY_REVOKED').map((p) => p.index)).toEqual([3, 4]);
  });

  it('a history rewritten after the auditor\'s checkpoint fails consistency', async () => {
    const f = await fixture();
    const other = await fixture(); // another log under the same origin and… another key: sign a held checkpoint with this log's key instead
    const held = signCheckpoint({ origin: ORIGIN, size: 2, rootHash: other.tree.root(2) }, f.logKey);
    const r = await verifyBundle(f.lines, { since: held });
    expect(codes(r)).toEqual(['VIGIL_E_EVIDENCE_CONSISTENCY']);
  });

  it('an erased artifact keeps the bundle green and is reported as erased', async () => {
    const f = await fixture({ erase: true });
    const r = await verifyBundle(f.lines);
    expect(r.problems).toEqual([]);
    expect(r.artifacts).toEqual({ verified: 4, erased: 1, notExported: 0, missing: 0 });
    expect(r.erased).toEqual([{ runId: 'run-1', name: 'call.wav', erasedAtMs: T0 + 99_000, reason: 'gdpr-art17' }]);
  });

  it('an artifact dropped without an erasure record is missing', async () => {
    const f = await fixture();
    f.lines.splice(f.lines.findIndex((l) => l.includes('"type":"artifact"') && l.includes('run-0')), 1);
    expect(codes(await verifyBundle(f.lines))).toEqual(['VIGIL_E_EVIDENCE_ARTIFACT_MISSING']);
  });

  it('a duplicated terminal record is refused', async () => {
    const f = await fixture();
    const rec = JSON.parse(f.lines[recordLine(f, 4)]!);
    const r2 = JSON.parse(f.lines[recordLine(f, 0)]!);
    r2.envelope = rec.envelope; // run-4's record again at entry 0: signature fine, inclusion not
    f.lines[recordLine(f, 0)] = JSON.stringify(r2);
    expect(codes(await verifyBundle(f.lines))).toContain('VIGIL_E_EVIDENCE_INCLUSION');
  });

  it('a manifest edited to hide a run fails its signature', async () => {
    const f = await fixture();
    const m = JSON.parse(f.lines[0]!);
    const body = JSON.parse(Buffer.from(m.envelope.payload, 'base64').toString());
    body.runs.pop();
    m.envelope.payload = Buffer.from(JSON.stringify(body)).toString('base64');
    f.lines[0] = JSON.stringify(m);
    expect(codes(await verifyBundle(f.lines))[0]).toBe('VIGIL_E_EVIDENCE_MANIFEST');
  });

  it('a file that is not a bundle gets a clear error', async () => {
    expect(codes(await verifyBundle(['not json']))).toEqual(['VIGIL_E_EVIDENCE_BUNDLE_INVALID']);
    expect(codes(await verifyBundle('/nonexistent/bundle.ndjson'))).toEqual(['VIGIL_E_EVIDENCE_BUNDLE_INVALID']);
  });
});
