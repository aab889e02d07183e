/**
 * The plane's Prometheus metrics. Names follow vigil_<subsystem>_<name>_{seconds,total,bytes}; durations are
 * observed in seconds (the code carries milliseconds and converts here, once).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Layer, Verdict } from '@vigil/contract';

const LATENCY_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 21, 34];

export interface FleetSnapshot {
  probes: Array<{ id: string; region: string; online: boolean; inFlight: number }>;
  outboxPending: number;
  evidenceLogSize?: number;
}

export class PlaneMetrics {
  readonly registry = new Registry();
  readonly layerDuration: Histogram<'layer' | 'metric' | 'journey' | 'target' | 'region'>;
  readonly runs: Counter<'journey' | 'target' | 'region' | 'verdict'>;
  readonly runDuration: Histogram<'journey' | 'target' | 'region'>;
  readonly assertions: Counter<'journey' | 'target' | 'region' | 'verdict'>;
  readonly ingestEvents: Counter<'kind'>;
  readonly ingestBatch: Histogram<never>;
  readonly runsCreated: Counter<'source'>;
  readonly runsPublished: Counter<never>;
  readonly publishErrors: Counter<never>;
  readonly evidenceRecords: Counter<'outcome' | 'signer'>;
  readonly evidenceRejected: Counter<'code'>;
  readonly artifactBytes: Counter<never>;
  readonly driftAlarms: Gauge<'journey' | 'target' | 'region' | 'detector'>;
  readonly driftContentWaiting: Gauge<'journey' | 'target' | 'region'>;

  constructor(fleet: () => Promise<FleetSnapshot>) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: 'vigil_plane_' });
    this.layerDuration = new Histogram({ name: 'vigil_layer_duration_seconds', help: 'Per-layer timings reported by probes (layer, metric as in the LayerTiming union).', labelNames: ['layer', 'metric', 'journey', 'target', 'region'], buckets: LATENCY_BUCKETS_S, registers: [r] });
    this.runs = new Counter({ name: 'vigil_runs_total', help: 'Runs that reached a final verdict; each run is counted once.', labelNames: ['journey', 'target', 'region', 'verdict'], registers: [r] });
    this.runDuration = new Histogram({ name: 'vigil_run_duration_seconds', help: 'Wall time of finished runs on the probe.', labelNames: ['journey', 'target', 'region'], buckets: [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300], registers: [r] });
    this.assertions = new Counter({ name: 'vigil_assertions_total', help: 'Assertion outcomes reported by probes.', labelNames: ['journey', 'target', 'region', 'verdict'], registers: [r] });
    this.ingestEvents = new Counter({ name: 'vigil_ingest_events_total', help: 'Run events stored (duplicates excluded).', labelNames: ['kind'], registers: [r] });
    this.ingestBatch = new Histogram({ name: 'vigil_ingest_batch_seconds', help: 'Time to store one batch of run events.', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: [r] });
    this.runsCreated = new Counter({ name: 'vigil_scheduler_runs_created_total', help: 'Runs written to the outbox.', labelNames: ['source'], registers: [r] });
    this.runsPublished = new Counter({ name: 'vigil_scheduler_runs_published_total', help: 'Run requests acknowledged by the run bus.', registers: [r] });
    this.publishErrors = new Counter({ name: 'vigil_scheduler_publish_errors_total', help: 'Failed publishes (retried on the next tick).', registers: [r] });
    this.evidenceRecords = new Counter({ name: 'vigil_evidence_records_total', help: 'Terminal run records appended to the evidence log, by outcome and signer (probe or log).', labelNames: ['outcome', 'signer'], registers: [r] });
    this.evidenceRejected = new Counter({ name: 'vigil_evidence_rejected_total', help: 'Probe evidence records the plane refused, by error code.', labelNames: ['code'], registers: [r] });
    this.driftAlarms = new Gauge({ name: 'vigil_drift_alarms', help: 'Drift detectors in alarm against the current baseline of a journey/target/region (1 per detector: latency:<layer>.<metric>, pass_rate, content:<step>.<reply|heard>, new_failure:<signature>).', labelNames: ['journey', 'target', 'region', 'detector'], registers: [r] });
    this.driftContentWaiting = new Gauge({ name: 'vigil_drift_content_waiting_runs', help: 'Finished runs whose content drift is not evaluated yet because the embeddings endpoint (VIGIL_EMBEDDINGS_BASE_URL) failed; evaluated in order once it answers.', labelNames: ['journey', 'target', 'region'], registers: [r] });
    this.artifactBytes = new Counter({ name: 'vigil_artifact_bytes_total', help: 'Artifact bytes received from probes and stored encrypted.', registers: [r] });

    let snapshot: Promise<FleetSnapshot> | undefined;
    // One fleet query per scrape, shared by the gauges below.
    const snap = () => (snapshot ??= fleet().finally(() => setTimeout(() => { snapshot = undefined; }, 0)));
    new Gauge({
      name: 'vigil_fleet_probes', help: 'Registered probes by region and status (online: heartbeat within 3 intervals).', labelNames: ['region', 'status'], registers: [r],
      async collect() {
        this.reset();
        const s = await snap();
        for (const p of s.probes) this.inc({ region: p.region, status: p.online ? 'online' : 'offline' });
      },
    });
    new Gauge({
      name: 'vigil_fleet_runs_in_flight', help: 'Runs each online probe reports holding.', labelNames: ['probe', 'region'], registers: [r],
      async collect() {
        this.reset();
        const s = await snap();
        for (const p of s.probes) if (p.online) this.set({ probe: p.id, region: p.region }, p.inFlight);
      },
    });
    new Gauge({
      name: 'vigil_evidence_log_size', help: 'Entries in the evidence log (the tree size of the newest checkpoint source).', registers: [r],
      async collect() { this.set((await snap()).evidenceLogSize ?? 0); },
    });
    new Gauge({
      name: 'vigil_scheduler_outbox_pending', help: 'Due runs not yet acknowledged by the run bus.', registers: [r],
      async collect() { this.set((await snap()).outboxPending); },
    });
  }

  observeTiming(labels: { journey: string; target: string; region: string }, layer: Layer, metric: string, valueMs: number): void {
    this.layerDuration.observe({ ...labels, layer, metric }, valueMs / 1000);
  }

  observeFinal(labels: { journey: string; target: string; region: string }, verdict: Verdict, durationMs: number): void {
    this.runs.inc({ ...labels, verdict });
    this.runDuration.observe(labels, durationMs / 1000);
  }
}
