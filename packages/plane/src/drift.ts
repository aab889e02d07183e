/**
 * Continuous assurance: baselines and drift. A baseline is a window of a series' finished runs (journey × target
 * × region) accepted as good: per layer and metric the centre and spread of log latency; the pass count; per step
 * the texts the bot answered and — from the target's telemetry — what it heard and the intents it chose; the
 * failure kinds the window showed; the target versions. Each run that finishes afterwards is fed to the series'
 * detectors (@vigil/drift): a latency CUSUM per layer/metric, the pass-rate test, a content detector per step for
 * the reply and for what was heard, and the new-failure-mode detector. The first alarm of each detector is stored
 * once per baseline with the layer it names and what backs it, exported as `vigil_drift_alarms`, notified, and
 * served by the API; re-baselining (a new version, with who and why) clears them and resolves the notifications.
 *
 * Attribution: a layer that moved drags every layer after it along, so among the alarms whose change point is
 * within a few runs of the earliest, the one furthest upstream is the cause — network/setup, then ASR (what was
 * heard), intent, LLM (the answer's content or time), TTS, then the whole-turn measures. Each alarm also names the
 * target version change (SIP Server/User-Agent, served model) nearest before its change point, if any.
 */
import type { Logger } from 'pino';
import { ContentDetector, LatencyCusum, NewFailureDetector, PassRateDetector, contentBaseline, contentDistance, latencyBaseline } from '@vigil/drift';
import { VigilError } from '@vigil/errors';
import { SemanticSimilarity, cosine, lexicalSimilarity } from '@vigil/judge';
import type { BaselineRow, BaselineStats, DriftAlarmRow, DriftStore, Series, SeriesRun, Store } from '@vigil/store';
import type { PlaneMetrics } from './metrics.ts';
import type { DriftNotifier, NotifiedAlarm } from './notify.ts';

const MIN_RUNS = 20;
/** Texts a step needs in the window for a content baseline. */
const MIN_TEXTS = 10;
/** Runs read per query when a series catches up (after a restart: everything since its baseline). */
const PAGE_RUNS = 200;
/** Distinct texts kept per step and field (the most frequent). */
const MAX_TEXTS = 200;
/** Run positions each detector remembers, to name the run a change began at (older ones: the oldest kept). */
const KEEP_RUNS = 500;
/** Alarms whose change points are this many runs apart count as one event for attribution. */
const ATTRIBUTION_RUNS = 5;
/** New-failure alarms per baseline at most (each its own detector). */
const MAX_NEW_FAILURE_ALARMS = 20;

/** Pipeline order: a change upstream moves what is downstream of it. */
const LAYER_ORDER = ['call_setup', 'network', 'asr', 'intent', 'llm', 'tts', 'handoff', 'voice_turn', 'chat_turn', 'call_end'];
export const rank = (layer: string | null) => { const i = layer ? LAYER_ORDER.indexOf(layer) : -1; return i < 0 ? LAYER_ORDER.length : i; };

export interface AlarmView {
  detector: string; kind: string; layer: string | null; direction: string; changeRunId: string | null; changeAt: string | null; changeIndex: number | null;
  alarmRunId: string; ratio: number | null; pValue: number | null; raisedAt: string; detail: Record<string, unknown> | null;
}

export function alarmView(a: DriftAlarmRow): AlarmView {
  const detail = (a.detail ?? null) as Record<string, unknown> | null;
  return {
    detector: a.detector, kind: a.kind, layer: a.layer ?? (a.kind === 'latency' ? a.detector.slice('latency:'.length).split('.')[0]! : null), direction: a.direction,
    changeRunId: a.changeRunId, changeAt: a.changeAt?.toISOString() ?? null, changeIndex: typeof detail?.changeIndex === 'number' ? detail.changeIndex : null,
    alarmRunId: a.alarmRunId, ratio: a.ratio, pValue: a.pValue, raisedAt: a.raisedAt.toISOString(), detail,
  };
}

/**
 * Which layer moved: among alarms that name a layer, those whose change point is within ATTRIBUTION_RUNS of the
 * earliest; of them the furthest upstream. Null when no alarm names a layer (a pass-rate drop alone).
 */
export function attribute(alarms: readonly AlarmView[]): { layer: string; detector: string; changeRunId: string | null } | null {
  const named = alarms.filter((a) => a.layer);
  if (!named.length) return null;
  const pos = (a: AlarmView) => a.changeIndex ?? Number.MAX_SAFE_INTEGER;
  const first = Math.min(...named.map(pos));
  const near = named.filter((a) => pos(a) - first <= ATTRIBUTION_RUNS || pos(a) === Number.MAX_SAFE_INTEGER);
  near.sort((a, b) => rank(a.layer) - rank(b.layer) || pos(a) - pos(b));
  const w = near[0]!;
  return { layer: w.layer!, detector: w.detector, changeRunId: w.changeRunId };
}

/** Compares texts: cosine of embeddings (cached), or the lexical fallback. */
class TextComparer {
  readonly #sem: SemanticSimilarity | undefined;
  readonly #vectors = new Map<string, number[]>();
  constructor(embeddings: { baseUrl: string; model: string; apiKey?: string } | undefined) {
    this.#sem = embeddings ? new SemanticSimilarity(embeddings) : undefined;
  }
  get method(): { method: 'embeddings' | 'lexical-fallback'; model: string | null } { return this.#sem?.method ?? { method: 'lexical-fallback', model: null }; }
  /**
   * Embeds what is not cached yet (no-op for the lexical fallback). The cache is least-recently-prepared first, so
   * what is about to be compared is never what gets evicted.
   */
  async prepare(texts: Iterable<string>): Promise<void> {
    if (!this.#sem) return;
    const missing: string[] = [];
    for (const t of new Set(texts)) {
      const v = this.#vectors.get(t);
      if (v) { this.#vectors.delete(t); this.#vectors.set(t, v); } else missing.push(t);
    }
    if (!missing.length) return;
    const vs = await this.#sem.embed(missing);
    missing.forEach((t, i) => this.#vectors.set(t, vs[i]!));
    while (this.#vectors.size > 20_000) this.#vectors.delete(this.#vectors.keys().next().value as string);
  }
  readonly similarity = (a: string, b: string): number => {
    if (!this.#sem) return lexicalSimilarity(a, b);
    const x = this.#vectors.get(a), y = this.#vectors.get(b);
    return x && y ? cosine(x, y) : lexicalSimilarity(a, b);
  };
}

type Field = 'reply' | 'heard';
type StepContent = NonNullable<BaselineStats['content']>[string];
interface ContentState { det: ContentDetector; step: string; stepKey: string; field: Field; texts: string[]; memo: Map<string, number> }
/** Run positions a detector was fed, bounded: `offset` positions were dropped from the front. */
interface Order { runs: Array<{ runId: string; at: number; index: number }>; offset: number }

interface SeriesState {
  baseline: BaselineRow;
  latency: Map<string, LatencyCusum>;
  /** Audio quality: a CUSUM on ln(4.5 − MOS). */
  quality: LatencyCusum | null;
  pass: PassRateDetector;
  /** Built once the baseline's texts can be compared (embedded, with an embeddings endpoint). */
  content: Map<string, ContentState> | null;
  /**
   * Runs whose content waits for the embeddings endpoint (it failed when they arrived), in order with their
   * positions: fed to the content detectors, before newer runs, once it answers. At most KEEP_RUNS.
   */
  contentPending: Array<{ run: SeriesRun; index: number }>;
  intents: Map<string, Set<string>>;
  failures: NewFailureDetector | null;
  orders: Map<string, Order>;
  /** Position of the next run since the baseline. */
  index: number;
  lastFinishedAt: Date;
  /** Runs already fed that finished exactly at lastFinishedAt (ties told apart by id). */
  atLast: Set<string>;
  versions: Record<string, string>;
  versionChanges: Array<{ runId: string; at: number; index: number; before: Record<string, string>; after: Record<string, string> }>;
  alarmed: Set<string>;
  labels: { journey: string; target: string; region: string };
  /** The measure the baseline's content thresholds were made with, when they had to be worked out again on today's. */
  remeasuredFrom: { method: string; model: string | null } | null;
}

const keyOf = (s: Series) => `${s.journeyId}\u0000${s.targetId}\u0000${s.region}`;
const sameVersions = (a: Record<string, string>, b: Record<string, string>) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

export class DriftService {
  readonly #ds: DriftStore;
  readonly #store: Store;
  readonly #metrics: PlaneMetrics;
  readonly #log: Logger;
  readonly #text: TextComparer;
  readonly #states = new Map<string, Promise<SeriesState | null>>();
  readonly #chains = new Map<string, Promise<void>>();
  /** Set once the plane knows its address (links in messages). */
  notifier: DriftNotifier | undefined;

  constructor(ds: DriftStore, store: Store, metrics: PlaneMetrics, log: Logger, o: { embeddings?: { baseUrl: string; model: string; apiKey?: string } } = {}) {
    this.#ds = ds;
    this.#store = store;
    this.#metrics = metrics;
    this.#log = log;
    this.#text = new TextComparer(o.embeddings);
  }

  /**
   * A new baseline version from the window's runs (at least MIN_RUNS), or from a marked golden run: its texts
   * become the accepted content (with the window, if it has enough runs, for latency, pass rate and failures).
   */
  async createBaseline(s: Series, o: { since: Date; until: Date; by: string; reason: string; goldenRunId?: string }): Promise<BaselineRow> {
    if (!(o.since < o.until)) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'since must be before until', { field: 'since', fix: 'give the window of runs to accept, e.g. the last 7 days' });
    let golden: SeriesRun | undefined;
    if (o.goldenRunId !== undefined) {
      golden = (await this.#ds.seriesRuns(s, { runId: o.goldenRunId }))[0];
      if (!golden) throw new VigilError('VIGIL_E_REQUEST_INVALID', `run ${o.goldenRunId} is not a finished run of this journey, target and region`, { field: 'goldenRunId', fix: 'name a finished run of the series (GET /v1/runs?journey&target&region)' });
      if (golden.verdict !== 'pass') throw new VigilError('VIGIL_E_REQUEST_INVALID', `run ${o.goldenRunId} did not pass (${golden.verdict}); a golden run must`, { field: 'goldenRunId', fix: 'mark a run that passed' });
    }
    const runs = await this.#ds.seriesRuns(s, { since: o.since, until: o.until });
    if (runs.length < MIN_RUNS && !golden) throw new VigilError('VIGIL_E_REQUEST_INVALID', `the window holds ${runs.length} finished runs of this series; a baseline needs at least ${MIN_RUNS}`, { field: 'since', fix: 'widen the window, let the schedule run longer first, or mark a golden run (goldenRunId)' });
    const stats = await this.#stats(runs.length >= MIN_RUNS ? runs : [], golden);
    const row = await this.#ds.addBaseline(s, { since: o.since, until: o.until, runs: runs.length >= MIN_RUNS ? runs.length : 0, stats, createdBy: o.by, reason: o.reason });
    const old = await this.#states.get(keyOf(s))?.catch(() => null);
    if (old) for (const d of old.alarmed) this.#metrics.driftAlarms.remove({ ...old.labels, detector: d });
    if (old) this.#metrics.driftContentWaiting.remove(old.labels);
    this.#states.delete(keyOf(s));
    // Resolve what was notified against the previous version (from the store: it survives restarts).
    const previous = (await this.#ds.listBaselines(s)).find((b) => b.version === row.version - 1);
    if (previous && this.notifier) {
      const alarms = await this.#ds.alarms([previous.id]);
      if (alarms.length) {
        const j = await this.#store.getJourney(s.journeyId), t = await this.#store.getTarget(s.targetId);
        this.notifier.resolve({ journey: j?.name ?? s.journeyId, target: t?.name ?? s.targetId, region: s.region }, previous.id, alarms.map((a) => notified(alarmView(a))));
      }
    }
    this.#log.info({ ...s, version: row.version, runs: runs.length, by: o.by }, 'baseline set');
    return row;
  }

  async #stats(runs: SeriesRun[], golden: SeriesRun | undefined): Promise<BaselineStats> {
    const byMetric = new Map<string, number[]>();
    for (const r of runs) for (const [k, v] of Object.entries(r.metrics)) byMetric.set(k, [...(byMetric.get(k) ?? []), v]);
    const stats: BaselineStats = {
      // A golden run alone says next to nothing about the pass rate: one pass of one run (Wilson lower bound 0.21).
      latency: {}, pass: runs.length ? { passes: runs.filter((r) => r.verdict === 'pass').length, runs: runs.length } : { passes: 1, runs: 1 },
      content: {}, similarity: this.#text.method, failures: {}, versions: golden?.versions ?? runs.at(-1)?.versions ?? {}, quality: {},
      ...(golden ? { goldenRunId: golden.runId } : {}),
    };
    for (const [k, values] of byMetric) if (values.length >= MIN_RUNS) stats.latency[k] = latencyBaseline(values);
    // Audio quality as impairment, ln(4.5 − MOS), impairments under 0.05 counting as 0.05.
    const impairments = runs.flatMap((r) => (r.quality ? [Math.max(0.01, 4.5 - r.quality.mos)] : []));
    if (impairments.length >= MIN_RUNS) stats.quality!.mos = latencyBaseline(impairments, { minEffect: 0.05 });
    for (const r of runs) for (const f of new Set(r.failures)) stats.failures![f] = (stats.failures![f] ?? 0) + 1;
    const steps = new Map<string, { step: string; reply: string[]; heard: string[]; intents: Set<string> }>();
    for (const r of golden ? [golden] : runs) {
      for (const [k, st] of Object.entries(r.steps)) {
        const acc = steps.get(k) ?? { step: st.name, reply: [], heard: [], intents: new Set<string>() };
        steps.set(k, acc);
        if (st.reply) acc.reply.push(st.reply);
        if (st.heard) acc.heard.push(st.heard);
        if (st.intent) acc.intents.add(st.intent);
      }
    }
    await this.#text.prepare([...steps.values()].flatMap((a) => [...a.reply, ...a.heard]));
    for (const [k, acc] of steps) {
      const texts: StepContent['texts'] = { reply: undefined, heard: undefined };
      for (const field of ['reply', 'heard'] as const) {
        const all = acc[field];
        if (all.length < (golden ? 1 : MIN_TEXTS)) continue;
        // A golden run's text is the only accepted one: the threshold is the margin alone.
        const b = contentBaseline(golden ? Array<string>(5).fill(all[0]!) : all, this.#text.similarity);
        const counts = new Map<string, number>();
        for (const t of all) counts.set(t, (counts.get(t) ?? 0) + 1);
        const values = [...counts].sort((a, b2) => b2[1] - a[1]).slice(0, MAX_TEXTS).map(([text, n]) => ({ text, n }));
        texts[field] = { values, threshold: b.threshold, spread: b.spread };
      }
      if (texts.reply || texts.heard) stats.content![k] = { step: acc.step, texts, intents: [...acc.intents].sort() };
    }
    return stats;
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
          quality: baseline.stats.quality?.mos ? new LatencyCusum(baseline.stats.quality.mos) : null,
          pass: new PassRateDetector(baseline.stats.pass.passes, baseline.stats.pass.runs), content: null, contentPending: [], intents: new Map(),
          failures: baseline.stats.failures ? new NewFailureDetector(Object.keys(baseline.stats.failures)) : null,
          orders: new Map(), index: 0, lastFinishedAt: baseline.createdAt, atLast: new Set(), versions: baseline.stats.versions ?? {}, versionChanges: [],
          alarmed: new Set(alarms.map((a) => a.detector)), labels, remeasuredFrom: null,
        };
        for (const [k, c] of Object.entries(baseline.stats.content ?? {})) st.intents.set(k, new Set(c.intents));
        for (const d of st.alarmed) this.#metrics.driftAlarms.set({ ...labels, detector: d }, 1);
        return st;
      })();
      this.#states.set(key, p);
      p.catch(() => this.#states.delete(key));
    }
    return p;
  }

  /** The accepted texts of the baseline: embedded (kept in the cache) before every comparison with them. */
  #baselineTexts(st: SeriesState): string[] {
    return Object.values(st.baseline.stats.content ?? {}).flatMap((c) => [c.texts.reply, c.texts.heard].flatMap((t) => t?.values.map((v) => v.text) ?? []));
  }

  /** Builds the content detectors (the baseline's texts embedded already). */
  #buildContent(st: SeriesState): Map<string, ContentState> {
    const { baseline, labels } = st;
    const content = Object.entries(baseline.stats.content ?? {});
    const built = new Map<string, ContentState>();
    // Thresholds are distances on the measure the baseline was made with; when the plane now compares by
    // another (embeddings configured, removed or a different model), they are worked out again on the new
    // measure from the accepted texts the baseline holds, and the alarms' detail names the measure used.
    const measure = this.#text.method;
    const was = baseline.stats.similarity ?? { method: 'lexical-fallback', model: null };
    const remeasure = content.length > 0 && (was.method !== measure.method || was.model !== measure.model);
    if (remeasure) {
      st.remeasuredFrom = was;
      this.#log.warn({ ...labels, baseline: baseline.version, baselineSimilarity: was, similarity: measure }, 'baseline content was measured with another similarity: thresholds recomputed from its texts');
    }
    for (const [k, c] of content) {
      for (const field of ['heard', 'reply'] as const) {
        const t = c.texts[field];
        if (!t) continue;
        const n = t.values.reduce((a, v) => a + v.n, 0);
        let { threshold, spread } = t;
        if (remeasure) {
          const texts = t.values.flatMap((v) => Array<string>(v.n).fill(v.text));
          while (texts.length < 5) texts.push(texts[0]!); // a golden run's single text: the margin alone, as when it was made
          ({ threshold, spread } = contentBaseline(texts, this.#text.similarity));
        }
        built.set(`content:${k}.${field}`, {
          det: new ContentDetector({ threshold, spread, n }),
          step: c.step, stepKey: k, field, texts: t.values.map((v) => v.text), memo: new Map(),
        });
      }
    }
    return built;
  }

  #fed(st: SeriesState, detector: string, r: SeriesRun, index: number): Order {
    let o = st.orders.get(detector);
    if (!o) { o = { runs: [], offset: 0 }; st.orders.set(detector, o); }
    o.runs.push({ runId: r.runId, at: r.finishedAt.getTime(), index });
    if (o.runs.length > KEEP_RUNS) { o.runs.shift(); o.offset++; }
    return o;
  }

  #at(o: Order, changeAt: number): { runId: string; at: number; index: number } {
    return o.runs[Math.max(0, Math.min(o.runs.length - 1, changeAt - o.offset))]!;
  }

  async #advance(s: Series, labels: SeriesState['labels']): Promise<void> {
    const st = await this.#load(s, labels);
    if (!st) return;
    // Runs finished since the last one fed (equal finish times are told apart by id), a page at a time: after a
    // restart the series is replayed from its baseline, which may be months of runs.
    // Once the embeddings endpoint has failed, the rest of the pages do not ask it again.
    let embed = true;
    for (;;) {
      const limit = PAGE_RUNS + st.atLast.size;
      const page = await this.#ds.seriesRuns(s, { since: st.lastFinishedAt, limit });
      embed = await this.#feed(st, page.filter((r) => !(r.finishedAt.getTime() === st.lastFinishedAt.getTime() && st.atLast.has(r.runId))), embed);
      if (page.length < limit) break;
    }
  }

  /**
   * Feeds runs (in finish order, none fed before) to the series' detectors; `embed` false: the embeddings endpoint
   * failed a moment ago, content waits without asking it. Returns whether content could be evaluated.
   */
  async #feed(st: SeriesState, fresh: SeriesRun[], embed: boolean): Promise<boolean> {
    const { labels } = st;
    // Content needs every text embedded first (with an embeddings endpoint). If the endpoint fails, the other
    // detectors go on and the runs' content waits, in order, for the next evaluation it answers in; nothing is
    // compared on another measure meanwhile.
    const textsOf = (r: SeriesRun) => Object.values(r.steps).flatMap((x) => [x.reply ?? '', x.heard ?? '']).filter(Boolean);
    let contentReady = false;
    if (embed) {
      try {
        await this.#text.prepare([...this.#baselineTexts(st), ...st.contentPending.flatMap((p) => textsOf(p.run)), ...fresh.flatMap(textsOf)]);
        contentReady = true;
      } catch (e) {
        if (!(e instanceof VigilError) || e.code !== 'VIGIL_E_LLM_UNAVAILABLE') throw e;
        this.#log.warn({ ...labels, err: e.message, waiting: st.contentPending.length + fresh.length }, 'content drift waits for the embeddings endpoint');
      }
    }
    if (contentReady) {
      st.content ??= this.#buildContent(st);
      while (st.contentPending.length) {
        const p = st.contentPending[0]!;
        await this.#feedContent(st, st.content, p.run, p.index);
        st.contentPending.shift();
      }
    }
    for (const r of fresh) {
      if (r.finishedAt.getTime() !== st.lastFinishedAt.getTime()) st.atLast.clear();
      st.atLast.add(r.runId);
      st.lastFinishedAt = r.finishedAt;
      const index = st.index++;
      if (Object.keys(r.versions).length && !sameVersions(r.versions, st.versions)) {
        st.versionChanges.push({ runId: r.runId, at: r.finishedAt.getTime(), index, before: st.versions, after: r.versions });
        if (st.versionChanges.length > 50) st.versionChanges.shift();
        st.versions = r.versions;
      }
      for (const [metric, det] of st.latency) {
        const v = r.metrics[metric];
        if (v === undefined || !(v > 0)) continue;
        const detector = `latency:${metric}`;
        const order = this.#fed(st, detector, r, index);
        const verdict = det.push(v);
        if (verdict.alarm && !st.alarmed.has(detector)) {
          const change = this.#at(order, verdict.changeAt!);
          await this.#raise(st, { detector, kind: 'latency', layer: metric.split('.')[0]!, direction: verdict.alarm, change, alarmRunId: r.runId, ratio: verdict.ratio, pValue: null, detail: {} });
        }
      }
      if (st.quality && r.quality) {
        const detector = 'quality:mos';
        const order = this.#fed(st, detector, r, index);
        const verdict = st.quality.push(Math.max(0.01, 4.5 - r.quality.mos));
        if (verdict.alarm && !st.alarmed.has(detector)) {
          const b = st.quality.baseline;
          await this.#raise(st, {
            detector, kind: 'quality', layer: 'network', direction: verdict.alarm === 'up' ? 'down' : 'up', change: this.#at(order, verdict.changeAt!), alarmRunId: r.runId, ratio: null, pValue: null,
            detail: { mos: +r.quality.mos.toFixed(2), baselineMos: +(4.5 - Math.exp(b.center)).toFixed(2), lossPercent: r.quality.lossPercent },
          });
        }
      }
      if (contentReady && st.content) await this.#feedContent(st, st.content, r, index);
      else {
        st.contentPending.push({ run: r, index });
        if (st.contentPending.length > KEEP_RUNS) {
          st.contentPending.shift();
          this.#log.warn({ ...labels, kept: KEEP_RUNS }, 'content drift: the embeddings endpoint has failed for too long; the oldest waiting run is skipped');
        }
      }
      const order = this.#fed(st, 'pass_rate', r, index);
      const pv = st.pass.push(r.verdict === 'pass');
      if (pv.alarm && !st.alarmed.has('pass_rate')) {
        // The window that failed the test: its first run (the drop began at or after it).
        const change = this.#at(order, order.offset + order.runs.length - st.pass.window);
        await this.#raise(st, { detector: 'pass_rate', kind: 'pass_rate', layer: null, direction: 'down', change, alarmRunId: r.runId, ratio: pv.runs ? pv.passes / pv.runs / Math.max(1e-9, pv.p0) : null, pValue: pv.pValue, detail: { passes: pv.passes, runs: pv.runs, baselinePassRateLow: +pv.p0.toFixed(4) } });
      }
      if (st.failures) {
        const fo = this.#fed(st, 'new_failure', r, index);
        for (const f of st.failures.push(r.failures)) {
          const detector = `new_failure:${f.signature}`.slice(0, 300);
          if (st.alarmed.has(detector) || [...st.alarmed].filter((a) => a.startsWith('new_failure:')).length >= MAX_NEW_FAILURE_ALARMS) continue;
          const stepName = f.signature.split(': ')[0];
          const stepKey = Object.entries(r.steps).find(([, x]) => x.name === stepName)?.[0];
          const contentLayer = stepKey ? [...st.alarmed].find((a) => a.startsWith(`content:${stepKey}.`)) : undefined;
          const layer = contentLayer ? (contentLayer.endsWith('.heard') || st.alarmed.has(`content:${stepKey}.heard`) ? 'asr' : null) : null;
          await this.#raise(st, { detector, kind: 'new_failure', layer, direction: 'new', change: this.#at(fo, f.changeAt), alarmRunId: r.runId, ratio: null, pValue: null, detail: { signature: f.signature, runs: f.runs, window: st.failures.w } });
        }
      }
    }
    this.#metrics.driftContentWaiting.set(labels, st.contentPending.length);
    return contentReady;
  }

  /** Feeds one run to the content detectors (the texts it holds embedded already). */
  async #feedContent(st: SeriesState, content: Map<string, ContentState>, r: SeriesRun, index: number): Promise<void> {
    // What was heard first: an answer that moved because the target heard something else is ASR's doing.
    for (const [detector, c] of [...content].sort(([a], [b]) => (a.endsWith('.heard') ? 0 : 1) - (b.endsWith('.heard') ? 0 : 1))) {
      const text = r.steps[c.stepKey]?.[c.field];
      if (text === undefined) continue;
      let d = c.memo.get(text);
      if (d === undefined) { d = contentDistance(text, c.texts, this.#text.similarity); c.memo.set(text, d); if (c.memo.size > 5_000) c.memo.delete(c.memo.keys().next().value as string); }
      const order = this.#fed(st, detector, r, index);
      const verdict = c.det.push(d);
      if (!verdict.alarm || st.alarmed.has(detector)) continue;
      const change = this.#at(order, verdict.changeAt!);
      const known = st.intents.get(c.stepKey) ?? new Set<string>();
      const intent = r.steps[c.stepKey]?.intent;
      const layer = c.field === 'heard' || st.alarmed.has(`content:${c.stepKey}.heard`) ? 'asr' : intent !== undefined && known.size > 0 && !known.has(intent) ? 'intent' : 'llm';
      await this.#raise(st, {
        detector, kind: 'content', layer, direction: 'changed', change, alarmRunId: r.runId, ratio: null, pValue: null,
        detail: { step: c.step, field: c.field, distance: +d.toFixed(4), threshold: +verdict.threshold.toFixed(4), similarity: this.#text.method, ...(st.remeasuredFrom ? { thresholdRemeasuredFrom: st.remeasuredFrom } : {}), text, nearestBaseline: nearest(text, c.texts, this.#text.similarity), ...(intent !== undefined ? { intent, baselineIntents: [...known] } : {}) },
      });
    }
  }

  async #raise(st: SeriesState, a: { detector: string; kind: DriftAlarmRow['kind']; layer: string | null; direction: string; change: { runId: string; at: number; index: number }; alarmRunId: string; ratio: number | null; pValue: number | null; detail: Record<string, unknown> }): Promise<void> {
    st.alarmed.add(a.detector);
    // The target version change nearest the change point (since the baseline; up to ATTRIBUTION_RUNS after the
    // estimate, which is itself an estimate), if any.
    const vc = [...st.versionChanges].reverse().find((v) => v.index <= a.change.index + ATTRIBUTION_RUNS);
    const detail = { ...a.detail, changeIndex: a.change.index, ...(vc ? { versionChange: { runId: vc.runId, at: new Date(vc.at).toISOString(), runsBeforeChange: a.change.index - vc.index, before: vc.before, after: vc.after } } : {}) };
    const row = { baselineId: st.baseline.id, detector: a.detector, kind: a.kind, layer: a.layer, direction: a.direction, changeRunId: a.change.runId, changeAt: new Date(a.change.at), alarmRunId: a.alarmRunId, ratio: a.ratio, pValue: a.pValue, detail };
    if (await this.#ds.addAlarm(row)) {
      this.#metrics.driftAlarms.set({ ...st.labels, detector: a.detector }, 1);
      this.notifier?.alarm(st.labels, st.baseline.id, notified(alarmView({ ...row, raisedAt: new Date() } as DriftAlarmRow)));
      this.#log.warn({ ...st.labels, detector: a.detector, layer: a.layer, direction: a.direction, ratio: a.ratio, pValue: a.pValue, changeRunId: a.change.runId, baseline: st.baseline.version }, 'drift');
    }
  }
}

function notified(a: AlarmView): NotifiedAlarm {
  const vc = a.detail?.versionChange as { after?: Record<string, string> } | undefined;
  return {
    detector: a.detector, layer: a.layer, direction: a.direction, ratio: a.ratio, pValue: a.pValue, changeRunId: a.changeRunId ?? a.alarmRunId, changeAt: a.changeAt ?? a.raisedAt, alarmRunId: a.alarmRunId,
    ...(vc?.after ? { versionChange: vc.after } : {}),
  };
}

function nearest(text: string, texts: readonly string[], sim: (a: string, b: string) => number): string | null {
  let best: string | null = null, bestS = -1;
  for (const t of texts) { const v = sim(text, t); if (v > bestS) { bestS = v; best = t; } }
  return best;
}
