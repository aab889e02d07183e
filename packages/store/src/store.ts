/**
 * The queries the plane needs, in one place. Every write that must be all-or-nothing runs in one transaction;
 * driver errors leave as classified VigilErrors.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gte, inArray, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { RunEvent, RunRequest, TargetSpec, Verdict } from '@vigil/contract';
import { VigilError } from '@vigil/errors';
import type { Database, Db } from './db.ts';
import { classifyDbError } from './db.ts';
import { journeys, journeyVersions, probeTokens, probes, runEvents, runs, schedules, targets } from './schema.ts';

export type TargetRow = typeof targets.$inferSelect;
export type JourneyRow = typeof journeys.$inferSelect;
export type JourneyVersionRow = typeof journeyVersions.$inferSelect;
export type ScheduleRow = typeof schedules.$inferSelect;
export type RunRow = typeof runs.$inferSelect;
export type RunEventRow = typeof runEvents.$inferSelect;
export type ProbeRow = typeof probes.$inferSelect;
export type ProbeTokenRow = typeof probeTokens.$inferSelect;

export interface RunFilter {
  journey?: string;
  target?: string;
  region?: string;
  verdict?: Verdict;
  status?: RunRow['status'];
  since?: Date;
  until?: Date;
  limit?: number;
}

export interface RunLabels {
  runId: string;
  journey: string;
  target: string;
  region: string;
}

export interface IngestResult {
  /** Events stored by this call (duplicates of earlier calls are not here). */
  stored: RunEvent[];
  /** Runs whose final result this call stored — each runId appears here once in its life. */
  finalized: Array<RunLabels & { verdict: Verdict; durationMs: number }>;
  /** Label values for every run the batch touched. */
  labels: Map<string, RunLabels>;
  /** Final verdict per run, for runs that are final after this call. */
  finalVerdicts: Map<string, Verdict>;
}

export interface NewSchedule {
  journeyId: string;
  journeyVersionId: string | null;
  targetId: string;
  regions: string[];
  intervalMs: number | null;
  cron: string | null;
  jitterMaxMs: number;
  enabled: boolean;
  nextDueAt: Date;
}

export interface DueRun {
  scheduleId: string | null;
  journeyId: string;
  journeyVersionId: string;
  target: TargetSpec;
  region: string;
  scheduledAt: Date;
  notBefore: Date;
}

/**
 * Called inside the ingest transaction when a run_finished event makes a run final (once per run): the
 * evidence record is checked and logged here, so a run never ends without its record. Throwing rolls back.
 */
export type FinalHook = (tx: Db, event: RunEvent & { body: Extract<RunEvent['body'], { kind: 'run_finished' }> }, run: RunRow) => Promise<void>;

const MAX_LIST = 500;

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function targetSpecOf(t: TargetRow): TargetSpec {
  const spec: TargetSpec = { id: t.id, name: t.name, channel: t.channel as TargetSpec['channel'], endpoint: t.endpoint, config: t.config };
  if (t.credentialsRef) spec.credentialsRef = t.credentialsRef;
  return spec;
}

export class Store {
  readonly database: Database;
  readonly db: Db;

  constructor(database: Database) {
    this.database = database;
    this.db = database.db;
  }

  async #q<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw classifyDbError(e);
    }
  }

  // --- targets ---------------------------------------------------------------------------------------------

  createTarget(spec: Omit<TargetSpec, 'id'>): Promise<TargetRow> {
    return this.#q(async () => {
      const [row] = await this.db.insert(targets).values({
        id: randomUUID(), name: spec.name, channel: spec.channel, endpoint: spec.endpoint, credentialsRef: spec.credentialsRef ?? null, config: spec.config,
      }).returning();
      return row!;
    });
  }

  listTargets(): Promise<TargetRow[]> {
    return this.#q(() => this.db.select().from(targets).orderBy(asc(targets.name)));
  }

  /** By id or by name. */
  getTarget(ref: string): Promise<TargetRow | undefined> {
    return this.#q(async () => (await this.db.select().from(targets).where(or(eq(targets.id, ref), eq(targets.name, ref))).limit(1))[0]);
  }

  // --- journeys --------------------------------------------------------------------------------------------

  /**
   * Stores a journey version. The same content again returns the existing version (created=false); new
   * content under the same name becomes version latest+1. Nothing is ever updated in place.
   */
  pushJourney(input: { name: string; contentHash: string; source: string; definition: unknown }): Promise<{ journey: JourneyRow; version: JourneyVersionRow; created: boolean }> {
    return this.#q(() => this.db.transaction(async (tx) => {
      // Serialize pushes of one journey name.
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`journey:${input.name}`}))`);
      let [j] = await tx.select().from(journeys).where(eq(journeys.name, input.name)).limit(1);
      if (j) {
        const [same] = await tx.select().from(journeyVersions).where(and(eq(journeyVersions.journeyId, j.id), eq(journeyVersions.id, input.contentHash))).limit(1);
        if (same) return { journey: j, version: same, created: false };
      }
      const [taken] = await tx.select({ journeyId: journeyVersions.journeyId }).from(journeyVersions).where(eq(journeyVersions.id, input.contentHash)).limit(1);
      if (taken) throw new VigilError('VIGIL_E_CONFLICT', 'this exact journey source is already stored under another journey', { field: 'name', fix: 'change the journey name or content' });
      const version = j ? j.latestVersion + 1 : 1;
      if (!j) {
        [j] = await tx.insert(journeys).values({ id: randomUUID(), name: input.name, latestVersion: version }).returning();
      } else {
        [j] = await tx.update(journeys).set({ latestVersion: version, updatedAt: new Date() }).where(eq(journeys.id, j.id)).returning();
      }
      const [v] = await tx.insert(journeyVersions).values({ id: input.contentHash, journeyId: j!.id, version, source: input.source, definition: input.definition }).returning();
      return { journey: j!, version: v!, created: true };
    }));
  }

  listJourneys(): Promise<JourneyRow[]> {
    return this.#q(() => this.db.select().from(journeys).orderBy(asc(journeys.name)));
  }

  getJourney(ref: string): Promise<JourneyRow | undefined> {
    return this.#q(async () => (await this.db.select().from(journeys).where(or(eq(journeys.id, ref), eq(journeys.name, ref))).limit(1))[0]);
  }

  listJourneyVersions(journeyId: string): Promise<Array<Omit<JourneyVersionRow, 'source' | 'definition'>>> {
    return this.#q(() => this.db.select({ id: journeyVersions.id, journeyId: journeyVersions.journeyId, version: journeyVersions.version, createdAt: journeyVersions.createdAt })
      .from(journeyVersions).where(eq(journeyVersions.journeyId, journeyId)).orderBy(desc(journeyVersions.version)));
  }

  getJourneyVersion(journeyId: string, version?: number): Promise<JourneyVersionRow | undefined> {
    return this.#q(async () => {
      const j = await this.db.select().from(journeys).where(eq(journeys.id, journeyId)).limit(1);
      if (!j[0]) return undefined;
      const v = version ?? j[0].latestVersion;
      return (await this.db.select().from(journeyVersions).where(and(eq(journeyVersions.journeyId, journeyId), eq(journeyVersions.version, v))).limit(1))[0];
    });
  }

  // --- schedules -------------------------------------------------------------------------------------------

  createSchedule(s: NewSchedule): Promise<ScheduleRow> {
    return this.#q(async () => (await this.db.insert(schedules).values({ id: randomUUID(), ...s }).returning())[0]!);
  }

  listSchedules(): Promise<ScheduleRow[]> {
    return this.#q(() => this.db.select().from(schedules).orderBy(asc(schedules.createdAt)));
  }

  getSchedule(id: string): Promise<ScheduleRow | undefined> {
    return this.#q(async () => (await this.db.select().from(schedules).where(eq(schedules.id, id)).limit(1))[0]);
  }

  updateSchedule(id: string, patch: Partial<Pick<ScheduleRow, 'enabled' | 'nextDueAt'>>): Promise<ScheduleRow | undefined> {
    return this.#q(async () => (await this.db.update(schedules).set({ ...patch, updatedAt: new Date() }).where(eq(schedules.id, id)).returning())[0]);
  }

  /**
   * One scheduler tick: claims due schedules (FOR UPDATE SKIP LOCKED, so several planes share the work), writes
   * one queued run per region with its request, and moves each schedule's next_due_at — all in one
   * transaction, so a crash never half-dispatches a schedule.
   */
  dispatchDue(now: Date, plan: (s: ScheduleRow) => { nextDueAt: Date; offsetsMs: Map<string, number> }, limit = 100): Promise<RunRow[]> {
    return this.#q(() => this.db.transaction(async (tx) => {
      const due = await tx.select().from(schedules)
        .where(and(eq(schedules.enabled, true), lte(schedules.nextDueAt, now)))
        .orderBy(asc(schedules.nextDueAt)).limit(limit).for('update', { skipLocked: true });
      const created: RunRow[] = [];
      for (const s of due) {
        const [target] = await tx.select().from(targets).where(eq(targets.id, s.targetId));
        const [journey] = await tx.select().from(journeys).where(eq(journeys.id, s.journeyId));
        const versionRow = s.journeyVersionId
          ? (await tx.select().from(journeyVersions).where(eq(journeyVersions.id, s.journeyVersionId)))[0]
          : (await tx.select().from(journeyVersions).where(and(eq(journeyVersions.journeyId, s.journeyId), eq(journeyVersions.version, journey!.latestVersion))))[0];
        const { nextDueAt, offsetsMs } = plan(s);
        for (const region of s.regions) {
          const notBefore = new Date(s.nextDueAt.getTime() + (offsetsMs.get(region) ?? 0));
          created.push(await this.#insertRun(tx as unknown as Db, {
            scheduleId: s.id, journeyId: s.journeyId, journeyVersionId: versionRow!.id, target: targetSpecOf(target!), region, scheduledAt: s.nextDueAt, notBefore,
          }, versionRow!.definition, versionRow!.version));
        }
        await tx.update(schedules).set({ nextDueAt, updatedAt: new Date() }).where(eq(schedules.id, s.id));
      }
      return created;
    }));
  }

  async #insertRun(db: Db, r: DueRun, definition: unknown, version: number): Promise<RunRow> {
    const id = randomUUID();
    const request: RunRequest = {
      runId: id, region: r.region, journeyId: r.journeyId, journeyVersionId: r.journeyVersionId, journey: definition, target: r.target,
      scheduledAtMs: r.scheduledAt.getTime(), notBeforeMs: r.notBefore.getTime(), journeyVersion: version, scheduleId: r.scheduleId,
    };
    const [row] = await db.insert(runs).values({
      id, scheduleId: r.scheduleId, journeyId: r.journeyId, journeyVersionId: r.journeyVersionId, targetId: r.target.id, region: r.region,
      status: 'queued', request, scheduledAt: r.scheduledAt, notBefore: r.notBefore,
    }).returning();
    return row!;
  }

  /** An on-demand run (API or CLI), queued through the same outbox as scheduled ones. */
  createRun(r: DueRun): Promise<RunRow> {
    return this.#q(async () => {
      const [v] = await this.db.select().from(journeyVersions).where(eq(journeyVersions.id, r.journeyVersionId));
      if (!v) throw new VigilError('VIGIL_E_NOT_FOUND', `journey version ${r.journeyVersionId} does not exist`, { field: 'journey' });
      return this.#insertRun(this.db, r, v.definition, v.version);
    });
  }

  /** Outbox: runs whose request is due and not yet acknowledged by JetStream. */
  unpublishedRuns(now: Date, limit = 500): Promise<Array<Pick<RunRow, 'id' | 'region' | 'request'>>> {
    return this.#q(() => this.db.select({ id: runs.id, region: runs.region, request: runs.request }).from(runs)
      .where(and(isNull(runs.publishedAt), lte(runs.notBefore, now))).orderBy(asc(runs.notBefore)).limit(limit));
  }

  countOutbox(now: Date): Promise<number> {
    return this.#q(async () => {
      const [r] = await this.db.select({ n: sql<number>`count(*)::int` }).from(runs).where(and(isNull(runs.publishedAt), lte(runs.notBefore, now)));
      return r?.n ?? 0;
    });
  }

  markPublished(ids: string[], at: Date): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    return this.#q(async () => {
      await this.db.update(runs).set({ publishedAt: at, status: sql`CASE WHEN ${runs.status} = 'queued' THEN 'published' ELSE ${runs.status} END` })
        .where(and(inArray(runs.id, ids), isNull(runs.publishedAt)));
    });
  }

  // --- runs ------------------------------------------------------------------------------------------------

  listRuns(f: RunFilter): Promise<Array<RunRow & { journeyName: string; targetName: string }>> {
    return this.#q(async () => {
      const where: SQL[] = [];
      if (f.journey) where.push(or(eq(journeys.id, f.journey), eq(journeys.name, f.journey))!);
      if (f.target) where.push(or(eq(targets.id, f.target), eq(targets.name, f.target))!);
      if (f.region) where.push(eq(runs.region, f.region));
      if (f.verdict) where.push(eq(runs.verdict, f.verdict));
      if (f.status) where.push(eq(runs.status, f.status));
      if (f.since) where.push(gte(runs.scheduledAt, f.since));
      if (f.until) where.push(lt(runs.scheduledAt, f.until));
      const rows = await this.db.select({ run: runs, journeyName: journeys.name, targetName: targets.name }).from(runs)
        .innerJoin(journeys, eq(journeys.id, runs.journeyId)).innerJoin(targets, eq(targets.id, runs.targetId))
        .where(where.length ? and(...where) : undefined)
        .orderBy(desc(runs.scheduledAt), desc(runs.id)).limit(Math.min(f.limit ?? 100, MAX_LIST));
      return rows.map((r) => ({ ...r.run, journeyName: r.journeyName, targetName: r.targetName }));
    });
  }

  /**
   * Finished runs grouped by journey, target and region, with verdict counts; and every assertion's pass count
   * over the same runs (the attempt that finished), for pass rates and flaky-assertion detection.
   */
  outcomes(f: Omit<RunFilter, 'verdict' | 'status' | 'limit'>): Promise<{
    runs: Array<{ journey: string; target: string; region: string; runs: number; pass: number; fail: number; error: number; inconclusive: number }>;
    assertions: Array<{ journey: string; target: string; region: string; assertion: string; n: number; pass: number; fail: number }>;
  }> {
    return this.#q(async () => {
      const where: SQL[] = [eq(runs.status, 'finished')];
      if (f.journey) where.push(or(eq(journeys.id, f.journey), eq(journeys.name, f.journey))!);
      if (f.target) where.push(or(eq(targets.id, f.target), eq(targets.name, f.target))!);
      if (f.region) where.push(eq(runs.region, f.region));
      if (f.since) where.push(gte(runs.scheduledAt, f.since));
      if (f.until) where.push(lt(runs.scheduledAt, f.until));
      const n = (cond?: SQL) => (cond ? sql<number>`(count(*) filter (where ${cond}))::int` : sql<number>`count(*)::int`);
      const byRun = await this.db.select({
        journey: journeys.name, target: targets.name, region: runs.region, runs: n(),
        pass: n(sql`${runs.verdict} = 'pass'`), fail: n(sql`${runs.verdict} = 'fail'`), error: n(sql`${runs.verdict} = 'error'`), inconclusive: n(sql`${runs.verdict} = 'inconclusive'`),
      }).from(runs).innerJoin(journeys, eq(journeys.id, runs.journeyId)).innerJoin(targets, eq(targets.id, runs.targetId))
        .where(and(...where)).groupBy(journeys.name, targets.name, runs.region).orderBy(journeys.name, targets.name, runs.region);
      const assertion = sql<string>`${runEvents.body}->>'assertion'`;
      const verdict = sql`${runEvents.body}->>'verdict'`;
      const byAssertion = await this.db.select({
        journey: journeys.name, target: targets.name, region: runs.region, assertion, n: n(), pass: n(sql`${verdict} = 'pass'`), fail: n(sql`${verdict} = 'fail'`),
      }).from(runEvents).innerJoin(runs, and(eq(runs.id, runEvents.runId), eq(runs.attempt, runEvents.attempt)))
        .innerJoin(journeys, eq(journeys.id, runs.journeyId)).innerJoin(targets, eq(targets.id, runs.targetId))
        .where(and(eq(runEvents.kind, 'assertion'), ...where)).groupBy(journeys.name, targets.name, runs.region, assertion).orderBy(journeys.name, targets.name, runs.region, assertion);
      return { runs: byRun, assertions: byAssertion };
    });
  }

  getRun(id: string): Promise<(RunRow & { journeyName: string; targetName: string }) | undefined> {
    return this.#q(async () => {
      const [r] = await this.db.select({ run: runs, journeyName: journeys.name, targetName: targets.name }).from(runs)
        .innerJoin(journeys, eq(journeys.id, runs.journeyId)).innerJoin(targets, eq(targets.id, runs.targetId))
        .where(eq(runs.id, id)).limit(1);
      return r ? { ...r.run, journeyName: r.journeyName, targetName: r.targetName } : undefined;
    });
  }

  runEvents(runId: string, attempt?: number): Promise<RunEventRow[]> {
    return this.#q(() => this.db.select().from(runEvents)
      .where(attempt === undefined ? eq(runEvents.runId, runId) : and(eq(runEvents.runId, runId), eq(runEvents.attempt, attempt)))
      .orderBy(asc(runEvents.attempt), asc(runEvents.seq)));
  }

  /**
   * Stores a batch of run events in one transaction. Idempotent: an event already stored (same run, attempt,
   * seq) is skipped. A run's verdict is written by the first run_finished that arrives and never changed after.
   */
  ingest(batch: RunEvent[], onFinal?: FinalHook): Promise<IngestResult> {
    return this.#q(() => this.db.transaction(async (tx) => {
      const runIds = [...new Set(batch.map((e) => e.runId))];
      const known = await tx.select({ id: runs.id, verdict: runs.verdict, region: runs.region, journey: journeys.name, target: targets.name }).from(runs)
        .innerJoin(journeys, eq(journeys.id, runs.journeyId)).innerJoin(targets, eq(targets.id, runs.targetId))
        .where(inArray(runs.id, runIds));
      const labels = new Map(known.map((k) => [k.id, { runId: k.id, journey: k.journey, target: k.target, region: k.region }]));
      const finalVerdicts = new Map<string, Verdict>();
      for (const k of known) if (k.verdict) finalVerdicts.set(k.id, k.verdict);
      const missing = runIds.filter((id) => !labels.has(id));
      if (missing.length > 0) throw new VigilError('VIGIL_E_RUN_UNKNOWN', `unknown run ${missing[0]}`, { field: 'run_id', fix: 'report only runs received from the plane\'s queue' });
      const inserted = await tx.insert(runEvents).values(batch.map((e) => ({
        runId: e.runId, attempt: e.attempt, seq: e.seq, kind: e.body.kind, at: new Date(e.atMs), probeId: e.probeId, body: e.body,
      }))).onConflictDoNothing().returning({ runId: runEvents.runId, attempt: runEvents.attempt, seq: runEvents.seq });
      const isNew = new Set(inserted.map((r) => `${r.runId}/${r.attempt}/${r.seq}`));
      const stored = batch.filter((e) => isNew.has(`${e.runId}/${e.attempt}/${e.seq}`));
      const finalized: IngestResult['finalized'] = [];
      for (const e of stored) {
        if (e.body.kind === 'run_started') {
          await tx.update(runs).set({ status: 'running', startedAt: new Date(e.atMs), probeId: e.probeId, attempt: e.attempt })
            .where(and(eq(runs.id, e.runId), isNull(runs.verdict)));
        } else if (e.body.kind === 'run_finished') {
          const b = e.body;
          const done = await tx.update(runs).set({
            status: 'finished', verdict: b.verdict, finishedAt: new Date(e.atMs), durationMs: b.durationMs, probeId: e.probeId, attempt: e.attempt,
            errorCode: b.errorCode ?? null, errorMessage: b.errorMessage ?? null,
          }).where(and(eq(runs.id, e.runId), isNull(runs.verdict))).returning({ id: runs.id });
          if (done.length > 0) {
            if (onFinal) {
              const [run] = await tx.select().from(runs).where(eq(runs.id, e.runId));
              await onFinal(tx as unknown as Db, e as RunEvent & { body: Extract<RunEvent['body'], { kind: 'run_finished' }> }, run!);
            }
            finalized.push({ ...labels.get(e.runId)!, verdict: b.verdict, durationMs: b.durationMs });
            finalVerdicts.set(e.runId, b.verdict);
          }
        }
      }
      return { stored, finalized, labels, finalVerdicts };
    }));
  }

  /** Ends a run without a probe's result (the plane's deadline); false when it already had one. */
  async finishRun(tx: Db, runId: string, r: { verdict: Verdict; errorCode: string; errorMessage: string; at: Date }): Promise<boolean> {
    const done = await tx.update(runs).set({ status: 'finished', verdict: r.verdict, finishedAt: r.at, errorCode: r.errorCode, errorMessage: r.errorMessage })
      .where(and(eq(runs.id, runId), isNull(runs.verdict))).returning({ id: runs.id });
    return done.length > 0;
  }

  // --- probes ----------------------------------------------------------------------------------------------

  /** Creates a probe token; the token itself is returned once and only its sha256 is stored. */
  createProbeToken(label: string, region: string | null): Promise<{ token: string; row: ProbeTokenRow }> {
    return this.#q(async () => {
      const token = `vgp_${randomBytes(32).toString('base64url')}`;
      const [row] = await this.db.insert(probeTokens).values({ id: randomUUID(), tokenSha256: hashToken(token), label, region }).returning();
      return { token, row: row! };
    });
  }

  /** Registers a known token (bootstrap from configuration); idempotent. */
  ensureProbeToken(token: string, label: string): Promise<void> {
    return this.#q(async () => {
      await this.db.insert(probeTokens).values({ id: randomUUID(), tokenSha256: hashToken(token), label, region: null }).onConflictDoNothing();
    });
  }

  verifyProbeToken(token: string): Promise<ProbeTokenRow | undefined> {
    return this.#q(async () => (await this.db.select().from(probeTokens).where(and(eq(probeTokens.tokenSha256, hashToken(token)), isNull(probeTokens.revokedAt))).limit(1))[0]);
  }

  revokeProbeToken(id: string): Promise<boolean> {
    return this.#q(async () => (await this.db.update(probeTokens).set({ revokedAt: new Date() }).where(and(eq(probeTokens.id, id), isNull(probeTokens.revokedAt))).returning()).length > 0);
  }

  registerProbe(p: Omit<ProbeRow, 'registeredAt' | 'lastHeartbeatAt' | 'inFlight'>, now: Date): Promise<ProbeRow> {
    return this.#q(async () => {
      const [row] = await this.db.insert(probes).values({ ...p, inFlight: 0, registeredAt: now, lastHeartbeatAt: now })
        .onConflictDoUpdate({ target: probes.id, set: { region: p.region, version: p.version, contractVersion: p.contractVersion, capabilities: p.capabilities, hostname: p.hostname, tokenId: p.tokenId, registeredAt: now, lastHeartbeatAt: now, inFlight: 0 } })
        .returning();
      return row!;
    });
  }

  heartbeat(probeId: string, inFlight: number, now: Date): Promise<boolean> {
    return this.#q(async () => (await this.db.update(probes).set({ lastHeartbeatAt: now, inFlight }).where(eq(probes.id, probeId)).returning({ id: probes.id })).length > 0);
  }

  listProbes(): Promise<ProbeRow[]> {
    return this.#q(() => this.db.select().from(probes).orderBy(asc(probes.region), asc(probes.id)));
  }

  ping(): Promise<void> {
    return this.#q(() => this.database.ping());
  }
}
