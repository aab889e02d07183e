/**
 * Target telemetry: what the target itself says happened in each caller turn — what its recogniser heard, the
 * intent it chose, and how long its ASR, LLM/dialogue and TTS layers took. A black-box probe measures the whole
 * turn; only the target can split it. With `config.telemetry.url` set on a target, the probe fetches it once the
 * session has ended and records each turn against the step that spoke it, so drift detection can say which layer
 * moved (ASR heard something else; the answer changed though what was heard did not; the LLM got slower).
 *
 * The format ("Vigil turn telemetry v1"), served by the target or by an adapter in front of its logs:
 *
 *   { "turns": [ { "heard": "what are the fees", "intent": "fees",
 *                  "asrMs": 212, "llmMs": 640, "llmFirstTokenMs": 310, "ttsMs": 95 } ] }
 *
 * Turns in the order the caller spoke them; every field optional; durations in ms (asrMs: end of the caller's
 * speech being endpointed → final transcript; llmMs: transcript → answer text; ttsMs: text → first audio byte).
 */
import { TARGET_TELEMETRY_SOURCE } from '@vigil/contract';
import { VigilError } from '@vigil/errors';
import { wordErrorRate } from '@vigil/speech';

export interface TargetTurn {
  heard?: string;
  intent?: string;
  asrMs?: number;
  llmMs?: number;
  llmFirstTokenMs?: number;
  ttsMs?: number;
}

const MAX_TURNS = 500;
const DURATIONS = ['asrMs', 'llmMs', 'llmFirstTokenMs', 'ttsMs'] as const;

/** Checks a telemetry document, naming the field at fault. */
export function parseTelemetry(v: unknown): TargetTurn[] {
  const bad = (field: string, message: string) => new VigilError('VIGIL_E_TELEMETRY_INVALID', message, { field, fix: 'serve {"turns": [{"heard": "...", "intent": "...", "asrMs": 0, "llmMs": 0, "ttsMs": 0}]} (every field optional)' });
  if (typeof v !== 'object' || v === null || !Array.isArray((v as { turns?: unknown }).turns)) throw bad('turns', 'telemetry must be an object with a turns array');
  const turns = (v as { turns: unknown[] }).turns;
  if (turns.length > MAX_TURNS) throw bad('turns', `telemetry lists ${turns.length} turns; at most ${MAX_TURNS}`);
  return turns.map((t, i) => {
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw bad(`turns[${i}]`, `turns[${i}] must be an object`);
    const o = t as Record<string, unknown>;
    const out: TargetTurn = {};
    for (const k of ['heard', 'intent'] as const) {
      if (o[k] === undefined || o[k] === null) continue;
      if (typeof o[k] !== 'string' || (o[k] as string).length > 10_000) throw bad(`turns[${i}].${k}`, `turns[${i}].${k} must be a string (at most 10,000 characters)`);
      out[k] = o[k] as string;
    }
    for (const k of DURATIONS) {
      if (o[k] === undefined || o[k] === null) continue;
      if (typeof o[k] !== 'number' || !Number.isFinite(o[k]) || (o[k] as number) < 0 || (o[k] as number) > 3_600_000) throw bad(`turns[${i}].${k}`, `turns[${i}].${k} must be a duration in ms (0..3600000)`);
      out[k] = o[k] as number;
    }
    return out;
  });
}

/** Fetches a target's telemetry for a run: `{{run.id}}` in the URL is filled; retried until `waitMs` has passed while it lists fewer turns than expected. */
export async function fetchTelemetry(o: { url: string; variables: Record<string, string>; expectTurns: number; waitMs: number; signal?: AbortSignal; fetch?: typeof fetch }): Promise<TargetTurn[]> {
  const url = o.url.replace(/\{\{\s*([a-z0-9_.]+)\s*\}\}/gi, (_m, name: string) => encodeURIComponent(o.variables[name] ?? ''));
  const f = o.fetch ?? fetch;
  const until = performance.now() + o.waitMs;
  for (;;) {
    let turns: TargetTurn[];
    try {
      const res = await f(url, { headers: { accept: 'application/json' }, signal: AbortSignal.any([AbortSignal.timeout(5_000), ...(o.signal ? [o.signal] : [])]) });
      if (!res.ok) throw new VigilError('VIGIL_E_TELEMETRY_UNAVAILABLE', `the target's telemetry answered HTTP ${res.status}`, { field: 'config.telemetry.url', fix: 'check the URL and that the target serves turn telemetry for this run' });
      turns = parseTelemetry(await res.json());
    } catch (e) {
      if (e instanceof VigilError && e.code === 'VIGIL_E_TELEMETRY_INVALID') throw e;
      if (performance.now() >= until || o.signal?.aborted) {
        throw e instanceof VigilError ? e : new VigilError('VIGIL_E_TELEMETRY_UNAVAILABLE', `the target's telemetry did not answer: ${(e as Error).message}`, { field: 'config.telemetry.url', fix: 'check the URL and that the probe can reach it' });
      }
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    if (turns.length >= o.expectTurns || performance.now() >= until) return turns;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What a turn's telemetry adds to the run: the target's layer timings, and what it heard against what was said. */
export function telemetryFacts(said: string | undefined, t: TargetTurn): { structured: Record<string, unknown>; timings: Array<{ layer: 'asr'; finalTranscriptMs: number } | { layer: 'llm'; timeToFirstTokenMs: number; totalMs: number } | { layer: 'tts'; timeToFirstByteMs: number }> } {
  const timings: ReturnType<typeof telemetryFacts>['timings'] = [];
  if (t.asrMs !== undefined) timings.push({ layer: 'asr', finalTranscriptMs: t.asrMs });
  if (t.llmMs !== undefined) timings.push({ layer: 'llm', timeToFirstTokenMs: t.llmFirstTokenMs ?? 0, totalMs: t.llmMs });
  if (t.ttsMs !== undefined) timings.push({ layer: 'tts', timeToFirstByteMs: t.ttsMs });
  const wer = said !== undefined && t.heard !== undefined ? wordErrorRate(said, t.heard).rate : undefined;
  return {
    structured: { source: TARGET_TELEMETRY_SOURCE, heard: t.heard ?? null, intent: t.intent ?? null, ...(wer !== undefined && Number.isFinite(wer) ? { wordErrorRate: Math.round(wer * 1000) / 1000 } : {}) },
    timings,
  };
}
