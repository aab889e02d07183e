/** Storage for baselines and drift alarms (migrations/0003_drift.sql). */
import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gt, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { TARGET_TELEMETRY_SOURCE, timingMetrics, type LayerTiming } from '@vigil/contract';
import type { Database, Db } from './db.ts';
import { classifyDbError } from './db.ts';
import { baselines, driftAlarms, driftNotifications, runEvents, runs, type BaselineStats } from './schema.ts';

export type BaselineRow = typeof baselines.$inferSelect;
export type DriftAlarmRow = typeof driftAlarms.$inferSelect;
export type DriftNotificationRow = typeof driftNotifications.$inferSelect;

export interface SeriesRun {
  runId: string;
  finishedAt: Date;
  verdict: string;
  /** Mean per "layer.metric" over the run's timings, in ms. */
  metrics: Record<string, number>;
  /**
   * Per step index: its name, what the bot answered (its transcript lines, markers such as [HANGUP] left out),
   * and from the target's telemetry what it heard and the intent it chose.
   */
  steps: Record<string, { name: string; reply?: string; heard?: string; intent?: string }>;
  /** Failure signatures: "step: assertion" for failed assertions, "step: VIGIL_E_…" for errors. */
  failures: string[];
  /** Versions the target reported (from the run's signed record). */
  versions: Record<string, string>;
  /** Audio quality of the call, when there was one: E-model MOS (1–4.5) and loss. */
  quality?: { mos: number; lossPercent: number };
}

const step = (run: SeriesRun, i: unknown) => {
  const k = String(i);
  return (run.steps[k] ??= { name: `step ${Number(i) + 1}` });
};

function readEvent(run: SeriesRun, kind: string, b: Record<string, unknown>, sums: Map<string, { sum: number; n: number }>): void {
  switch (kind) {
    case 'timing': {
      const t = b.timing as LayerTiming | undefined;
      if (!t) return;
      if (t.layer === 'call_end' && t.mos > 0) run.quality = { mos: Math.min(run.quality?.mos ?? Infinity, t.mos), lossPercent: Math.max(run.quality?.lossPercent ?? 0, t.lossPercent) };
      for (const m of timingMetrics(t)) {
        const key = `${t.layer}.${m.metric}`;
        const acc = sums.get(key) ?? { sum: 0, n: 0 };
        acc.sum += m.valueMs;
        acc.n++;
        sums.set(key, acc);
      }
      return;
    }
    case 'step_started': step(run, b.stepIndex).name = String(b.name ?? '') || step(run, b.stepIndex).name; return;
    case 'transcript': {
      const text = String(b.text ?? '');
      const st = b.structured as { source?: string; heard?: string | null; intent?: string | null } | undefined;
      if (b.speaker === 'caller' && st?.source === TARGET_TELEMETRY_SOURCE) {
        const s = step(run, b.stepIndex);
        if (typeof st.heard === 'string') s.heard = s.heard ? `${s.heard} | ${st.heard}` : st.heard;
        if (typeof st.intent === 'string') s.intent = s.intent ? `${s.intent} | ${st.intent}` : st.intent;
      } else if (b.speaker === 'bot' && !/^\[[A-Z]/.test(text)) {
        const s = step(run, b.stepIndex);
        s.reply = s.reply ? `${s.reply} ${text}` : text;
      }
      return;
    }
    case 'assertion':
      if (b.verdict === 'fail' || b.verdict === 'error') run.failures.push(`${step(run, b.stepIndex).name}: ${String(b.assertion ?? '')}`);
      return;
    case 'step_finished':
      if (typeof b.errorCode === 'string' && b.errorCode) run.failures.push(`${step(run, b.stepIndex).name}: ${b.errorCode}`);
      return;
    case 'run_finished': {
      if (typeof b.errorCode === 'string' && b.errorCode && !run.failures.some((f) => f.endsWith(`: ${b.errorCode}`))) run.failures.push(`run: ${b.errorCode}`);
      // The versions the target reported are in the signed record (DSSE payload: an in-toto statement).
      if (typeof b.evidenceDsse === 'string') {
        try {
          const env = JSON.parse(b.evidenceDsse) as { payload?: string };
          const st = JSON.parse(Buffer.from(env.payload ?? '', 'base64').toString('utf8')) as { predicate?: { conditions?: { targetVersions?: Record<string, string> } } };
          run.versions = { ...(st.predicate?.conditions?.targetVersions ?? {}) };
        } catch { /* an unreadable record is the evidence service's business */ }
      }
      return;
    }
  }
}

export interface Series { journeyId: string; targetId: string; region: string }

export class DriftStore {
  readonly db: Db;
  constructor(database: Database) { this.db = database.db; }

  async #q<T>(fn: () => Promise<T>): Promise<T> {
    try { return await fn(); } catch (e) { throw classifyDbError(e); }
  }

  /**
   * Finished runs of a series, oldest first, with what drift detection reads of them (the attempt that finished).
   * `limit`: at most this many runs (the oldest), for reading a long series a page at a time.
   */
  seriesRuns(s: Series, o: { since?: Date; until?: Date; finishedAfter?: Date; runId?: string; limit?: number } = {}): Promise<SeriesRun[]> {
    return this.#q(async () => {
      const where: SQL[] = [eq(runs.journeyId, s.journeyId), eq(runs.targetId, s.targetId), eq(runs.region, s.region), eq(runs.status, 'finished')];
      if (o.since) where.push(gte(runs.finishedAt, o.since));
      if (o.until) where.push(lt(runs.finishedAt, o.until));
      if (o.finishedAfter) where.push(gt(runs.finishedAt, o.finishedAfter));
      if (o.runId) where.push(eq(runs.id, o.runId));
      if (o.limit !== undefined) {
        const ids = await this.db.select({ id: runs.id }).from(runs).where(and(...where)).orderBy(asc(runs.finishedAt), asc(runs.id)).limit(o.limit);
        if (ids.length === 0) return [];
        where.push(inArray(runs.id, ids.map((r) => r.id)));
      }
      const rows = await this.db.select({ id: runs.id, finishedAt: runs.finishedAt, verdict: runs.verdict, kind: runEvents.kind, body: runEvents.body }).from(runs)
        .leftJoin(runEvents, and(eq(runEvents.runId, runs.id), eq(runEvents.attempt, runs.attempt), inArray(runEvents.kind, ['timing', 'transcript', 'assertion', 'step_started', 'step_finished', 'run_finished'])))
        .where(and(...where)).orderBy(asc(runs.finishedAt), asc(runs.id), asc(runEvents.seq));
      const out: SeriesRun[] = [];
      let sums = new Map<string, { sum: number; n: number }>();
      const finish = (run: SeriesRun | undefined) => { if (run) for (const [k, v] of sums) run.metrics[k] = v.sum / v.n; };
      for (const r of rows) {
        let run = out.at(-1);
        if (!run || run.runId !== r.id) {
          finish(run);
          sums = new Map();
          run = { runId: r.id, finishedAt: r.finishedAt!, verdict: r.verdict!, metrics: {}, steps: {}, failures: [], versions: {} };
          out.push(run);
        }
        if (r.body) readEvent(run, r.kind!, r.body as Record<string, unknown>, sums);
      }
      finish(out.at(-1));
      return out;
    });
  }

  /** Adds the next version of a series' baseline. */
  addBaseline(s: Series, b: { since: Date; until: Date; runs: number; stats: BaselineStats; createdBy: string; reason: string }): Promise<BaselineRow> {
    return this.#q(() => this.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`vigil-baseline:${s.journeyId}:${s.targetId}:${s.region}`}))`);
      const [last] = await tx.select({ v: baselines.version }).from(baselines)
        .where(and(eq(baselines.journeyId, s.journeyId), eq(baselines.targetId, s.targetId), eq(baselines.region, s.region))).orderBy(desc(baselines.version)).limit(1);
      const [row] = await tx.insert(baselines).values({ id: randomUUID(), ...s, version: (last?.v ?? 0) + 1, ...b }).returning();
      return row!;
    }));
  }

  latestBaseline(s: Series): Promise<BaselineRow | undefined> {
    return this.#q(async () => (await this.db.select().from(baselines)
      .where(and(eq(baselines.journeyId, s.journeyId), eq(baselines.targetId, s.targetId), eq(baselines.region, s.region))).orderBy(desc(baselines.version)).limit(1))[0]);
  }

  listBaselines(f: Partial<Series>): Promise<BaselineRow[]> {
    return this.#q(() => {
      const where: SQL[] = [];
      if (f.journeyId) where.push(eq(baselines.journeyId, f.journeyId));
      if (f.targetId) where.push(eq(baselines.targetId, f.targetId));
      if (f.region) where.push(eq(baselines.region, f.region));
      return this.db.select().from(baselines).where(where.length ? and(...where) : undefined).orderBy(asc(baselines.journeyId), asc(baselines.targetId), asc(baselines.region), desc(baselines.version)).limit(500);
    });
  }

  /** Records an alarm once per baseline and detector; true when it is new. */
  addAlarm(a: typeof driftAlarms.$inferInsert): Promise<boolean> {
    return this.#q(async () => (await this.db.insert(driftAlarms).values(a).onConflictDoNothing().returning({ d: driftAlarms.detector })).length > 0);
  }

  alarms(baselineIds: string[]): Promise<DriftAlarmRow[]> {
    if (baselineIds.length === 0) return Promise.resolve([]);
    return this.#q(() => this.db.select().from(driftAlarms).where(inArray(driftAlarms.baselineId, baselineIds)).orderBy(asc(driftAlarms.changeAt), asc(driftAlarms.raisedAt)));
  }

  /** Records one notification delivery (or its failure) for the alert history. */
  async addNotification(n: typeof driftNotifications.$inferInsert): Promise<void> {
    await this.#q(() => this.db.insert(driftNotifications).values(n));
  }

  notifications(baselineIds: string[]): Promise<DriftNotificationRow[]> {
    if (baselineIds.length === 0) return Promise.resolve([]);
    return this.#q(() => this.db.select().from(driftNotifications).where(inArray(driftNotifications.baselineId, baselineIds)).orderBy(asc(driftNotifications.sentAt), asc(driftNotifications.id)).limit(5000));
  }
}
