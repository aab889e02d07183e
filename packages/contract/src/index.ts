/**
 * The probe <-> plane contract. The source of truth is proto/vigil/v1/probe.proto; the types in generated/ are
 * produced from it by `pnpm gen` (proto-loader-gen-types). This module adds the TypeScript unions the rest of
 * Vigil works with, and the two mappings between them and the wire form.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { VigilError } from '@vigil/errors';
import type { ProtoGrpcType } from './generated/probe.ts';
import type { RunEvent as WireRunEvent, RunEvent__Output as WireRunEventOut } from './generated/vigil/v1/RunEvent.ts';
import type { LayerTiming__Output as WireTimingOut, LayerTiming as WireTiming } from './generated/vigil/v1/LayerTiming.ts';
import type { Verdict as WireVerdict } from './generated/vigil/v1/Verdict.ts';

export type { ProbeServiceClient, ProbeServiceHandlers } from './generated/vigil/v1/ProbeService.ts';
export type { RegisterProbeRequest__Output } from './generated/vigil/v1/RegisterProbeRequest.ts';
export type { RunAck, RunAck__Output } from './generated/vigil/v1/RunAck.ts';
export type { RunEvent__Output as WireRunEvent, RunEvent as WireRunEventInput } from './generated/vigil/v1/RunEvent.ts';
export type { RegisterProbeResponse__Output } from './generated/vigil/v1/RegisterProbeResponse.ts';
export type { HeartbeatRequest__Output } from './generated/vigil/v1/HeartbeatRequest.ts';
export type { ArtifactChunk, ArtifactChunk__Output } from './generated/vigil/v1/ArtifactChunk.ts';
export type { ArtifactReceipt__Output } from './generated/vigil/v1/ArtifactReceipt.ts';

/** Bumped on any incompatible change to proto/vigil/v1; the plane refuses probes that speak another. */
export const CONTRACT_VERSION = 1;

export const PROTO_ROOT = fileURLToPath(new URL('../../../proto/', import.meta.url));

/** Options shared by both sides so they decode the same way. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

let cached: ProtoGrpcType | undefined;
export function loadContract(): ProtoGrpcType {
  if (!cached) {
    const def = protoLoader.loadSync('vigil/v1/probe.proto', PROTO_LOADER_OPTIONS);
    cached = grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType;
  }
  return cached;
}

// ---------------------------------------------------------------------------------------------------------------
// Verdicts

/** `structured.source` of transcript events that carry what the target's own turn telemetry reported (not a turn of the conversation). */
export const TARGET_TELEMETRY_SOURCE = 'target-telemetry';

export const VERDICTS = ['pass', 'fail', 'error', 'inconclusive'] as const;
export type Verdict = (typeof VERDICTS)[number];

const VERDICT_TO_WIRE: Record<Verdict, WireVerdict> = {
  pass: 'VERDICT_PASS',
  fail: 'VERDICT_FAIL',
  error: 'VERDICT_ERROR',
  inconclusive: 'VERDICT_INCONCLUSIVE',
};

export function verdictToWire(v: Verdict): WireVerdict {
  return VERDICT_TO_WIRE[v];
}

export function verdictFromWire(v: WireVerdict | string | number | undefined): Verdict | undefined {
  switch (v) {
    case 'VERDICT_PASS': case 1: return 'pass';
    case 'VERDICT_FAIL': case 2: return 'fail';
    case 'VERDICT_ERROR': case 3: return 'error';
    case 'VERDICT_INCONCLUSIVE': case 4: return 'inconclusive';
    default: return undefined;
  }
}

/** The worst of several verdicts: error > fail > inconclusive > pass. */
export function worstVerdict(vs: Iterable<Verdict>): Verdict {
  const rank: Record<Verdict, number> = { pass: 0, inconclusive: 1, fail: 2, error: 3 };
  let worst: Verdict = 'pass';
  for (const v of vs) if (rank[v] > rank[worst]) worst = v;
  return worst;
}

// ---------------------------------------------------------------------------------------------------------------
// Per-layer timings: one union. Every *Ms field is a duration in milliseconds.

export type LayerTiming =
  /** One chat exchange. First token: request sent → first reply byte/token. Full reply: → last byte/token. */
  | { layer: 'chat_turn'; timeToFirstTokenMs: number; timeToFullReplyMs: number; streamed: boolean; replyChars: number }
  /** SIP setup. Post-dial delay: INVITE → first 18x. Answer: INVITE → 200. Setup: INVITE → ACK. */
  | { layer: 'call_setup'; postDialDelayMs: number; answerMs: number; setupMs: number; finalStatus?: number; earlyMedia?: boolean }
  /** The call as a whole, when it ends: answer → BYE, who hung up, media quality over the call. */
  | { layer: 'call_end'; durationMs: number; endedBy: 'local' | 'remote'; lossPercent: number; jitterMs: number; rttMs: number; mos: number; packetsReceived: number; srtpSuite: string }
  /** Caller's last speech sample → the bot's final transcript. */
  | { layer: 'asr'; finalTranscriptMs: number }
  | { layer: 'llm'; timeToFirstTokenMs: number; totalMs: number }
  /** Text ready → first audio byte. */
  | { layer: 'tts'; timeToFirstByteMs: number }
  /** Caller's last speech sample → bot's first speech sample; barge-in stop: caller onset → bot silent. */
  | { layer: 'voice_turn'; turnLatencyMs: number; timeToFirstAudioMs: number; bargeInStopMs: number };

export type Layer = LayerTiming['layer'];

/** Which fields of each layer are durations, under the metric name used in Postgres and Prometheus. */
export const LAYER_METRICS: { [L in Layer]: Record<string, keyof Extract<LayerTiming, { layer: L }>> } = {
  chat_turn: { time_to_first_token: 'timeToFirstTokenMs', time_to_full_reply: 'timeToFullReplyMs' },
  call_setup: { post_dial_delay: 'postDialDelayMs', answer: 'answerMs', setup: 'setupMs' },
  asr: { final_transcript: 'finalTranscriptMs' },
  llm: { time_to_first_token: 'timeToFirstTokenMs', total: 'totalMs' },
  tts: { time_to_first_byte: 'timeToFirstByteMs' },
  voice_turn: { turn_latency: 'turnLatencyMs', time_to_first_audio: 'timeToFirstAudioMs', barge_in_stop: 'bargeInStopMs' },
  call_end: { duration: 'durationMs', jitter: 'jitterMs', rtt: 'rttMs' },
};

/** Flattens a timing to (metric, valueMs) pairs, skipping durations that were not measured (0 on the wire). */
export function timingMetrics(t: LayerTiming): Array<{ metric: string; valueMs: number }> {
  const fields = LAYER_METRICS[t.layer] as Record<string, string>;
  const out: Array<{ metric: string; valueMs: number }> = [];
  for (const [metric, field] of Object.entries(fields)) {
    const v = (t as unknown as Record<string, number>)[field];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out.push({ metric, valueMs: v });
  }
  return out;
}

const LAYER_WIRE_FIELD = {
  chat_turn: 'chatTurn',
  call_setup: 'callSetup',
  asr: 'asr',
  llm: 'llm',
  tts: 'tts',
  voice_turn: 'voiceTurn',
  call_end: 'callEnd',
} as const satisfies Record<Layer, string>;

function timingToWire(stepIndex: number, t: LayerTiming): WireTiming {
  const { layer, ...fields } = t;
  return { stepIndex, [LAYER_WIRE_FIELD[layer]]: fields } as WireTiming;
}

function timingFromWire(w: WireTimingOut): LayerTiming {
  for (const [layer, field] of Object.entries(LAYER_WIRE_FIELD) as Array<[Layer, string]>) {
    if (w.layer === field) {
      const v = (w as unknown as Record<string, Record<string, unknown>>)[field];
      return { layer, ...v } as LayerTiming;
    }
  }
  throw new VigilError('VIGIL_E_RUN_EVENT_INVALID', 'timing event carries no layer', { field: 'timing.layer', fix: 'set one of the LayerTiming oneof fields' });
}

// ---------------------------------------------------------------------------------------------------------------
// Run events

export type RunEventBody =
  | { kind: 'run_started'; journeyVersionId: string; targetId: string; region: string; channel: string }
  | { kind: 'step_started'; stepIndex: number; stepKind: string; name: string }
  | { kind: 'step_finished'; stepIndex: number; stepKind: string; verdict: Verdict; durationMs: number; errorCode?: string; errorMessage?: string }
  | { kind: 'timing'; stepIndex: number; timing: LayerTiming }
  | { kind: 'transcript'; stepIndex: number; speaker: 'caller' | 'bot'; text: string; structured?: unknown }
  | { kind: 'assertion'; stepIndex: number; assertion: string; verdict: Verdict; expected: string; actual: string; message: string; /** What backs the verdict (e.g. an LLM judge's model, prompt hash and raw samples). */ evidence?: unknown }
  | { kind: 'artifact'; stepIndex: number; name: string; sha256: string; bytes: number; mediaType: string }
  | { kind: 'run_finished'; verdict: Verdict; durationMs: number; errorCode?: string; errorMessage?: string; stepsPassed: number; stepsFailed: number; /** The signed evidence record: a DSSE envelope as JSON text. */ evidenceDsse?: string };

export type RunEventKind = RunEventBody['kind'];

export interface RunEvent {
  runId: string;
  attempt: number;
  seq: number;
  atMs: number;
  probeId: string;
  body: RunEventBody;
}

export function runEventToWire(e: RunEvent): WireRunEvent {
  const head = { runId: e.runId, attempt: e.attempt, seq: e.seq, atMs: e.atMs, probeId: e.probeId };
  const b = e.body;
  switch (b.kind) {
    case 'run_started':
      return { ...head, runStarted: { journeyVersionId: b.journeyVersionId, targetId: b.targetId, region: b.region, channel: b.channel } };
    case 'step_started':
      return { ...head, stepStarted: { stepIndex: b.stepIndex, kind: b.stepKind, name: b.name } };
    case 'step_finished':
      return { ...head, stepFinished: { stepIndex: b.stepIndex, kind: b.stepKind, verdict: verdictToWire(b.verdict), durationMs: Math.round(b.durationMs), errorCode: b.errorCode ?? '', errorMessage: b.errorMessage ?? '' } };
    case 'timing':
      return { ...head, timing: timingToWire(b.stepIndex, b.timing) };
    case 'transcript':
      return { ...head, transcript: { stepIndex: b.stepIndex, speaker: b.speaker, text: b.text, structuredJson: b.structured === undefined ? '' : JSON.stringify(b.structured) } };
    case 'assertion':
      return { ...head, assertion: { stepIndex: b.stepIndex, assertion: b.assertion, verdict: verdictToWire(b.verdict), expected: b.expected, actual: b.actual, message: b.message, evidenceJson: b.evidence === undefined ? '' : JSON.stringify(b.evidence) } };
    case 'artifact':
      return { ...head, artifact: { stepIndex: b.stepIndex, name: b.name, sha256: b.sha256, bytes: b.bytes, mediaType: b.mediaType } };
    case 'run_finished':
      return { ...head, runFinished: { verdict: verdictToWire(b.verdict), durationMs: Math.round(b.durationMs), errorCode: b.errorCode ?? '', errorMessage: b.errorMessage ?? '', stepsPassed: b.stepsPassed, stepsFailed: b.stepsFailed, evidenceDsseJson: b.evidenceDsse ?? '' } };
  }
}

function invalid(field: string, message: string): VigilError {
  return new VigilError('VIGIL_E_RUN_EVENT_INVALID', message, { field, fix: 'send events built by @vigil/contract runEventToWire' });
}

function wireVerdict(v: string | number | undefined, field: string): Verdict {
  const out = verdictFromWire(v);
  if (!out) throw invalid(field, `${field} must be a verdict, got ${String(v)}`);
  return out;
}

/** Decodes and checks a wire event; throws VIGIL_E_RUN_EVENT_INVALID naming the field at fault. */
export function runEventFromWire(w: WireRunEventOut): RunEvent {
  if (!w.runId) throw invalid('run_id', 'run event has no run_id');
  if (!(w.seq >= 1)) throw invalid('seq', 'run event seq must be >= 1');
  if (!(w.attempt >= 1)) throw invalid('attempt', 'run event attempt must be >= 1');
  const head = { runId: w.runId, attempt: w.attempt, seq: w.seq, atMs: w.atMs, probeId: w.probeId };
  const opt = (s: string) => (s === '' ? undefined : s);
  switch (w.body) {
    case 'runStarted': {
      const b = w.runStarted!;
      return { ...head, body: { kind: 'run_started', journeyVersionId: b.journeyVersionId, targetId: b.targetId, region: b.region, channel: b.channel } };
    }
    case 'stepStarted': {
      const b = w.stepStarted!;
      return { ...head, body: { kind: 'step_started', stepIndex: b.stepIndex, stepKind: b.kind, name: b.name } };
    }
    case 'stepFinished': {
      const b = w.stepFinished!;
      return { ...head, body: { kind: 'step_finished', stepIndex: b.stepIndex, stepKind: b.kind, verdict: wireVerdict(b.verdict, 'step_finished.verdict'), durationMs: b.durationMs, errorCode: opt(b.errorCode), errorMessage: opt(b.errorMessage) } };
    }
    case 'timing': {
      const b = w.timing!;
      return { ...head, body: { kind: 'timing', stepIndex: b.stepIndex, timing: timingFromWire(b) } };
    }
    case 'transcript': {
      const b = w.transcript!;
      if (b.speaker !== 'caller' && b.speaker !== 'bot') throw invalid('transcript.speaker', 'transcript speaker must be "caller" or "bot"');
      let structured: unknown;
      if (b.structuredJson) {
        try { structured = JSON.parse(b.structuredJson); } catch { throw invalid('transcript.structured_json', 'transcript structured_json is not JSON'); }
      }
      return { ...head, body: { kind: 'transcript', stepIndex: b.stepIndex, speaker: b.speaker, text: b.text, structured } };
    }
    case 'assertion': {
      const b = w.assertion!;
      let evidence: unknown;
      if (b.evidenceJson) {
        try { evidence = JSON.parse(b.evidenceJson); } catch { throw invalid('assertion.evidence_json', 'assertion evidence_json is not JSON'); }
      }
      return { ...head, body: { kind: 'assertion', stepIndex: b.stepIndex, assertion: b.assertion, verdict: wireVerdict(b.verdict, 'assertion.verdict'), expected: b.expected, actual: b.actual, message: b.message, ...(evidence === undefined ? {} : { evidence }) } };
    }
    case 'artifact': {
      const b = w.artifact!;
      if (!/^[0-9a-f]{64}$/.test(b.sha256)) throw invalid('artifact.sha256', 'artifact sha256 must be 64 lowercase hex digits');
      return { ...head, body: { kind: 'artifact', stepIndex: b.stepIndex, name: b.name, sha256: b.sha256, bytes: b.bytes, mediaType: b.mediaType } };
    }
    case 'runFinished': {
      const b = w.runFinished!;
      return { ...head, body: { kind: 'run_finished', verdict: wireVerdict(b.verdict, 'run_finished.verdict'), durationMs: b.durationMs, errorCode: opt(b.errorCode), errorMessage: opt(b.errorMessage), stepsPassed: b.stepsPassed, stepsFailed: b.stepsFailed, ...(b.evidenceDsseJson ? { evidenceDsse: b.evidenceDsseJson } : {}) } };
    }
    default:
      throw invalid('body', 'run event has no body');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Run requests (JetStream payload) and targets

/** Channel kinds a target can have. */
export const CHANNELS = ['chat.openai', 'chat.http', 'chat.websocket', 'voice.sip'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * A target as the probe receives it. `credentialsRef` names where the probe finds the secret
 * (`env:NAME`); the secret itself never travels through the plane or NATS.
 */
export interface TargetSpec {
  id: string;
  name: string;
  channel: Channel;
  endpoint: string;
  credentialsRef?: string;
  /** Channel-specific settings; see @vigil/chat for each channel's fields. */
  config: Record<string, unknown>;
}

export interface RunRequest {
  runId: string;
  region: string;
  journeyId: string;
  journeyVersionId: string;
  /** The parsed journey (JourneyV1 from @vigil/journey). */
  journey: unknown;
  target: TargetSpec;
  scheduledAtMs: number;
  notBeforeMs: number;
  /** The journey's version number (journeyVersionId is its content hash). */
  journeyVersion?: number;
  scheduleId?: string | null;
}

/** NATS subjects, versioned and hierarchical. */
export const SUBJECTS = {
  runs: (region: string) => `vigil.v1.runs.${region}`,
  runsWildcard: 'vigil.v1.runs.>',
} as const;

/** A region is a DNS-label-like token so it can be a NATS subject token and a consumer name. */
export const REGION_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
