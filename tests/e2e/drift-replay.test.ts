/**
 * A restarted plane replays each series from its baseline before it evaluates the next run, and a series may
 * hold months of runs since then. The replay reads them a page at a time (never the whole series in one query)
 * and raises what a plane that never stopped would have: here 650 stored runs on real Postgres through the real
 * store (timings of a chat series whose LLM layer is 40 % slower from the 400th run after the baseline on),
 * and a fresh drift service — all a restarted plane has — catching up on one finished run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '@vigil/contract';
import { createLogger, DriftService, PlaneMetrics } from '@vigil/plane';
import { DriftStore, Store, migrate, openDatabase, targetSpecOf, type Database, type Series, type SeriesRun } from '@vigil/store';
import { createTestDatabase, waitFor } from '../support/services.ts';

const AFTER = 620;
const metrics = () => new PlaneMetrics(async () => ({ probes: [], outboxPending: 0 }));
const SHIFT_AT = 400;

/** Counts the pages the drift service reads. */
class CountingDriftStore extends DriftStore {
  readonly reads: Array<{ limit: number | undefined; runs: number }> = [];
  override async seriesRuns(s: Series, o: Parameters<DriftStore['seriesRuns']>[1] = {}): Promise<SeriesRun[]> {
    const out = await super.seriesRuns(s, o);
    this.reads.push({ limit: o.limit, runs: out.length });
    return out;
  }
}

describe('drift replay after a plane restart', () => {
  let db: { url: string; drop: () => Promise<void> };
  let database: Database;
  let store: Store;
  let series: Series;
  const after: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    database = await openDatabase({ url: db.url });
    await migrate(database);
    store = new Store(database);
    const target = await store.createTarget({ name: 'bot', channel: 'chat.openai', endpoint: 'http://127.0.0.1:9/v1', config: { model: 'm' } });
    const { journey, version } = await store.pushJourney({ name: 'j', contentHash: 'h1', source: 'steps: []', definition: { version: 1, name: 'j', channel: 'chat', steps: [{ say: 'hi' }] } });
    series = { journeyId: journey.id, targetId: target.id, region: 'eu-test' };
    // Seeded: the same series every time.
    let seed = 42;
    const gauss = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff; const u = seed / 0x7fffffff || 1e-9;
      seed = (seed * 1103515245 + 12345) & 0x7fffffff; const v = seed / 0x7fffffff;
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    };
    /** Stores n finished runs, the i-th finishing at at(i), with LLM total ms from llmMs(i). */
    const addRuns = async (n: number, at: (i: number) => number, llmMs: (i: number) => number): Promise<string[]> => {
      const ids: string[] = [];
      for (let from = 0; from < n; from += 50) {
        const batch: RunEvent[] = [];
        for (let i = from; i < Math.min(n, from + 50); i++) {
          const run = await store.createRun({ scheduleId: null, journeyId: journey.id, journeyVersionId: version.id, target: targetSpecOf(target), region: series.region, scheduledAt: new Date(at(i) - 2000), notBefore: new Date(at(i) - 2000) });
          ids.push(run.id);
          const head = { runId: run.id, attempt: 1, probeId: 'probe-replay' };
          batch.push(
            { ...head, seq: 1, atMs: at(i) - 1000, body: { kind: 'run_started', journeyVersionId: version.id, targetId: target.id, region: series.region, channel: 'chat.openai' } },
            { ...head, seq: 2, atMs: at(i) - 10, body: { kind: 'timing', stepIndex: 0, timing: { layer: 'llm', timeToFirstTokenMs: 0, totalMs: llmMs(i) } } },
            { ...head, seq: 3, atMs: at(i), body: { kind: 'run_finished', verdict: 'pass', durationMs: 1000, stepsPassed: 1, stepsFailed: 0 } },
          );
        }
        await store.ingest(batch);
      }
      return ids;
    };
    const t0 = Date.now();
    await addRuns(30, (i) => t0 - 600_000 + i * 1000, () => 600 * Math.exp(0.1 * gauss()));
    const live = new DriftService(new DriftStore(database), store, metrics(), createLogger('silent', 'drift-replay'));
    await live.createBaseline(series, { since: new Date(t0 - 700_000), until: new Date(t0), by: 'qa@example.com', reason: 'launch' });
    // After the baseline, finishing 1 ms apart from a second on (ties and order are the store's to keep).
    const t1 = Date.now() + 1000;
    after.push(...await addRuns(AFTER, (i) => t1 + i, (i) => (i >= SHIFT_AT ? 1.4 : 1) * 600 * Math.exp(0.1 * gauss())));
  }, 120_000);
  afterAll(async () => { await database?.close(); await db?.drop(); });

  it('catches up a page at a time and places the change where it happened', async () => {
    const ds = new CountingDriftStore(database);
    const restarted = new DriftService(ds, store, metrics(), createLogger('silent', 'drift-replay'));
    restarted.onFinal(after.at(-1)!);
    const alarms = await waitFor('the replay to raise the LLM alarm', async () => {
      await restarted.idle();
      const baseline = await ds.latestBaseline(series);
      const a = await ds.alarms([baseline!.id]);
      return a.length ? a : undefined;
    }, 60_000);
    await restarted.idle();
    expect(alarms.map((a) => a.detector)).toEqual(['latency:llm.total']);
    const change = after.indexOf(alarms[0]!.changeRunId ?? '');
    expect(Math.abs(change - SHIFT_AT), `change placed at run ${change}`).toBeLessThanOrEqual(3);
    const raisedAt = after.indexOf(alarms[0]!.alarmRunId);
    expect(raisedAt).toBeGreaterThanOrEqual(SHIFT_AT);
    expect(raisedAt).toBeLessThan(SHIFT_AT + 15);
    // Pages: every read bounded, enough of them to cover the series, none holding it all.
    const pages = ds.reads.filter((r) => r.limit !== undefined);
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(AFTER / 200));
    expect(pages.every((p) => p.limit! <= 201 && p.runs <= p.limit!)).toBe(true);
    expect(pages.reduce((n, p) => n + p.runs, 0)).toBeGreaterThanOrEqual(AFTER);
    expect(ds.reads.every((r) => r.limit !== undefined || r.runs < 200)).toBe(true);
  }, 120_000);
});
