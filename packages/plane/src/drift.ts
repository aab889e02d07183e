/**
 * Continuous assurance, first part: baselines and drift. A baseline is a window of a series' finished runs
 * (journey × target × region) accepted as good: per layer and metric the centre and spread of log latency, and
 * the pass count. Each run that finishes afterwards is fed to the series' detectors (@vigil/drift): a latency
 * CUSUM per layer/metric and the pass-rate test. The first alarm of each detector is stored once per baseline,
 * exported as `vigil_drift_alarms`, and served by the API with the layers ordered by their estimated change
 * point — the earliest is the layer that moved. Re-baselining (a new version, with who and why) clears them.
 */
import type { Logger } from 'pino';
import { LatencyCusum, PassRateDetector, latencyBaseline } from '@vigil/drift';
import { VigilError } from '@vigil/errors';
import type { BaselineRow, BaselineStats, DriftStore, Series, Store } from '@vigil/store';
import type { PlaneMetrics } from './metrics.ts';
import type { DriftNotifier } from './notify.ts';

const MIN_RUNS = 20;

interface SeriesState {
  baseline: BaselineRow;
  latency: Map<string, LatencyCusum>;
  pass: PassRateDetector;
  /** Runs since the baseline in the order each detector saw them (its change index points into this), and when they finished. */
  fed: Map<string, string[]>;
  finishedAt: Map<string, number>;
  lastFinishedAt: Date;
  seen: Set<string>;
  alarmed: Set<string>;
  labels: { journey: string; target: string; region: string };
}

const keyOf = (s: Series) => `${s.journeyId}\u0000${s.targetId}\u0000${s.region}`;

export class DriftService {
  readonly #ds: DriftStore;
  readonly #store: Store;
  readonly #metrics: PlaneMetrics;
  readonly #log: Logger;
  readonly #states = new Map<string, Promise<SeriesState | null>>();
  readonly #chains = new Map<string, Promise<void>>();
  /** Set once the plane knows its address (links in messages). */
  notifier: DriftNotifier | undefined;

  constructor(ds: DriftStore, store: Store, metrics: PlaneMetrics, log: Logger) {
    this.#ds = ds;
    this.#store = store;
    this.#metrics = metrics;
    this.#log = log;
  }

  async createBaseline(s: Series, o: { since: Date; until: Date; by: string; reason: string }): Promise<BaselineRow> {
    if (!(o.since < o.until)) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'since must be before until', { field: 'since', fix: 'give the window of runs to accept, e.g. the last 7 days' });
    const runs = await this.#ds.seriesRuns(s, { since: o.since, until: o.until });
    if (runs.length < MIN_RUNS) throw new VigilError('VIGIL_E_REQUEST_INVALID', `the window holds ${runs.length} finished runs of this series; a baseline needs at least ${MIN_RUNS}`, { field: 'since', fix: 'widen the window, or let the schedule run longer first' });
    const byMetric = new Map<string, number[]>();
    for (const r of runs) for (const [k, v] of Object.entries(r.metrics)) byMetric.set(k, [...(byMetric.get(k) ?? []), v]);
    const stats: BaselineStats = { latency: {}, pass: { passes: runs.filter((r) => r.verdict === 'pass').length, runs: runs.length } };
    for (const [k, values] of byMetric) if (values.length >= MIN_RUNS) stats.latency[k] = latencyBaseline(values);
    const row = await this.#ds.addBaseline(s, { since: o.since, until: o.until, runs: runs.length, stats, createdBy: o.by, reason: o.reason });
    const old = await this.#states.get(keyOf(s))?.catch(() => null);
    if (old) {
      for (const d of old.alarmed) this.#metrics.driftAlarms.remove({ ...old.labels, detector: d });
      if (old.alarmed.size) this.notifier?.resolve(old.labels);
    }
    this.#states.delete(keyOf(s));
    this.#log.info({ ...s, version: row.version, runs: runs.length, by: o.by }, 'baseline set');
    return row;
  }

  /** Feeds a finished run to its series' detectors (serialised per series; failures are logged). */
  onFinal(runId: string): void {
    void (async () => {
      const run = await this.#store.getRun(runId);
      if (!run) return;
      const s: Series = { journeyId: run.journeyId, targetId: run.targetId, region: run.region };
      const key = keyOf(s);
      const next = (this.#chains.get(key) ?? Promise.resolve()).then(() => this.#advance(s, { journey: run.journeyName, target: run.targetName, region: run.region }));
      this.#chains.set(key, next.catch((e) => this.#log.warn({ err: (e as Error).message, ...s }, 'drift evaluation failed')));
    })().catch((e) => this.#log.warn({ err: (e as Error).message, runId }, 'drift evaluation failed'));
  }

  /** Waits for pending evaluations (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.#chains.values()]);
  }

  #load(s: Series, labels: SeriesState['labels']): Promise<SeriesState | null> {
    const key = keyOf(s);
    let p = this.#states.get(key);
    if (!p) {
      p = (async () => {
        const baseline = await this.#ds.latestBaseline(s);
        if (!baseline) return null;
        const alarms = await this.#ds.alarms([baseline.id]);
        const st: SeriesState = {
          baseline, latency: new Map(Object.entries(baseline.stats.latency).map(([k, b]) => [k, new LatencyCusum(b)])),
          pass: new PassRateDetector(baseline.stats.pass.passes, baseline.stats.pass.runs), fed: new Map(), finishedAt: new Map(),
          lastFinishedAt: baseline.createdAt, seen: new Set(), alarmed: new Set(alarms.map((a) => a.detector)), labels,
        };
        for (const d of st.alarmed) this.#metrics.driftAlarms.set({ ...labels, detector: d }, 1);
        return st;
      })();
      this.#states.set(key, p);
      p.catch(() => this.#states.delete(key));
    }
    return p;
  }

  async #advance(s: Series, labels: SeriesState['labels']): Promise<void> {
    const st = await this.#load(s, labels);
    if (!st) return;
    // Runs finished since the last one fed (equal finish times are told apart by id).
    const fresh = (await this.#ds.seriesRuns(s, { since: st.lastFinishedAt })).filter((r) => !st.seen.has(r.runId));
    for (const r of fresh) {
      st.seen.add(r.runId);
      st.lastFinishedAt = r.finishedAt;
      st.finishedAt.set(r.runId, r.finishedAt.getTime());
      const fed = (detector: string) => { let l = st.fed.get(detector); if (!l) { l = []; st.fed.set(detector, l); } l.push(r.runId); return l; };
      for (const [metric, det] of st.latency) {
        const v = r.metrics[metric];
        if (v === undefined || !(v > 0)) continue;
        const detector = `latency:${metric}`;
        const order = fed(detector);
        const verdict = det.push(v);
        if (verdict.alarm && !st.alarmed.has(detector)) {
          const changeRun = order[Math.min(order.length - 1, verdict.changeAt!)]!;
          await this.#raise(st, { detector, kind: 'latency', direction: verdict.alarm, changeRunId: changeRun, changeAt: new Date(st.finishedAt.get(changeRun)!), alarmRunId: r.runId, ratio: verdict.ratio, pValue: null });
        }
      }
      const order = fed('pass_rate');
      const pv = st.pass.push(r.verdict === 'pass');
      if (pv.alarm && !st.alarmed.has('pass_rate')) {
        // The window that failed the test: its first run (the drop began at or after it).
        const changeRun = order[Math.max(0, order.length - st.pass.window)]!;
        await this.#raise(st, { detector: 'pass_rate', kind: 'pass_rate', direction: 'down', changeRunId: changeRun, changeAt: new Date(st.finishedAt.get(changeRun)!), alarmRunId: r.runId, ratio: pv.runs ? pv.passes / pv.runs / Math.max(1e-9, pv.p0) : null, pValue: pv.pValue });
      }
    }
  }

  async #raise(st: SeriesState, a: { detector: string; kind: 'latency' | 'pass_rate'; direction: string; changeRunId: string; changeAt: Date; alarmRunId: string; ratio: number | null; pValue: number | null }): Promise<void> {
    st.alarmed.add(a.detector);
    if (await this.#ds.addAlarm({ baselineId: st.baseline.id, ...a })) {
      this.#metrics.driftAlarms.set({ ...st.labels, detector: a.detector }, 1);
      this.notifier?.alarm(st.labels, st.baseline.id, {
        detector: a.detector, layer: a.kind === 'latency' ? a.detector.slice('latency:'.length).split('.')[0]! : null, direction: a.direction, ratio: a.ratio, pValue: a.pValue,
        changeRunId: a.changeRunId, changeAt: a.changeAt.toISOString(), alarmRunId: a.alarmRunId,
      });
      this.#log.warn({ ...st.labels, detector: a.detector, direction: a.direction, ratio: a.ratio, pValue: a.pValue, changeRunId: a.changeRunId, baseline: st.baseline.version }, 'drift');
    }
  }
}
