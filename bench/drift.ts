/**
 * `pnpm bench` — drift evaluation cost on this machine (real Postgres):
 *   1. Steady state: a run finishes → its series' detectors (latency per layer, pass rate, content per step,
 *      new failure modes) have seen it: ms per run.
 *   2. After a restart: the first run of a series makes the plane replay every run since the baseline; seconds
 *      for BENCH_DRIFT_REPLAY runs since the baseline (and so per 1,000).
 *   3. Baseline creation over a window of BENCH_DRIFT_WINDOW runs.
 * Options (env): BENCH_DRIFT_WINDOW (200), BENCH_DRIFT_REPLAY (5000), BENCH_DRIFT_STEADY (200).
 * Runs are written straight to the store in the shape probes report them (two chat steps, timings, replies,
 * assertions, a signed-record-shaped run_finished), so the numbers are the plane's own work only.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DriftService, PlaneMetrics, createLogger } from '@vigil/plane';
import { DriftStore, Store, migrate, openDatabase, schema } from '@vigil/store';
import { createTestDatabase } from '../tests/support/services.ts';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const WINDOW = env('BENCH_DRIFT_WINDOW', 200);
const REPLAY = env('BENCH_DRIFT_REPLAY', 5000);
const STEADY = env('BENCH_DRIFT_STEADY', 200);

const REPLIES = ['There is no monthly fee on the standard account. International transfers cost five dollars.', 'The standard account has no monthly fee. An international transfer costs five dollars.'];

async function main(): Promise<void> {
  const tdb = await createTestDatabase();
  const database = await openDatabase({ url: tdb.url });
  await migrate(database);
  const store = new Store(database);
  const ds = new DriftStore(database);
  const log = createLogger('silent', 'bench-drift');
  const metrics = new PlaneMetrics(async () => ({ probes: [], outboxPending: 0, evidenceLogSize: 0 }));
  const target = await store.createTarget({ name: 'bench-bot', channel: 'chat.openai', endpoint: 'http://bot.example/v1', config: { model: 'm' } });
  const { journey, version } = await store.pushJourney({ name: 'bench-fees', contentHash: 'h'.repeat(64), source: 'version: 1', definition: { version: 1, name: 'bench-fees', steps: [] } });
  const series = { journeyId: journey.id, targetId: target.id, region: 'bench' };
  let clockMs = Date.now() - 30 * 86_400_000;
  let n = 0;

  /** Writes `count` finished runs of the series, a minute apart. */
  let slow = 1;
  const write = async (count: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let done = 0; done < count; done += 100) {
      const runRows: Array<typeof schema.runs.$inferInsert> = [];
      const eventRows: Array<typeof schema.runEvents.$inferInsert> = [];
      for (let k = 0; k < Math.min(100, count - done); k++) {
        const id = randomUUID();
        ids.push(id);
        clockMs += 60_000;
        const at = new Date(clockMs);
        const i = n++;
        runRows.push({ id, journeyId: journey.id, journeyVersionId: version.id, targetId: target.id, region: 'bench', status: 'finished', verdict: 'pass', request: {}, scheduledAt: at, notBefore: at, startedAt: at, finishedAt: at, probeId: 'p', attempt: 1, durationMs: 900 });
        const ttft = slow * 300 * Math.exp(0.15 * Math.sin(i * 12.9898) * 1.7);
        const bodies = [
          { kind: 'step_started', stepIndex: 0, stepKind: 'say', name: 'say "what are the fees"' },
          { kind: 'transcript', stepIndex: 0, speaker: 'caller', text: 'what are the fees' },
          { kind: 'transcript', stepIndex: 0, speaker: 'bot', text: REPLIES[i % 2] },
          { kind: 'timing', stepIndex: 0, timing: { layer: 'chat_turn', timeToFirstTokenMs: ttft, timeToFullReplyMs: ttft * 2, streamed: true, replyChars: 90 } },
          { kind: 'timing', stepIndex: 0, timing: { layer: 'llm', timeToFirstTokenMs: ttft * 0.8, totalMs: ttft * 1.8 } },
          { kind: 'step_finished', stepIndex: 0, stepKind: 'say', verdict: 'pass', durationMs: ttft * 2 },
          { kind: 'assertion', stepIndex: 1, assertion: 'contains "no monthly fee"', verdict: 'pass', expected: '', actual: '', message: '' },
          { kind: 'step_finished', stepIndex: 1, stepKind: 'expect', verdict: 'pass', durationMs: 0 },
          { kind: 'run_finished', verdict: 'pass', durationMs: 900, stepsPassed: 2, stepsFailed: 0 },
        ];
        bodies.forEach((body, seq) => eventRows.push({ runId: id, attempt: 1, seq, kind: body.kind, at, probeId: 'p', body }));
      }
      await database.db.insert(schema.runs).values(runRows);
      await database.db.insert(schema.runEvents).values(eventRows);
    }
    return ids;
  };

  const from = new Date(clockMs);
  await write(WINDOW);
  const service = () => new DriftService(ds, store, metrics, log);
  let t0 = performance.now();
  const drift = service();
  const baseline = await drift.createBaseline(series, { since: from, until: new Date(clockMs + 1), by: 'bench', reason: 'bench' });
  const baselineS = (performance.now() - t0) / 1000;
  if (baseline.runs !== WINDOW) throw new Error(`the baseline took ${baseline.runs} runs, not ${WINDOW}`);
  // The baseline's created_at is now; runs written from here on finish after it.
  clockMs = Date.now() + 1000;
  // The last 50 runs before the restart are twice as slow: the replay must find it (proof it fed every run).
  const pending = [...await write(REPLAY - 50), ...await (async () => { slow = 2; return write(50); })()];

  // Replay: a fresh service (as after a restart) meets the series' next run and catches up on all before it.
  t0 = performance.now();
  drift.onFinal(pending.at(-1)!);
  await new Promise((r) => setTimeout(r, 50));
  await drift.idle();
  const replayS = (performance.now() - t0) / 1000;
  const alarms = await ds.alarms([baseline.id]);
  if (!alarms.some((a) => a.detector === 'latency:chat_turn.time_to_first_token')) throw new Error('the replay raised no alarm for the slowdown: it did not feed the runs');

  // Steady state: one run at a time.
  const steadyIds = await write(STEADY);
  t0 = performance.now();
  for (const id of steadyIds) {
    drift.onFinal(id);
    await new Promise((r) => setImmediate(r));
    await drift.idle();
  }
  const perRunMs = (performance.now() - t0) / STEADY;
  const again = service();
  t0 = performance.now();
  again.onFinal(steadyIds.at(-1)!);
  await new Promise((r) => setTimeout(r, 50));
  await again.idle();
  const replay2S = (performance.now() - t0) / 1000;

  console.log(`drift: baseline over ${WINDOW} runs in ${baselineS.toFixed(2)} s`);
  console.log(`drift: steady state ${perRunMs.toFixed(1)} ms per finished run (${STEADY} runs, one at a time, including the store reads)`);
  console.log(`drift: replay after a restart, ${REPLAY} runs since the baseline: ${replayS.toFixed(2)} s (${((1000 * replayS) / REPLAY).toFixed(2)} s per 1,000; it found the slowdown of the last 50: ${alarms.map((a) => a.detector).join(', ')}); ${REPLAY + STEADY} runs: ${replay2S.toFixed(2)} s`);
  console.log(`drift: RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
  await database.close();
  await tdb.drop();
}

await main();
