/**
 * The scheduler. Every tick it (1) claims due schedules and writes their runs to the outbox (the runs table,
 * published_at NULL) in one transaction, and (2) publishes outbox runs whose start time has come to the run
 * bus with Nats-Msg-Id = runId, marking them published only after the bus acknowledged. A crash between the
 * two steps leaves the run in the outbox, and the next tick (of this or another plane) publishes it; a repeat
 * publish is dropped by JetStream's dedupe window and, past it, by the plane's once-only final result.
 *
 * Each region's run gets a random start offset within the schedule's jitter, so one schedule never hits a bot
 * fleet from every region in lockstep.
 */
import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { RunBus } from '@vigil/bus';
import type { RunRequest } from '@vigil/contract';
import { VigilError } from '@vigil/errors';
import type { ScheduleRow, Store } from '@vigil/store';
import type { DriftService } from './drift.ts';
import type { EvidenceService } from './evidence.ts';
import type { PlaneMetrics } from './metrics.ts';

export const MAX_JITTER_MS = 5 * 60_000;

/** Default jitter: a tenth of the period, at most 30 s. */
export function defaultJitterMs(intervalMs: number | null): number {
  return Math.min(Math.floor((intervalMs ?? 60_000) / 10), 30_000);
}

export function parseCron(expr: string): Cron {
  try {
    return new Cron(expr, { paused: true, timezone: 'UTC' });
  } catch (e) {
    throw new VigilError('VIGIL_E_SCHEDULE_INVALID', `cron "${expr}" is not valid: ${(e as Error).message}`, { field: 'cron', fix: 'use five or six cron fields, e.g. "*/5 * * * *"' });
  }
}

/** Next due time strictly after `now`, skipping periods missed while no plane ran (they are not back-filled). */
export function nextDue(s: Pick<ScheduleRow, 'intervalMs' | 'cron' | 'nextDueAt'>, now: Date): Date {
  if (s.intervalMs) {
    const prev = s.nextDueAt.getTime();
    const periods = Math.max(1, Math.floor((now.getTime() - prev) / s.intervalMs) + 1);
    return new Date(prev + periods * s.intervalMs);
  }
  const next = parseCron(s.cron!).nextRun(now);
  if (!next) throw new VigilError('VIGIL_E_SCHEDULE_INVALID', `cron "${s.cron}" has no future run`, { field: 'cron' });
  return next;
}

export interface SchedulerDeps {
  store: Store;
  bus: RunBus;
  metrics: PlaneMetrics;
  logger: Logger;
  tickMs: number;
  random?: () => number;
  /** Seals overdue runs (missed/interrupted records) each tick and signs checkpoints. */
  evidence?: EvidenceService;
  checkpointIntervalMs?: number;
  /** Sealed runs count in their series' pass rate too. */
  drift?: DriftService;
}

export class Scheduler {
  readonly #d: SchedulerDeps;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #again = false;
  #lastCheckpointMs = 0;

  constructor(deps: SchedulerDeps) {
    this.#d = deps;
  }

  start(): void {
    this.#stopped = false;
    const loop = () => {
      if (this.#stopped) return;
      this.kick();
      this.#timer = setTimeout(loop, this.#d.tickMs);
    };
    loop();
  }

  /** Runs a tick now (coalesced with one already running). */
  kick(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.tick().catch((e) => this.#d.logger.warn({ err: e }, 'scheduler tick failed; retrying next tick'));
      } while (this.#again && !this.#stopped);
    })().finally(() => { this.#running = undefined; });
    return this.#running;
  }

  async tick(now = new Date()): Promise<{ created: number; published: number }> {
    const { store, metrics } = this.#d;
    const random = this.#d.random ?? Math.random;
    const created = await store.dispatchDue(now, (s) => ({
      nextDueAt: nextDue(s, now),
      offsetsMs: new Map(s.regions.map((r) => [r, Math.floor(random() * s.jitterMaxMs)])),
    }));
    if (created.length) metrics.runsCreated.inc({ source: 'schedule' }, created.length);
    const published = await this.relay(new Date());
    const ev = this.#d.evidence;
    if (ev) {
      await ev.integrate();
      const sealed = await ev.sealOverdue(new Date(), (runId) => this.#d.drift?.onFinal(runId));
      if (sealed) metrics.evidenceRecords.inc({ outcome: 'missed_or_interrupted', signer: 'log' }, sealed);
      if (Date.now() - this.#lastCheckpointMs >= (this.#d.checkpointIntervalMs ?? 10_000)) {
        this.#lastCheckpointMs = Date.now();
        await ev.checkpoint();
      }
    }
    return { created: created.length, published };
  }

  /** Publishes due outbox runs; returns how many the bus acknowledged. */
  async relay(now: Date): Promise<number> {
    const { store, bus, metrics, logger } = this.#d;
    let total = 0;
    for (;;) {
      const due = await store.unpublishedRuns(now, 200);
      if (due.length === 0) return total;
      const ok: string[] = [];
      await Promise.all(due.map(async (r) => {
        try {
          await bus.publish(r.request as RunRequest);
          ok.push(r.id);
        } catch (e) {
          metrics.publishErrors.inc();
          logger.warn({ runId: r.id, region: r.region, code: (e as VigilError).code }, 'publish failed; the run stays in the outbox');
        }
      }));
      await store.markPublished(ok, new Date());
      metrics.runsPublished.inc(ok.length);
      total += ok.length;
      if (ok.length < due.length || due.length < 200) return total;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }
}
