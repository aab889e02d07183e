/**
 * The probe's side of the gRPC contract. Unary calls map gRPC failures to VigilErrors (UNAVAILABLE and
 * DEADLINE_EXCEEDED are transient; UNAUTHENTICATED, FAILED_PRECONDITION, INVALID_ARGUMENT fatal).
 * `RunReporter` streams one run's events and survives plane restarts: it keeps every event the plane has not
 * acknowledged and resends them on a new stream after a jittered backoff.
 */
import * as grpc from '@grpc/grpc-js';
import {
  CONTRACT_VERSION, loadContract, runEventToWire, verdictFromWire,
  type ArtifactReceipt__Output, type ProbeServiceClient, type RegisterProbeResponse__Output, type RunAck__Output, type RunEvent, type RunEventBody, type Verdict,
} from '@vigil/contract';
import { VigilError, isErrorCode, type ErrorCode } from '@vigil/errors';

const TRANSIENT = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED, grpc.status.ABORTED, grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.CANCELLED]);

export function fromGrpcError(e: grpc.ServiceError): VigilError {
  const code = e.metadata?.get('vigil-error-code')[0];
  if (typeof code === 'string' && isErrorCode(code)) return new VigilError(code, e.details || e.message, { cause: e });
  const fallback: ErrorCode = TRANSIENT.has(e.code) ? 'VIGIL_E_PLANE_UNAVAILABLE' : e.code === grpc.status.UNAUTHENTICATED ? 'VIGIL_E_AUTH_PROBE_TOKEN' : 'VIGIL_E_REQUEST_INVALID';
  return new VigilError(fallback, `plane: ${e.details || e.message}`, { cause: e, fix: fallback === 'VIGIL_E_PLANE_UNAVAILABLE' ? 'check VIGIL_PLANE_ADDRESS and that the plane is up' : undefined });
}

/** Exponential backoff with full jitter. */
export function backoffMs(attempt: number, baseMs = 200, maxMs = 10_000, random = Math.random): number {
  return Math.round(random() * Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16)));
}

export interface PlaneClientOptions {
  address: string;
  token: string;
  tls: boolean;
}

export class PlaneClient {
  readonly client: ProbeServiceClient;
  readonly #token: string;

  constructor(o: PlaneClientOptions) {
    const Ctor = loadContract().vigil.v1.ProbeService;
    this.client = new Ctor(o.address, o.tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000, 'grpc.keepalive_permit_without_calls': 1,
      'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 5000,
    });
    this.#token = o.token;
  }

  metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${this.#token}`);
    return md;
  }

  register(req: { probeId: string; region: string; version: string; capabilities: string[]; hostname: string; publicKey: string }): Promise<RegisterProbeResponse__Output> {
    return new Promise((resolve, reject) => {
      this.client.RegisterProbe({ ...req, contractVersion: CONTRACT_VERSION }, this.metadata(), { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(fromGrpcError(err)) : resolve(res!)));
    });
  }

  /** Sends a heartbeat; resolves with the probe clock's offset from the plane's (plane − probe, ms, NTP-style midpoint). */
  heartbeat(req: { probeId: string; inFlight: number; runIds: string[] }): Promise<{ clockOffsetMs: number; rttMs: number }> {
    const sent = Date.now();
    return new Promise((resolve, reject) => {
      this.client.Heartbeat({ ...req, sentAtMs: sent }, this.metadata(), { deadline: Date.now() + 10_000 }, (err, res) => {
        if (err) { reject(fromGrpcError(err)); return; }
        const back = Date.now();
        resolve({ clockOffsetMs: Number(res!.receivedAtMs) - (sent + back) / 2, rttMs: back - sent });
      });
    });
  }

  /** Uploads one artifact in 256 KiB chunks; resolves with the plane's receipt (sha256, bytes, the run's salt). */
  uploadArtifact(meta: { runId: string; attempt: number; name: string; mediaType: string; retention: string; redactions: string[] }, data: Buffer): Promise<ArtifactReceipt__Output> {
    return new Promise((resolve, reject) => {
      const call = this.client.UploadArtifact(this.metadata(), { deadline: Date.now() + 120_000 }, (err, res) => (err ? reject(fromGrpcError(err)) : resolve(res!)));
      const CHUNK = 256 * 1024;
      for (let at = 0; at === 0 || at < data.length; at += CHUNK) {
        call.write({ ...(at === 0 ? meta : { runId: meta.runId, attempt: meta.attempt, name: meta.name }), data: data.subarray(at, at + CHUNK) });
      }
      call.end();
    });
  }

  close(): void {
    this.client.close();
  }
}

export interface ReporterHooks {
  /** The plane already holds a final result for this run (an earlier attempt finished it). */
  onAlreadyFinal?: (verdict: Verdict | undefined) => void;
  onRetry?: (e: VigilError, attempt: number) => void;
}

type StreamOutcome = { kind: 'final'; verdict: Verdict | undefined } | { kind: 'fatal'; error: VigilError } | { kind: 'retry'; error: VigilError; progressed: boolean };

/** Streams one run attempt's events; `finished()` resolves once the plane has stored the final one. */
export class RunReporter {
  readonly #plane: PlaneClient;
  readonly #runId: string;
  readonly #attempt: number;
  readonly #probeId: string;
  readonly #hooks: ReporterHooks;
  readonly #events: RunEvent[] = [];
  #acked = 0;
  #finalSeq = 0;
  #notify: (() => void) | undefined;
  #abort = new AbortController();
  readonly #done: Promise<{ verdict: Verdict | undefined }>;

  constructor(plane: PlaneClient, ids: { runId: string; attempt: number; probeId: string }, hooks: ReporterHooks = {}) {
    this.#plane = plane;
    this.#runId = ids.runId;
    this.#attempt = ids.attempt;
    this.#probeId = ids.probeId;
    this.#hooks = hooks;
    this.#done = this.#pump();
    this.#done.catch(() => undefined);
  }

  push(body: RunEventBody): void {
    const seq = this.#events.length + 1;
    this.#events.push({ runId: this.#runId, attempt: this.#attempt, seq, atMs: Date.now(), probeId: this.#probeId, body });
    if (body.kind === 'run_finished') this.#finalSeq = seq;
    this.#notify?.();
  }

  get unacked(): number {
    return this.#events.length - this.#acked;
  }

  /** Resolves when the plane stored the final event; rejects on a fatal plane error or on cancel(). */
  finished(): Promise<{ verdict: Verdict | undefined }> {
    return this.#done;
  }

  cancel(): void {
    this.#abort.abort(new VigilError('VIGIL_E_SHUTTING_DOWN', 'run report cancelled'));
    this.#notify?.();
  }

  async #pump(): Promise<{ verdict: Verdict | undefined }> {
    for (let attempt = 0; ; attempt++) {
      if (this.#abort.signal.aborted) throw this.#abort.signal.reason;
      const outcome = await this.#stream();
      if (outcome.kind === 'final') return { verdict: outcome.verdict };
      if (outcome.kind === 'fatal') throw outcome.error;
      if (outcome.progressed) attempt = 0;
      this.#hooks.onRetry?.(outcome.error, attempt + 1);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, backoffMs(attempt));
        this.#abort.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
      });
    }
  }

  #stream(): Promise<StreamOutcome> {
    return new Promise<StreamOutcome>((resolve) => {
      const call = this.#plane.client.ReportRun(this.#plane.metadata());
      let sent = this.#acked;
      let settled = false;
      let progressed = false;
      let alreadyFinalTold = false;
      const settle = (r: StreamOutcome) => {
        if (settled) return;
        settled = true;
        this.#notify = undefined;
        if (r.kind !== 'final') call.cancel();
        resolve(r);
      };
      const sendMore = () => {
        if (settled) return;
        if (this.#abort.signal.aborted) { settle({ kind: 'fatal', error: this.#abort.signal.reason as VigilError }); return; }
        while (sent < this.#events.length) {
          call.write(runEventToWire(this.#events[sent]!));
          sent++;
        }
        if (this.#finalSeq > 0 && sent >= this.#finalSeq) call.end();
      };
      this.#notify = sendMore;
      call.on('data', (ack: RunAck__Output) => {
        if (ack.errorCode) {
          const code = isErrorCode(ack.errorCode) ? ack.errorCode : 'VIGIL_E_INTERNAL';
          const err = new VigilError(code, ack.errorMessage || ack.errorCode);
          settle(ack.errorRetryable ? { kind: 'retry', error: err, progressed } : { kind: 'fatal', error: err });
          return;
        }
        if (ack.runId !== this.#runId || ack.attempt !== this.#attempt) return;
        if (ack.ackedSeq > this.#acked) { this.#acked = Number(ack.ackedSeq); progressed = true; }
        const verdict = verdictFromWire(ack.finalVerdict);
        if (ack.finalStored && this.#finalSeq === 0 && !alreadyFinalTold) {
          alreadyFinalTold = true;
          this.#hooks.onAlreadyFinal?.(verdict);
        }
        if (this.#finalSeq > 0 && this.#acked >= this.#finalSeq) settle({ kind: 'final', verdict });
      });
      call.on('error', (e: grpc.ServiceError) => {
        const err = fromGrpcError(e);
        settle(err.retryable ? { kind: 'retry', error: err, progressed } : { kind: 'fatal', error: err });
      });
      call.on('end', () => settle({ kind: 'retry', error: new VigilError('VIGIL_E_PLANE_UNAVAILABLE', 'plane closed the report stream before storing the final event'), progressed }));
      sendMore();
    });
  }
}
