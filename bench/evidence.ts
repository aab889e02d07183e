/**
 * `pnpm bench` — evidence numbers on this machine:
 *   1. Signing on the probe: in-toto run statements built and Ed25519/DSSE-signed per second.
 *   2. Appending on the plane: runs finished over gRPC whose records are verified (signature, enrolled key,
 *      the run they claim) and queued in the verdict's transaction, then integrated into the Merkle log by the
 *      sequencer, per second (real Postgres, 16 concurrent ReportRun streams; timed until all are in the log).
 *   3. Export of those records as a bundle through the API.
 *   4. Offline verification of a 100,000-record bundle (BENCH_BUNDLE_RECORDS), built with the same library
 *      and the same bundle writer the plane uses: seconds and records per second.
 * Options (env): BENCH_SIGN (5000), BENCH_APPEND_RUNS (2000), BENCH_STREAMS (16), BENCH_BUNDLE_RECORDS (100000).
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { loadContract, type RunEvent, type RunEventBody, type RunRequest } from '@vigil/contract';
import {
  BUNDLE_FORMAT, MerkleTree, bundleLines, generateSigningKey, leafHash, logLeaf, signCheckpoint, trustRootLog, verifyBundle, type BundleManifest, type DsseEnvelope, type SigningKey,
} from '@vigil/evidence';
import { createLogger, startPlane } from '@vigil/plane';
import { Redactor, RunRecord } from '@vigil/probe';
import { targetSpecOf } from '@vigil/store';
import { reportRun } from './report-stream.ts';
import { createTestDatabase, freePort, natsNames, NATS_URL } from '../tests/support/services.ts';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const SIGN = env('BENCH_SIGN', 5000);
const APPEND = env('BENCH_APPEND_RUNS', 2000);
const STREAMS = env('BENCH_STREAMS', 16);
const BUNDLE = env('BENCH_BUNDLE_RECORDS', 100_000);

const redactor = new Redactor({ dtmf: true, pii: [] });

function requestFor(i: number): RunRequest {
  return {
    runId: `run-${i}`, region: 'bench', journeyId: 'j', journeyVersionId: 'v'.repeat(64), journeyVersion: 1, scheduleId: 's', journey: { version: 1, name: 'bench', steps: [{ say: 'hello' }] },
    target: { id: 't', name: 'bot', channel: 'chat.openai', endpoint: 'http://bot.example/v1', config: {} }, scheduledAtMs: 1_800_000_000_000 + i * 1000, notBeforeMs: 1_800_000_000_000 + i * 1000,
  };
}

function signRun(req: RunRequest, key: SigningKey, probeId: string): string {
  const rec = new RunRecord(req, 1);
  rec.observe({ kind: 'run_started', journeyVersionId: req.journeyVersionId, targetId: req.target.id, region: req.region, channel: req.target.channel }, Date.now());
  for (let s = 0; s < 4; s++) rec.observe({ kind: 'assertion', stepIndex: s, assertion: `contains "balance" ${s}`, verdict: 'pass', expected: s % 2 ? '<= 1500 ms' : 'balance', actual: 'x', message: 'ok' }, Date.now());
  const finished: Extract<RunEventBody, { kind: 'run_finished' }> = { kind: 'run_finished', verdict: 'pass', durationMs: 4200, stepsPassed: 4, stepsFailed: 0 };
  return rec.sign({ key, probeId, region: req.region, probeVersion: 'bench', clockOffsetMs: 1, salt: Buffer.alloc(16, 7), finished, outcome: 'completed', endedAtMs: Date.now(), redaction: redactor });
}

async function main(): Promise<void> {
  const key = generateSigningKey();
  // 1. Signing
  const t0 = performance.now();
  for (let i = 0; i < SIGN; i++) signRun(requestFor(i), key, 'bench-probe');
  const signS = (performance.now() - t0) / 1000;

  // 2. + 3. Appending through the plane, and exporting.
  const db = await createTestDatabase();
  const nats = natsNames();
  const token = 'vgp_bench_evidence';
  const plane = await startPlane({
    databaseUrl: db.url, natsUrl: NATS_URL, natsStream: nats.stream, natsSubjectPrefix: nats.prefix, httpPort: await freePort(), grpcPort: await freePort(), probeTokens: [token], schedulerTickMs: 60_000,
  }, { logger: createLogger('silent', 'bench') });
  let appendS: number;
  let exportS: number;
  let exportBytes: number;
  let logSize: number;
  try {
    const { store } = plane;
    await plane.evidence.enroll('bench-probe', key.publicKey);
    const target = await store.createTarget({ name: 'bench-bot', channel: 'chat.openai', endpoint: 'http://127.0.0.1:9/v1', config: { model: 'm' } });
    const { journey, version } = await store.pushJourney({ name: 'bench', contentHash: 'e'.repeat(64), source: 'x', definition: { version: 1, name: 'bench', steps: [] } });
    const far = new Date(Date.now() + 86_400_000);
    const batches: RunEvent[][] = [];
    for (let i = 0; i < APPEND; i++) {
      const run = await store.createRun({ scheduleId: null, journeyId: journey.id, journeyVersionId: version.id, target: targetSpecOf(target), region: 'bench', scheduledAt: far, notBefore: far });
      const req = run.request as RunRequest;
      const head = { runId: run.id, attempt: 1, probeId: 'bench-probe' };
      batches.push([
        { ...head, seq: 1, atMs: Date.now(), body: { kind: 'run_started', journeyVersionId: req.journeyVersionId, targetId: req.target.id, region: 'bench', channel: 'chat.openai' } },
        { ...head, seq: 2, atMs: Date.now(), body: { kind: 'run_finished', verdict: 'pass', durationMs: 4200, stepsPassed: 4, stepsFailed: 0, evidenceDsse: signRun(req, key, 'bench-probe') } },
      ]);
    }
    const client = new (loadContract().vigil.v1.ProbeService)(plane.grpcAddress, grpc.credentials.createInsecure());
    const t1 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: STREAMS }, async () => { while (next < batches.length) await reportRun(client, token, batches[next++]!); }));
    await plane.evidence.integrate(); // the last records the sequencer has not taken yet
    appendS = (performance.now() - t1) / 1000;
    client.close();
    logSize = (await plane.evidence.checkpoint()).size;
    if (logSize !== APPEND) throw new Error(`the log holds ${logSize} records, not ${APPEND}`);
    const t2 = performance.now();
    const res = await fetch(`${plane.httpUrl}/v1/evidence/bundle`);
    exportBytes = (await res.arrayBuffer()).byteLength;
    exportS = (performance.now() - t2) / 1000;
  } finally {
    await plane.close(0);
    await nats.drop();
    await db.drop();
  }

  // 4. A 100,000-record bundle, verified offline.
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-bundle-'));
  const file = join(dir, 'bundle.ndjson');
  const logKey = generateSigningKey();
  const origin = 'vigil.bench/acme';
  const tree = new MerkleTree();
  const entries: Array<{ index: number; integratedTimeMs: number; envelope: DsseEnvelope }> = [];
  const runs: BundleManifest['runs'] = [];
  const t3 = performance.now();
  for (let i = 0; i < BUNDLE; i++) {
    const req = requestFor(i);
    const envelope = JSON.parse(signRun(req, key, 'bench-probe')) as DsseEnvelope;
    const at = req.scheduledAtMs + 5000;
    entries.push({ index: tree.append(leafHash(logLeaf(envelope, at))), integratedTimeMs: at, envelope });
    runs.push({ runId: req.runId, scheduledAtMs: req.scheduledAtMs, status: 'terminal' });
  }
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT, tenant: 'acme', origin, createdAtMs: Date.now(), window: { sinceMs: null, untilMs: null }, range: { first: 0, end: BUNDLE }, extraIndices: [], runs, artifactsIncluded: false,
    trustRoot: { log: trustRootLog(origin, logKey), probeKeys: [{ keyId: key.keyId, probeId: 'bench-probe', publicKey: key.publicKey, validFromMs: 0, validUntilMs: null, revokedAtMs: null }] },
  };
  const out = createWriteStream(file);
  for await (const line of bundleLines({ manifest, logKey, checkpoint: signCheckpoint({ origin, size: tree.size, rootHash: tree.root() }, logKey), previous: null, consistencyProof: [], records: entries, proof: (i) => tree.inclusionProof(i) })) {
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const buildS = (performance.now() - t3) / 1000;
  const bytes = statSync(file).size;
  const t4 = performance.now();
  const r = await verifyBundle(file, { logKey: manifest.trustRoot.log.verifierKey });
  const verifyS = (performance.now() - t4) / 1000;
  if (process.env.BENCH_KEEP_BUNDLE) console.log(`bundle kept at ${file}`); else rmSync(dir, { recursive: true, force: true });
  if (!r.ok || r.records !== BUNDLE) throw new Error(`the bundle did not verify: ${JSON.stringify(r.problems.slice(0, 3))}`);

  const result = {
    sign: { records: SIGN, seconds: +signS.toFixed(3), perSecond: Math.round(SIGN / signS) },
    append: { runs: APPEND, streams: STREAMS, seconds: +appendS.toFixed(3), perSecond: Math.round(APPEND / appendS), logSize },
    export: { records: APPEND, seconds: +exportS.toFixed(3), bytes: exportBytes },
    verify: { records: BUNDLE, bundleBytes: bytes, buildSeconds: +buildS.toFixed(1), seconds: +verifyS.toFixed(2), perSecond: Math.round(BUNDLE / verifyS), rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) },
  };
  console.log(`evidence signing (probe):  ${result.sign.perSecond} records/s built and signed (${SIGN} records, ${result.sign.seconds} s)`);
  console.log(`evidence append (plane):   ${result.append.perSecond} records/s verified, stored with their runs' verdicts and integrated into the log (${APPEND} runs, ${STREAMS} gRPC streams, ${result.append.seconds} s)`);
  console.log(`bundle export (API):       ${APPEND} records in ${result.export.seconds} s (${(exportBytes / 2 ** 20).toFixed(1)} MiB)`);
  console.log(`bundle verify (offline):   ${BUNDLE} records in ${result.verify.seconds} s = ${result.verify.perSecond} records/s (${(bytes / 2 ** 20).toFixed(0)} MiB bundle, RSS ${result.verify.rssMiB} MiB)`);
  console.log(JSON.stringify(result));
}

await main();
