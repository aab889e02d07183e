/**
 * The probe daemon. Lifecycle (each step logged):
 *   starting → registering (retry with jittered backoff; a fatal answer stops the probe) → serving
 *   (heartbeats + consuming the region queue with bounded concurrency) → draining (SIGTERM: no new runs,
 *   in-flight runs get drainGraceMs) → stopped.
 * A run is acked on the bus only after the plane has stored its final event, so a probe killed mid-run leaves
 * the run to be redelivered — to this probe after a restart or to another one in the region.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { JetStreamBus, type Delivery, type RunBus, type Subscription } from '@vigil/bus';
import { chatDrivers, checkContextFor, redactionPolicy, webhookListenerFromEnv, type ChannelDriver, type WebhookListener } from '@vigil/chat';
import { checksFromEnv } from '@vigil/judge';
import { timingMetrics, type RunEventBody } from '@vigil/contract';
import { VigilError, toVigilError } from '@vigil/errors';
import { assertJourney, expectedPhrases, runJourney } from '@vigil/journey';
import { sipVoiceDriver } from '@vigil/sip';
import type { SigningKey } from '@vigil/evidence';
import { RunRecord, Redactor, loadProbeKey, policyName, sha256 } from './evidence.ts';
import { compileProbeOptions, type CompiledProbeOptions, type ProbeOptions } from './options.ts';
import { PlaneClient, RunReporter, backoffMs } from './plane-client.ts';

export const PROBE_VERSION = '0.1.0';

export type ProbeState = 'starting' | 'registering' | 'serving' | 'draining' | 'stopped';

export interface ProbeExtras {
  logger?: Logger;
  /** An in-process bus (embedded default); otherwise natsUrl is required. */
  bus?: RunBus;
  /** Extra channel drivers (voice channels register theirs here). */
  drivers?: ChannelDriver[];
  env?: NodeJS.ProcessEnv;
}

class ProbeMetrics {
  readonly registry = new Registry();
  readonly runs = new Counter({ name: 'vigil_probe_runs_total', help: 'Runs this probe finished and the plane stored, by verdict.', labelNames: ['verdict'], registers: [this.registry] });
  readonly inFlight = new Gauge({ name: 'vigil_probe_runs_in_flight', help: 'Runs being executed now.', registers: [this.registry] });
  readonly planeUp = new Gauge({ name: 'vigil_probe_plane_connected', help: '1 while the last call to the plane succeeded.', registers: [this.registry] });
  readonly reportRetries = new Counter({ name: 'vigil_probe_report_retries_total', help: 'Report streams re-opened after a plane failure.', registers: [this.registry] });
  readonly layer = new Histogram({ name: 'vigil_probe_layer_duration_seconds', help: 'Per-layer timings measured by this probe.', labelNames: ['layer', 'metric'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30], registers: [this.registry] });
  constructor() { collectDefaultMetrics({ register: this.registry, prefix: 'vigil_probe_process_' }); }
}

export class Probe {
  readonly options: CompiledProbeOptions;
  readonly log: Logger;
  readonly metrics = new ProbeMetrics();
  #state: ProbeState = 'starting';
  #plane: PlaneClient;
  #bus: RunBus | undefined;
  readonly #ownBus: boolean;
  readonly #drivers = new Map<string, ChannelDriver>();
  readonly #env: NodeJS.ProcessEnv;
  readonly #llmChecks: ReturnType<typeof checksFromEnv>;
  #webhooks: WebhookListener | undefined;
  #sub: Subscription | undefined;
  #http: Server | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #heartbeatMs = 10_000;
  #ackWaitMs = 30_000;
  #concurrency: number;
  #key: SigningKey | undefined;
  /** Plane clock − probe clock, from the last heartbeat (null until one came back). */
  #clockOffsetMs: number | null = null;
  readonly #running = new Map<string, { abort: AbortController; reporter?: RunReporter }>();
  #stopping: Promise<void> | undefined;
  readonly #stopAbort = new AbortController();
  httpPort = 0;

  constructor(input: ProbeOptions, extras: ProbeExtras = {}) {
    this.options = compileProbeOptions(input);
    this.log = extras.logger ?? pino({ name: 'vigil-probe', level: this.options.logLevel, redact: ['token', '*.token'] });
    this.log = this.log.child({ probeId: this.options.probeId, region: this.options.region });
    this.#plane = new PlaneClient({ address: this.options.planeAddress, token: this.options.token, tls: this.options.planeTls });
    this.#bus = extras.bus;
    this.#ownBus = !extras.bus;
    if (!extras.bus && !this.options.natsUrl) throw new VigilError('VIGIL_E_CONFIG_INVALID', 'the probe needs NATS_URL', { field: 'NATS_URL', fix: 'set NATS_URL (e.g. nats://127.0.0.1:4222)' });
    for (const d of [...chatDrivers(), sipVoiceDriver, ...(extras.drivers ?? [])]) this.#drivers.set(d.channel, d);
    this.#env = extras.env ?? process.env;
    this.#llmChecks = checksFromEnv(this.#env);
    this.#concurrency = this.options.concurrency;
  }

  get state(): ProbeState { return this.#state; }
  get capabilities(): string[] { return [...this.#drivers.keys()].sort(); }
  get inFlight(): number { return this.#running.size; }

  #setState(s: ProbeState): void {
    this.log.info({ from: this.#state, to: s }, 'probe state');
    this.#state = s;
  }

  /** Starts serving; resolves once registered and consuming. Throws on a fatal registration answer. */
  async start(): Promise<void> {
    await this.#startHttp();
    const k = await loadProbeKey(this.options.keyFile);
    this.#key = k.key;
    this.log.info({ keyId: k.key.keyId, created: k.created, keyFile: this.options.keyFile }, 'evidence signing key loaded');
    this.#webhooks = await webhookListenerFromEnv(this.#env);
    this.#setState('registering');
    await this.#register();
    if (!this.#bus) {
      this.#bus = await JetStreamBus.connect({ url: this.options.natsUrl!, name: `vigil-probe-${this.options.probeId}`, stream: this.options.natsStream, subjectPrefix: this.options.natsSubjectPrefix });
    }
    this.#sub = await this.#bus.consume(this.options.region, {
      concurrency: this.#concurrency,
      handler: (d) => this.#handle(d),
      onError: (e) => this.log.warn({ err: (e as Error).message }, 'queue error; retrying'),
    });
    this.#startHeartbeat();
    this.#setState('serving');
  }

  async #register(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.#stopAbort.signal.aborted) throw new VigilError('VIGIL_E_SHUTTING_DOWN', 'stopped before registration');
      try {
        const res = await this.#plane.register({ probeId: this.options.probeId, region: this.options.region, version: PROBE_VERSION, capabilities: this.capabilities, hostname: hostname(), publicKey: this.#key!.publicKey });
        this.#heartbeatMs = res.heartbeatIntervalMs || this.#heartbeatMs;
        this.#ackWaitMs = res.runAckWaitMs || this.#ackWaitMs;
        this.#concurrency = Math.max(1, Math.min(this.options.concurrency, res.maxConcurrency || this.options.concurrency));
        this.metrics.planeUp.set(1);
        this.log.info({ planeVersion: res.planeVersion, heartbeatMs: this.#heartbeatMs, concurrency: this.#concurrency, keyId: res.keyId }, 'registered with the plane');
        // A first heartbeat at once: runs taken before the periodic one still record the clock offset.
        await this.#beatOnce().catch(() => undefined);
        return;
      } catch (e) {
        const err = toVigilError(e);
        this.metrics.planeUp.set(0);
        if (!err.retryable) {
          this.log.error({ code: err.code, msg2: err.message }, 'registration refused; stopping');
          throw err;
        }
        const wait = Math.max(500, backoffMs(attempt, 1000, 30_000));
        this.log.warn({ code: err.code, waitMs: wait }, 'plane not reachable; retrying registration');
        await sleep(wait, undefined, { signal: this.#stopAbort.signal }).catch(() => undefined);
      }
    }
  }

  #startHeartbeat(): void {
    const beat = async () => {
      try {
        await this.#beatOnce();
        this.metrics.planeUp.set(1);
      } catch (e) {
        const err = toVigilError(e);
        this.metrics.planeUp.set(0);
        if (err.code === 'VIGIL_E_NOT_FOUND') {
          // The plane lost our registration (e.g. a fresh database): register again.
          await this.#register().catch((re) => this.log.error({ code: toVigilError(re).code }, 're-registration failed'));
        } else {
          this.log.warn({ code: err.code }, 'heartbeat failed');
        }
      }
      if (this.#state === 'serving' || this.#state === 'draining') this.#heartbeat = setTimeout(beat, this.#heartbeatMs);
    };
    this.#heartbeat = setTimeout(beat, this.#heartbeatMs);
  }

  async #beatOnce(): Promise<void> {
    const r = await this.#plane.heartbeat({ probeId: this.options.probeId, inFlight: this.#running.size, runIds: [...this.#running.keys()] });
    this.#clockOffsetMs = Math.round(r.clockOffsetMs);
  }

  /** Uploads an artifact, retrying transient plane failures; a fatal answer fails the run's report. */
  async #upload(meta: Parameters<PlaneClient['uploadArtifact']>[0], data: Buffer, signal: AbortSignal): Promise<Buffer> {
    for (let attempt = 0; ; attempt++) {
      try {
        return Buffer.from((await this.#plane.uploadArtifact(meta, data)).salt);
      } catch (e) {
        const err = toVigilError(e);
        if (!err.retryable || attempt >= 8 || signal.aborted) throw err;
        await sleep(backoffMs(attempt, 250, 5000), undefined, { signal }).catch(() => undefined);
      }
    }
  }

  async #handle(d: Delivery): Promise<void> {
    const req = d.request;
    const log = this.log.child({ runId: req.runId, attempt: d.attempt });
    if (this.#running.has(req.runId)) { d.nak(1000); return; }
    const abort = new AbortController();
    const entry: { abort: AbortController; reporter?: RunReporter } = { abort };
    this.#running.set(req.runId, entry);
    this.metrics.inFlight.set(this.#running.size);
    const working = setInterval(() => d.working(), Math.max(250, Math.floor(this.#ackWaitMs / 3)));
    try {
      const reporter = new RunReporter(this.#plane, { runId: req.runId, attempt: d.attempt, probeId: this.options.probeId }, {
        onAlreadyFinal: () => { log.info('the plane already holds this run\'s result; stopping the repeat'); abort.abort(new VigilError('VIGIL_E_SHUTTING_DOWN', 'already final')); },
        onRetry: (e, n) => { this.metrics.reportRetries.inc(); log.warn({ code: e.code, retry: n }, 'report stream failed; resending unacknowledged events'); },
      });
      entry.reporter = reporter;
      // Evidence: events are redacted by the target's policy before they leave the probe, observed for the
      // run's record, and the record is signed into run_finished after the artifacts are uploaded.
      const record = new RunRecord(req, d.attempt);
      let rejected: string | null = null;
      let redactor = new Redactor({ dtmf: true, pii: [] });
      try { redactor = new Redactor(redactionPolicy(req.target.config)); } catch (e) { rejected = toVigilError(e).message; }
      const turns: Array<{ step: number; speaker: string; text: string }> = [];
      let salt: Buffer | undefined;
      const upload = async (stepIndex: number, a: { name: string; mediaType: string; retention: string; redactions: string[]; data: Buffer }) => {
        salt = await this.#upload({ runId: req.runId, attempt: d.attempt, name: a.name, mediaType: a.mediaType, retention: a.retention, redactions: a.redactions }, a.data, abort.signal);
        const art = { name: a.name, sha256: sha256(a.data), bytes: a.data.length, mediaType: a.mediaType };
        record.artifacts.push({ ...art, retention: a.retention, redactions: a.redactions });
        const body: RunEventBody = { kind: 'artifact', stepIndex, ...art };
        record.observe(body, Date.now());
        reporter.push(body);
      };
      let lastStep = 0;
      const emit = async (raw: RunEventBody) => {
        let body = redactor.event(raw);
        if ('stepIndex' in body) lastStep = body.stepIndex;
        if (body.kind === 'transcript') turns.push({ step: body.stepIndex, speaker: body.speaker, text: body.text });
        if (body.kind === 'run_finished') {
          const transcript = Buffer.from(JSON.stringify({ version: 1, runId: req.runId, attempt: d.attempt, redaction: policyName(redactor.policy), turns }, null, 2));
          await upload(lastStep, { name: 'transcript.json', mediaType: 'application/json', retention: 'transcript', redactions: Object.keys(redactor.applied).sort(), data: transcript });
          body = {
            ...body,
            evidenceDsse: record.sign({
              key: this.#key!, probeId: this.options.probeId, region: this.options.region, probeVersion: PROBE_VERSION, clockOffsetMs: this.#clockOffsetMs,
              salt: salt!, finished: body, outcome: rejected ? 'rejected' : 'completed', endedAtMs: Date.now(), redaction: redactor,
            }),
          };
        }
        record.observe(body, Date.now());
        reporter.push(body);
        if (body.kind === 'timing') for (const m of timingMetrics(body.timing)) this.metrics.layer.observe({ layer: body.timing.layer, metric: m.metric }, m.valueMs / 1000);
      };
      const meta = { journeyVersionId: req.journeyVersionId, targetId: req.target.id, region: req.region, channel: req.target.channel };
      const driver = this.#drivers.get(req.target.channel);
      log.info({ channel: req.target.channel, target: req.target.name }, 'run started');
      if (!driver) rejected = `this probe has no driver for ${req.target.channel}`;
      let journey;
      if (!rejected) {
        try { journey = assertJourney(req.journey); } catch (e) { rejected = toVigilError(e).message; }
      }
      if (rejected || !driver || !journey) {
        const code = !driver ? 'VIGIL_E_CHANNEL_UNSUPPORTED' : journey ? 'VIGIL_E_TARGET_INVALID' : 'VIGIL_E_JOURNEY_INVALID';
        await emit({ kind: 'run_started', ...meta });
        await emit({ kind: 'run_finished', verdict: 'error', durationMs: 0, errorCode: code, errorMessage: rejected ?? 'rejected', stepsPassed: 0, stepsFailed: 0 });
      } else {
        const hook = this.#webhooks?.open(req.runId);
        try {
          await runJourney({
            journey, meta, emit, signal: abort.signal, checks: { ...checkContextFor(req.target, req.runId, this.#env), ...this.#llmChecks, ...(hook ? { webhook: hook } : {}) },
            open: (signal) => driver.open(req.target, { runId: req.runId, sessionId: `vigil-${req.runId}-${d.attempt}`, signal, env: this.#env, phrases: expectedPhrases(journey) }),
            onSessionEnd: async (end) => {
              record.codec = end.codec ?? null;
              record.versions = end.versions ?? {};
              // Recordings are kept as heard: RFC 4733 digits are not in the audio; spoken PII is not masked in it.
              for (const a of end.artifacts) await upload(end.stepIndex, { ...a, redactions: [] });
            },
          });
        } finally {
          hook?.close();
        }
      }
      const { verdict } = await reporter.finished();
      await d.ack();
      if (verdict) this.metrics.runs.inc({ verdict });
      log.info({ verdict }, 'run stored and acked');
    } catch (e) {
      const err = toVigilError(e);
      if (err.code === 'VIGIL_E_SHUTTING_DOWN') {
        log.warn('run cut by shutdown; it will be redelivered');
      } else if (err.retryable) {
        log.warn({ code: err.code, msg2: err.message }, 'run not stored; giving it back for redelivery');
        d.nak(5000);
      } else {
        log.error({ code: err.code, msg2: err.message }, 'the plane refused the run; it will not be retried');
        d.term(`${err.code}: ${err.message}`);
      }
    } finally {
      clearInterval(working);
      this.#running.delete(req.runId);
      this.metrics.inFlight.set(this.#running.size);
    }
  }

  async #startHttp(): Promise<void> {
    if (this.options.httpPort < 0) return;
    this.#http = createServer(async (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/ready') {
        const ok = this.#state === 'serving';
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ready: ok, state: this.#state }));
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, state: this.#state, inFlight: this.#running.size }));
      } else if (path === '/metrics') {
        res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
        res.end(await this.metrics.registry.metrics());
      } else if (path === '/disconnect' && req.method === 'POST') {
        // Soft hand-over: stop taking runs, finish the ones in flight, stay up for inspection.
        void this.#sub?.drain();
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ draining: true }));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      this.#http!.once('error', (e) => reject(new VigilError('VIGIL_E_CONFIG_INVALID', `probe HTTP port: ${e.message}`, { field: 'VIGIL_PROBE_HTTP_PORT', fix: 'choose a free port, or -1 to disable', cause: e })));
      this.#http!.listen(this.options.httpPort, this.options.httpHost, () => resolve());
    });
    this.httpPort = (this.#http.address() as AddressInfo).port;
  }

  /**
   * Drains: takes no new runs, lets in-flight ones finish within drainGraceMs, then cuts the rest (they are
   * not acked, so the bus redelivers them).
   */
  stop(graceMs = this.options.drainGraceMs): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopAbort.abort();
      this.#setState('draining');
      const drained = this.#sub?.drain() ?? Promise.resolve();
      const timedOut = await Promise.race([drained.then(() => false), sleep(graceMs).then(() => true)]);
      if (timedOut) {
        this.log.warn({ cut: [...this.#running.keys()] }, 'drain grace over; cutting in-flight runs');
        for (const r of this.#running.values()) { r.abort.abort(new VigilError('VIGIL_E_SHUTTING_DOWN', 'probe stopping')); r.reporter?.cancel(); }
        await drained;
      }
      if (this.#heartbeat) clearTimeout(this.#heartbeat);
      if (this.#ownBus) await this.#bus?.close().catch(() => undefined);
      this.#plane.close();
      if (this.#http) { this.#http.closeAllConnections(); await new Promise<void>((r) => this.#http!.close(() => r())); }
      await this.#webhooks?.close();
      this.#setState('stopped');
    })();
    return this.#stopping;
  }
}
