/**
 * Starts a control plane: database (migrated under an advisory lock), run bus, scheduler, gRPC for probes and
 * the HTTP API. `close()` stops taking work, lets open probe streams finish within a grace period, then
 * releases everything in reverse order.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import { JetStreamBus, MemoryBus, type RunBus } from '@vigil/bus';
import { VigilError } from '@vigil/errors';
import { DriftStore, EvidenceStore, Store, migrate, openDatabase, type Database } from '@vigil/store';
import { DriftService } from './drift.ts';
import { DriftNotifier } from './notify.ts';
import { EvidenceService } from './evidence.ts';
import { buildApp, type App } from './app.ts';
import { ProbeGrpcServer } from './grpc.ts';
import { PlaneMetrics } from './metrics.ts';
import { compilePlaneOptions, type CompiledPlaneOptions, type PlaneOptions } from './options.ts';
import { Scheduler } from './scheduler.ts';

export interface Plane {
  readonly options: CompiledPlaneOptions;
  readonly httpUrl: string;
  readonly grpcAddress: string;
  readonly store: Store;
  readonly bus: RunBus;
  readonly app: App;
  readonly scheduler: Scheduler;
  readonly grpc: ProbeGrpcServer;
  readonly metrics: PlaneMetrics;
  readonly evidence: EvidenceService;
  close(graceMs?: number): Promise<void>;
}

export interface PlaneExtras {
  logger?: Logger;
  /** Use this bus instead of connecting one (the embedded default shares an in-process bus with its probe). */
  bus?: RunBus;
  /** How long to wait for Postgres at start-up. @default 30000 */
  databaseWaitMs?: number;
}

export function createLogger(level: string, name: string): Logger {
  return pino({
    name, level,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'token', '*.token', 'apiKey', '*.apiKey'], censor: '[redacted]' },
  });
}

async function openWithRetry(o: CompiledPlaneOptions, waitMs: number, log: Logger): Promise<Database> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const db = await openDatabase({ url: o.databaseUrl, pgliteDir: o.pgliteDir });
      await db.ping();
      return db;
    } catch (e) {
      if (Date.now() > deadline) throw new VigilError('VIGIL_E_DB_UNAVAILABLE', `database not reachable: ${(e as Error).message}`, { fix: 'check DATABASE_URL and that Postgres is up', cause: e });
      log.warn({ attempt, err: (e as Error).message }, 'database not reachable yet; retrying');
      await sleep(Math.min(2000 * attempt, 5000));
    }
  }
}

export async function startPlane(input: PlaneOptions = {}, extras: PlaneExtras = {}): Promise<Plane> {
  const options = compilePlaneOptions(input);
  const logger = extras.logger ?? createLogger(options.logLevel, 'vigil-plane');
  const database = await openWithRetry(options, extras.databaseWaitMs ?? 30_000, logger);
  const cleanup: Array<() => Promise<void>> = [() => database.close()];
  try {
    const m = await migrate(database);
    logger.info({ applied: m.applied, database: database.kind }, 'database migrated');
    const store = new Store(database);
    for (const t of options.probeTokens) await store.ensureProbeToken(t, 'bootstrap (VIGIL_PROBE_TOKENS)');
    const evidenceStore = new EvidenceStore(database);
    const evidence = await EvidenceService.open(store, evidenceStore, {
      tenant: options.tenant, origin: options.evidenceOrigin, keyFile: options.evidenceKeyFile, kekFile: options.evidenceKekFile, runDeadlineMs: options.runDeadlineMs,
    }, logger.child({ component: 'evidence' }));

    const regionOpts = { ackWaitMs: options.runAckWaitMs, maxDeliver: options.runMaxDeliver };
    const bus: RunBus = extras.bus ?? (options.natsUrl
      ? await JetStreamBus.connect({ url: options.natsUrl, name: 'vigil-plane', stream: options.natsStream, subjectPrefix: options.natsSubjectPrefix, regionDefaults: regionOpts })
      : new MemoryBus(regionOpts));
    if (!extras.bus) cleanup.unshift(() => bus.close());
    const ensureRegion = (r: string) => bus.ensureRegion(r, regionOpts);

    const metrics = new PlaneMetrics(async () => {
      const now = Date.now();
      const [probes, outboxPending, evidenceLogSize] = await Promise.all([store.listProbes(), store.countOutbox(new Date(now)), evidenceStore.size(options.tenant)]);
      return {
        probes: probes.map((p) => ({ id: p.id, region: p.region, inFlight: p.inFlight, online: now - p.lastHeartbeatAt.getTime() <= 3 * options.heartbeatIntervalMs })),
        outboxPending,
        evidenceLogSize,
      };
    });
    const driftStore = new DriftStore(database);
    const drift = new DriftService(driftStore, store, metrics, logger.child({ component: 'drift' }), options.embeddings ? { embeddings: options.embeddings } : {});
    const scheduler = new Scheduler({ store, bus, metrics, logger: logger.child({ component: 'scheduler' }), tickMs: options.schedulerTickMs, evidence, checkpointIntervalMs: options.checkpointIntervalMs, drift });
    const grpc = new ProbeGrpcServer({ store, metrics, logger: logger.child({ component: 'grpc' }), heartbeatIntervalMs: options.heartbeatIntervalMs, probeMaxConcurrency: options.probeMaxConcurrency, runAckWaitMs: options.runAckWaitMs, evidence, drift });
    let ready = false;
    const app = await buildApp({ store, metrics, scheduler, options, logger, ensureRegion, evidence, evidenceStore, drift, driftStore, onTokenRevoked: () => grpc.clearTokenCache(), ready: () => ready });

    const grpcPort = await grpc.listen(options.host, options.grpcPort);
    cleanup.unshift(async () => grpc.kill());
    const httpUrl = await app.listen({ host: options.host, port: options.httpPort });
    const notifier = new DriftNotifier({ hooks: [...options.notifyWebhooks], baseUrl: options.publicUrl ?? httpUrl, groupMs: options.notifyGroupMs, logger: logger.child({ component: 'notify' }), record: (d) => driftStore.addNotification(d) });
    drift.notifier = notifier;
    cleanup.unshift(() => app.close());
    scheduler.start();
    ready = true;
    logger.info({ httpUrl, grpcPort, bus: bus.kind, database: database.kind }, 'plane ready');

    let closing: Promise<void> | undefined;
    return {
      options, httpUrl, grpcAddress: `${options.host}:${grpcPort}`, store, bus, app, scheduler, grpc, metrics, evidence,
      close(graceMs = 5000) {
        closing ??= (async () => {
          ready = false;
          await scheduler.stop();
          await grpc.close(graceMs);
          evidence.close();
          await evidence.integrate().catch(() => undefined);
          await drift.idle();
          await notifier.flush();
          await app.close();
          if (!extras.bus) await bus.close().catch(() => undefined);
          await database.close();
          logger.info('plane stopped');
        })();
        return closing;
      },
    };
  } catch (e) {
    for (const c of cleanup) await c().catch(() => undefined);
    throw e;
  }
}
