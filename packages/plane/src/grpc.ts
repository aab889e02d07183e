/**
 * gRPC server for probes (proto/vigil/v1/probe.proto). Every call is authenticated by its probe token.
 * ReportRun stores events in batches, one transaction each, and acknowledges the highest sequence number
 * stored; resending is harmless. A storage failure is answered with a retryable error ack and the stream is
 * closed, so the probe reconnects and resends what was not acknowledged.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  CONTRACT_VERSION, loadContract, runEventFromWire, timingMetrics, verdictToWire,
  type ArtifactChunk__Output, type ProbeServiceHandlers, type RunAck, type RunEvent,
} from '@vigil/contract';
import { VigilError, toVigilError } from '@vigil/errors';
import type { ProbeTokenRow, Store } from '@vigil/store';
import type { DriftService } from './drift.ts';
import type { EvidenceService } from './evidence.ts';
import type { PlaneMetrics } from './metrics.ts';

export const PLANE_VERSION = '0.1.0';
const MAX_BATCH = 500;
const TOKEN_CACHE_MS = 30_000;

export interface GrpcDeps {
  store: Store;
  metrics: PlaneMetrics;
  logger: Logger;
  heartbeatIntervalMs: number;
  probeMaxConcurrency: number;
  runAckWaitMs: number;
  evidence: EvidenceService;
  drift: DriftService;
}

export function toGrpcError(e: VigilError): grpc.ServiceError {
  const md = new grpc.Metadata();
  md.set('vigil-error-code', e.code);
  md.set('vigil-retryable', String(e.retryable));
  return Object.assign(new Error(e.message), { code: e.grpcStatus, details: e.message, metadata: md }) as grpc.ServiceError;
}

/** The outcome the probe's record states (for the records counter). */
function outcomeOf(events: RunEvent[], runId: string): string {
  const fin = events.find((e) => e.runId === runId && e.body.kind === 'run_finished');
  try {
    const env = JSON.parse(fin?.body.kind === 'run_finished' ? fin.body.evidenceDsse ?? '' : '') as { payload: string };
    return String((JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as { predicate: { run: { outcome: unknown } } }).predicate.run.outcome);
  } catch {
    return 'unknown';
  }
}

export class ProbeGrpcServer {
  readonly server = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000, 'grpc.keepalive_permit_without_calls': 1 });
  readonly #d: GrpcDeps;
  readonly #tokens = new Map<string, { row: ProbeTokenRow; untilMs: number }>();

  constructor(deps: GrpcDeps) {
    this.#d = deps;
    const svc = loadContract().vigil.v1.ProbeService.service;
    this.server.addService(svc, this.#handlers() as unknown as grpc.UntypedServiceImplementation);
  }

  async #auth(md: grpc.Metadata): Promise<ProbeTokenRow> {
    const h = md.get('authorization')[0];
    const token = typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : undefined;
    if (!token) throw new VigilError('VIGIL_E_AUTH_PROBE_TOKEN', 'no probe token sent', { fix: 'set VIGIL_PROBE_TOKEN on the probe' });
    const hit = this.#tokens.get(token);
    if (hit && hit.untilMs > Date.now()) return hit.row;
    const row = await this.#d.store.verifyProbeToken(token);
    if (!row) throw new VigilError('VIGIL_E_AUTH_PROBE_TOKEN', 'unknown or revoked probe token', { fix: 'create a token with POST /v1/probe-tokens and give it to the probe' });
    this.#tokens.set(token, { row, untilMs: Date.now() + TOKEN_CACHE_MS });
    return row;
  }

  /** Forgets cached tokens (after a revoke). */
  clearTokenCache(): void {
    this.#tokens.clear();
  }

  #handlers(): ProbeServiceHandlers {
    const { store, logger } = this.#d;
    return {
      RegisterProbe: async (call, cb) => {
        try {
          const token = await this.#auth(call.metadata);
          const r = call.request;
          if (r.contractVersion !== CONTRACT_VERSION) throw new VigilError('VIGIL_E_PROBE_VERSION', `probe speaks contract v${r.contractVersion}, the plane v${CONTRACT_VERSION}`, { fix: 'upgrade the probe and the plane to matching versions' });
          if (!r.probeId || !r.region) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'probe_id and region are required', { field: r.probeId ? 'region' : 'probe_id', fix: 'set VIGIL_PROBE_ID and VIGIL_REGION' });
          if (token.region && token.region !== r.region) throw new VigilError('VIGIL_E_AUTH_PROBE_TOKEN', `this token is for region ${token.region}, not ${r.region}`, { fix: 'use a token issued for the probe\'s region' });
          const keyId = await this.#d.evidence.enroll(r.probeId, r.publicKey);
          await store.registerProbe({ id: r.probeId, region: r.region, version: r.version, contractVersion: r.contractVersion, capabilities: r.capabilities, hostname: r.hostname, tokenId: token.id }, new Date());
          logger.info({ probeId: r.probeId, region: r.region, version: r.version, capabilities: r.capabilities, keyId }, 'probe registered');
          cb(null, { accepted: true, heartbeatIntervalMs: this.#d.heartbeatIntervalMs, maxConcurrency: this.#d.probeMaxConcurrency, contractVersion: CONTRACT_VERSION, planeVersion: PLANE_VERSION, runAckWaitMs: this.#d.runAckWaitMs, keyId });
        } catch (e) {
          cb(toGrpcError(toVigilError(e)));
        }
      },
      Heartbeat: async (call, cb) => {
        try {
          await this.#auth(call.metadata);
          const known = await store.heartbeat(call.request.probeId, call.request.inFlight, new Date());
          if (!known) throw new VigilError('VIGIL_E_NOT_FOUND', `probe ${call.request.probeId} is not registered`, { fix: 'register first (the probe does this on reconnect)' });
          cb(null, { receivedAtMs: Date.now() });
        } catch (e) {
          cb(toGrpcError(toVigilError(e)));
        }
      },
      ReportRun: (call) => this.#reportRun(call as unknown as grpc.ServerDuplexStream<never, RunAck>),
      UploadArtifact: (call, cb) => {
        const chunks: Buffer[] = [];
        let head: ArtifactChunk__Output | undefined;
        let size = 0;
        let failed = false;
        const authed = this.#auth(call.metadata);
        authed.catch(() => undefined);
        call.on('data', (c: ArtifactChunk__Output) => {
          if (failed) return;
          head ??= c;
          size += c.data.length;
          if (size > 256 * 1024 * 1024) { failed = true; cb(toGrpcError(new VigilError('VIGIL_E_REQUEST_TOO_LARGE', 'artifact over 256 MiB', { field: 'data' }))); return; }
          chunks.push(Buffer.from(c.data));
        });
        call.on('error', () => { failed = true; });
        call.on('end', async () => {
          if (failed) return;
          try {
            await authed;
            if (!head?.runId || !head.name) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'the first artifact chunk must name the run and the artifact', { field: head?.runId ? 'name' : 'run_id', fix: 'send run_id, attempt and name in the first chunk' });
            const r = await this.#d.evidence.putArtifact({ runId: head.runId, attempt: head.attempt, name: head.name, mediaType: head.mediaType, retention: head.retention, redactions: head.redactions, data: Buffer.concat(chunks) });
            this.#d.metrics.artifactBytes.inc(r.bytes);
            cb(null, { sha256: r.sha256, bytes: r.bytes, salt: r.salt });
          } catch (e) {
            cb(toGrpcError(toVigilError(e)));
          }
        });
      },
    };
  }

  #reportRun(call: grpc.ServerDuplexStream<never, RunAck>): void {
    const { store, metrics, logger } = this.#d;
    const pending: RunEvent[] = [];
    let ended = false;
    let failed = false;
    let flushing: Promise<void> | undefined;
    const authed = this.#auth(call.metadata);
    authed.catch(() => undefined);

    const fail = (e: VigilError) => {
      if (failed) return;
      failed = true;
      pending.length = 0;
      if (!call.writable) return;
      call.write({ runId: '', attempt: 0, ackedSeq: 0, finalStored: false, errorCode: e.code, errorMessage: e.message, errorRetryable: e.retryable });
      call.end();
    };

    const flush = async (): Promise<void> => {
      try {
        await authed;
      } catch (e) {
        fail(toVigilError(e));
        return;
      }
      while (pending.length > 0 && !failed) {
        const batch = pending.splice(0, MAX_BATCH);
        const t0 = performance.now();
        let result;
        try {
          result = await store.ingest(batch, this.#d.evidence.onFinal);
        } catch (e) {
          const err = toVigilError(e);
          if (err.code.startsWith('VIGIL_E_EVIDENCE_')) metrics.evidenceRejected.inc({ code: err.code });
          logger.warn({ code: err.code, runId: batch[0]?.runId, msg2: err.message }, 'run events not stored');
          fail(err);
          return;
        }
        metrics.ingestBatch.observe((performance.now() - t0) / 1000);
        for (const ev of result.stored) {
          metrics.ingestEvents.inc({ kind: ev.body.kind });
          const labels = result.labels.get(ev.runId)!;
          const l = { journey: labels.journey, target: labels.target, region: labels.region };
          if (ev.body.kind === 'timing') for (const m of timingMetrics(ev.body.timing)) metrics.observeTiming(l, ev.body.timing.layer, m.metric, m.valueMs);
          if (ev.body.kind === 'assertion') metrics.assertions.inc({ ...l, verdict: ev.body.verdict });
        }
        if (result.finalized.length) this.#d.evidence.kick();
        for (const f of result.finalized) {
          this.#d.drift.onFinal(f.runId);
          metrics.evidenceRecords.inc({ outcome: outcomeOf(result.stored, f.runId), signer: 'probe' });
          metrics.observeFinal({ journey: f.journey, target: f.target, region: f.region }, f.verdict, f.durationMs);
          logger.info({ runId: f.runId, verdict: f.verdict, journey: f.journey, target: f.target, region: f.region }, 'run finished');
        }
        // One ack per (run, attempt) in the batch, with the highest seq stored.
        const acks = new Map<string, RunAck>();
        for (const ev of batch) {
          const key = `${ev.runId}/${ev.attempt}`;
          const prev = acks.get(key);
          const fv = result.finalVerdicts.get(ev.runId);
          if (!prev || Number(prev.ackedSeq) < ev.seq) {
            acks.set(key, { runId: ev.runId, attempt: ev.attempt, ackedSeq: ev.seq, finalStored: fv !== undefined, finalVerdict: fv ? verdictToWire(fv) : 'VERDICT_UNSPECIFIED' });
          }
        }
        for (const a of acks.values()) if (call.writable) call.write(a);
      }
      if (ended && !failed && call.writable) call.end();
    };

    // Flushes start on the next turn of the event loop, so events that arrive together share a transaction.
    const schedule = () => {
      if (!flushing) flushing = new Promise<void>((r) => setImmediate(r)).then(flush).finally(() => { flushing = undefined; if (pending.length > 0 && !failed) schedule(); else if (ended && !failed && call.writable) call.end(); });
    };

    call.on('data', (w) => {
      if (failed) return;
      try {
        pending.push(runEventFromWire(w));
      } catch (e) {
        fail(toVigilError(e));
        return;
      }
      schedule();
    });
    call.on('end', () => {
      ended = true;
      if (!flushing && pending.length === 0 && !failed) call.end();
    });
    call.on('error', () => { failed = true; });
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(new VigilError('VIGIL_E_CONFIG_INVALID', `cannot listen for gRPC on ${host}:${port}: ${err.message}`, { field: 'VIGIL_GRPC_PORT', fix: 'choose a free port', cause: err })) : resolve(bound)));
    });
  }

  /** Stops accepting calls; open streams get until graceMs, then everything is cut. */
  async close(graceMs = 5000): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { this.server.forceShutdown(); resolve(); }, graceMs);
      this.server.tryShutdown(() => { clearTimeout(t); resolve(); });
    });
  }

  /** Cuts everything at once (tests use it to simulate a crash). */
  kill(): void {
    this.server.forceShutdown();
  }
}
