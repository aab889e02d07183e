/**
 * `pnpm bench` — capacity numbers on this machine, against real Postgres and real NATS JetStream:
 *   1. gRPC result ingestion: concurrent ReportRun streams, events per second durably stored (acknowledged).
 *   2. Schedule dispatch: due schedules × regions → run rows (outbox) → published to JetStream and marked,
 *      runs per second.
 * Options (env): BENCH_RUNS (200), BENCH_EVENTS_PER_RUN (50), BENCH_STREAMS (16), BENCH_SCHEDULES (500),
 * BENCH_REGIONS (4). Needs Postgres on 127.0.0.1:5432 and nats-server -js on 127.0.0.1:4222 (.ci/run starts both).
 */
import * as grpc from '@grpc/grpc-js';
import { loadContract, type RunEvent, type RunEventBody, type RunRequest } from '@vigil/contract';
import { generateSigningKey, type SigningKey } from '@vigil/evidence';
import { Redactor, RunRecord } from '@vigil/probe';
import { createLogger, startPlane } from '@vigil/plane';
import { startRefBot } from '@vigil/refbot';
import { targetSpecOf } from '@vigil/store';
import { reportRun } from './report-stream.ts';
import { createTestDatabase, freePort, natsNames, NATS_URL } from '../tests/support/services.ts';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const RUNS = env('BENCH_RUNS', 200);
const EVENTS = env('BENCH_EVENTS_PER_RUN', 50);
const STREAMS = env('BENCH_STREAMS', 16);
const SCHEDULES = env('BENCH_SCHEDULES', 500);
const REGIONS = env('BENCH_REGIONS', 4);

/** A run's events as a probe reports them, ending in run_finished with the run's signed evidence record. */
function eventsFor(req: RunRequest, n: number, key: SigningKey): RunEvent[] {
  const runId = req.runId;
  const out: RunEvent[] = [];
  const push = (body: RunEventBody) => out.push({ runId, attempt: 1, seq: out.length + 1, atMs: Date.now(), probeId: 'bench-probe', body });
  push({ kind: 'run_started', journeyVersionId: req.journeyVersionId, targetId: req.target.id, region: req.region, channel: req.target.channel });
  let step = 0;
  while (out.length < n - 1) {
    const k = out.length % 4;
    if (k === 0) push({ kind: 'transcript', stepIndex: step, speaker: 'bot', text: 'The balance of the account ending 5678 is $2,200.86.' });
    else if (k === 1) push({ kind: 'timing', stepIndex: step, timing: { layer: 'chat_turn', timeToFirstTokenMs: 120 + (out.length % 50), timeToFullReplyMs: 300 + (out.length % 90), streamed: true, replyChars: 52 } });
    else if (k === 2) push({ kind: 'assertion', stepIndex: step, assertion: 'contains "balance"', verdict: 'pass', expected: 'balance', actual: 'The balance…', message: 'ok' });
    else push({ kind: 'step_finished', stepIndex: step++, stepKind: 'say', verdict: 'pass', durationMs: 310 });
  }
  const record = new RunRecord(req, 1);
  for (const e of out) record.observe(e.body, e.atMs);
  const finished: Extract<RunEventBody, { kind: 'run_finished' }> = { kind: 'run_finished', verdict: 'pass', durationMs: 5000, stepsPassed: step, stepsFailed: 0 };
  push({ ...finished, evidenceDsse: record.sign({ key, probeId: 'bench-probe', region: req.region, probeVersion: 'bench', clockOffsetMs: 0, salt: Buffer.alloc(16), finished, outcome: 'completed', endedAtMs: Date.now(), redaction: new Redactor({ dtmf: true, pii: [] }) }) });
  return out;
}

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const nats = natsNames();
  const bot = await startRefBot();
  const token = 'vgp_bench';
  const plane = await startPlane({
    databaseUrl: db.url, natsUrl: NATS_URL, natsStream: nats.stream, natsSubjectPrefix: nats.prefix, httpPort: await freePort(), grpcPort: await freePort(),
    probeTokens: [token], schedulerTickMs: 60_000,
  }, { logger: createLogger('silent', 'bench') });
  try {
    const { store } = plane;
    const target = await store.createTarget({ name: 'bench-bot', channel: 'chat.openai', endpoint: `${bot.url}/v1`, config: { model: 'm' } });
    const { journey, version } = await store.pushJourney({ name: 'bench', contentHash: 'b'.repeat(64), source: 'x', definition: { version: 1, name: 'bench', steps: [] } });

    // 1. Ingest
    const runIds: string[] = [];
    const far = new Date(Date.now() + 86_400_000); // not due: the outbox leaves them alone
    for (let i = 0; i < RUNS; i++) runIds.push((await store.createRun({ scheduleId: null, journeyId: journey.id, journeyVersionId: version.id, target: targetSpecOf(target), region: 'bench', scheduledAt: far, notBefore: far })).id);
    const client = new (loadContract().vigil.v1.ProbeService)(plane.grpcAddress, grpc.credentials.createInsecure());
    const key = generateSigningKey();
    await plane.evidence.enroll('bench-probe', key.publicKey);
    const batches: RunEvent[][] = [];
    for (const id of runIds) batches.push(eventsFor((await store.getRun(id))!.request as RunRequest, EVENTS, key));
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: STREAMS }, async () => {
      while (next < batches.length) await reportRun(client, token, batches[next++]!);
    }));
    const ingestS = (performance.now() - t0) / 1000;
    client.close();
    const stored = RUNS * EVENTS;
    const finals = (await store.listRuns({ journey: 'bench', status: 'finished', limit: 500 })).length;
    const batch = (await plane.metrics.ingestBatch.get()).values;
    const txCount = batch.find((v) => v.metricName === 'vigil_ingest_batch_seconds_count')?.value ?? 0;
    const batchSeconds = batch.find((v) => v.metricName === 'vigil_ingest_batch_seconds_sum')?.value ?? 0;

    // 2. Dispatch
    const regions = Array.from({ length: REGIONS }, (_, i) => `bench-${i}`);
    for (const r of regions) await plane.bus.ensureRegion(r, { ackWaitMs: 30_000, maxDeliver: 5 });
    const due = new Date(Date.now() - 1000);
    for (let i = 0; i < SCHEDULES; i++) {
      await store.createSchedule({ journeyId: journey.id, journeyVersionId: null, targetId: target.id, regions, intervalMs: 3_600_000, cron: null, jitterMaxMs: 0, enabled: true, nextDueAt: due });
    }
    const t1 = performance.now();
    let created = 0;
    let published = 0;
    for (;;) {
      const r = await plane.scheduler.tick();
      created += r.created;
      published += r.published;
      if (r.created === 0 && (await store.countOutbox(new Date())) === 0) break;
    }
    const dispatchS = (performance.now() - t1) / 1000;

    const result = {
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      ingest: { runs: RUNS, eventsPerRun: EVENTS, streams: STREAMS, events: stored, finalsStored: finals, seconds: +ingestS.toFixed(3), eventsPerSecond: Math.round(stored / ingestS), transactions: txCount, meanTransactionMs: +((batchSeconds / Math.max(1, txCount)) * 1000).toFixed(2) },
      dispatch: { schedules: SCHEDULES, regions: REGIONS, runsCreated: created, runsPublished: published, seconds: +dispatchS.toFixed(3), runsPerSecond: Math.round(published / dispatchS) },
    };
    console.log(`gRPC ingest:       ${result.ingest.eventsPerSecond} events/s stored (${stored} events, ${RUNS} runs, ${STREAMS} concurrent streams, ${result.ingest.seconds} s; ${finals} finals; ${txCount} transactions, mean ${result.ingest.meanTransactionMs} ms)`);
    console.log(`schedule dispatch: ${result.dispatch.runsPerSecond} runs/s created+published to JetStream (${SCHEDULES} schedules × ${REGIONS} regions = ${published} runs, ${result.dispatch.seconds} s)`);
    console.log(JSON.stringify(result));
    if (finals !== RUNS || published !== SCHEDULES * REGIONS) throw new Error('benchmark lost work: see the numbers above');
  } finally {
    await plane.close(0);
    await bot.close();
    await nats.drop();
    await db.drop();
  }
}

await main();
