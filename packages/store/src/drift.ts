/** Storage for baselines and drift alarms (migrations/0003_drift.sql). */
import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gt, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { timingMetrics, type LayerTiming } from '@vigil/contract';
import type { Database, Db } from './db.ts';
import { classifyDbError } from './db.ts';
import { baselines, driftAlarms, runEvents, runs, type BaselineStats } from './schema.ts';

export type BaselineRow = typeof baselines.$inferSelect;
export type DriftAlarmRow = typeof driftAlarms.$inferSelect;

export interface SeriesRun {
  runId: string;
  finishedAt: Date;
  verdict: string;
  /** Mean per "layer.metric" over the run's timings, in ms. */
  metrics: Record<string, number>;
}

export interface Series { journeyId: string; targetId: string; region: string }

export class DriftStore {
  readonly db: Db;
  constructor(database: Database) { this.db = database.db; }

  async #q<T>(fn: () => Promise<T>): Promise<T> {
    try { return await fn(); } catch (e) { throw classifyDbError(e); }
  }

  /** Finished runs of a series, oldest first, with their per-layer timings (the attempt that finished). */
  seriesRuns(s: Series, o: { since?: Date; until?: Date; finishedAfter?: Date } = {}): Promise<SeriesRun[]> {
    return this.#q(async () => {
      const where: SQL[] = [eq(runs.journeyId, s.journeyId), eq(runs.targetId, s.targetId), eq(runs.region, s.region), eq(runs.status, 'finished')];
      if (o.since) where.push(gte(runs.finishedAt, o.since));
      if (o.until) where.push(lt(runs.finishedAt, o.until));
      if (o.finishedAfter) where.push(gt(runs.finishedAt, o.finishedAfter));
      const rows = await this.db.select({ id: runs.id, finishedAt: runs.finishedAt, verdict: runs.verdict, body: runEvents.body }).from(runs)
        .leftJoin(runEvents, and(eq(runEvents.runId, runs.id), eq(runEvents.attempt, runs.attempt), eq(runEvents.kind, 'timing')))
        .where(and(...where)).orderBy(asc(runs.finishedAt), asc(runs.id));
      const out: SeriesRun[] = [];
      const sums = new Map<string, Map<string, { sum: number; n: number }>>();
      for (const r of rows) {
        let run = out.at(-1);
        if (!run || run.runId !== r.id) { run = { runId: r.id, finishedAt: r.finishedAt!, verdict: r.verdict!, metrics: {} }; out.push(run); sums.set(r.id, new Map()); }
        const t = (r.body as { timing?: LayerTiming } | null)?.timing;
        if (!t) continue;
        for (const m of timingMetrics(t)) {
          const key = `${t.layer}.${m.metric}`;
          const acc = sums.get(r.id)!.get(key) ?? { sum: 0, n: 0 };
          acc.sum += m.valueMs;
          acc.n++;
          sums.get(r.id)!.set(key, acc);
        }
      }
      for (const run of out) for (const [k, v] of sums.get(run.runId)!) run.metrics[k] = v.sum / v.n;
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
}
