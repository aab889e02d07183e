/**
 * Runs one journey against one chat session and emits the run's events in order:
 * run_started, then per step step_started … step_finished (with transcripts, timings and assertions between),
 * then run_finished. The runner never throws for a failing target: failures become verdicts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { worstVerdict, type LayerTiming, type RunEventBody, type Verdict } from '@vigil/contract';
import { VigilError, toVigilError } from '@vigil/errors';
import { appliesTo, evaluateAssertion, type ChatReply } from './assertions.ts';
import type { JourneyV1, Step } from './format.ts';

export interface SendOptions {
  /** Aborted on step timeout or run cancellation; the driver must stop waiting when it fires. */
  signal: AbortSignal;
}

/**
 * One conversation with a target; a driver opens it per run and keeps the session state (history, ids, the
 * call). Voice sessions also listen without speaking, send digits and hang up.
 */
export interface ChatSession {
  send(text: string, opts: SendOptions): Promise<ChatReply>;
  /** Ends the session; may return timings known only at the end (e.g. a call's duration and quality). */
  close(): Promise<void | { timings?: LayerTiming[] }>;
  listen?(opts: SendOptions): Promise<ChatReply>;
  dtmf?(digits: string, opts: SendOptions): Promise<void>;
  hangup?(): Promise<void>;
  /** Voice: plays a recorded WAV as the caller's turn and waits for the answer, like `send`. */
  sendAudio?(wavFile: string, opts: SendOptions): Promise<ChatReply>;
  /** Voice: resolves once the far end has been silent for `ms`. */
  waitForSilence?(ms: number, opts: SendOptions): Promise<void>;
  /** Voice: speaks over the far end's next utterance `afterMs` into it; the reply carries bargeInStopMs. */
  bargeIn?(text: string, afterMs: number, opts: SendOptions): Promise<ChatReply>;
  /** Voice: hold for `ms` (re-INVITE sendonly), then resume. */
  hold?(ms: number, opts: SendOptions): Promise<void>;
  /** Voice: resolves with the Refer-To of the far end's transfer; with `follow`, the session moves to the new call. */
  expectTransfer?(follow: boolean, opts: SendOptions): Promise<{ referTo: string; followed: boolean }>;
  /** Voice: resolves when the far end hangs up. */
  expectHangup?(opts: SendOptions): Promise<void>;
  /** Timings measured while opening (e.g. SIP call setup), reported once at the start. */
  readonly openTimings?: LayerTiming[];
}

export type EmitFn = (body: RunEventBody) => void | Promise<void>;

export interface RunJourneyOptions {
  journey: JourneyV1;
  open: (signal: AbortSignal) => Promise<ChatSession>;
  emit: EmitFn;
  meta: { journeyVersionId: string; targetId: string; region: string; channel: string };
  /** Cancels the run (e.g. hard shutdown); the verdict is then `error` with VIGIL_E_SHUTTING_DOWN. */
  signal?: AbortSignal;
}

export interface RunSummary {
  verdict: Verdict;
  durationMs: number;
  stepsPassed: number;
  stepsFailed: number;
  errorCode?: string;
  errorMessage?: string;
}

function stepLabel(s: Step): string {
  if (s.name) return s.name;
  switch (s.kind) {
    case 'say': return `say ${JSON.stringify(s.text.length > 60 ? `${s.text.slice(0, 60)}…` : s.text)}`;
    case 'expect': return `expect ${s.assertions.length} assertion${s.assertions.length === 1 ? '' : 's'}`;
    case 'wait': return `wait ${s.ms} ms`;
    case 'listen': return 'listen';
    case 'dtmf': return `dtmf ${s.digits}`;
    case 'hangup': return 'hang up';
    case 'wait_for_silence': return `wait for ${s.ms} ms of silence`;
    case 'barge_in': return `barge in ${JSON.stringify(s.text.length > 60 ? `${s.text.slice(0, 60)}…` : s.text)}`;
    case 'hold': return `hold ${s.ms} ms`;
    case 'expect_transfer': return `expect transfer${s.to ? ` to ${s.to}` : ''}`;
    case 'expect_hangup': return 'expect the far end to hang up';
  }
}

async function withStepTimeout<T>(timeoutMs: number, outer: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
  try {
    return await fn(signal);
  } catch (e) {
    if (outer?.aborted) throw new VigilError('VIGIL_E_SHUTTING_DOWN', 'run cancelled', { cause: e });
    if (timeout.aborted) throw new VigilError('VIGIL_E_CHANNEL_TIMEOUT', `no reply within the step timeout of ${timeoutMs} ms`, { fix: 'raise settings.step_timeout_ms or look at the target\'s latency', cause: e });
    throw e;
  }
}

export async function runJourney(opts: RunJourneyOptions): Promise<RunSummary> {
  const { journey, emit, meta } = opts;
  const t0 = performance.now();
  await emit({ kind: 'run_started', ...meta });
  const verdicts: Verdict[] = [];
  let passed = 0;
  let failed = 0;
  let error: VigilError | undefined;
  let session: ChatSession | undefined;
  let lastReply: ChatReply | undefined;

  try {
    session = await withStepTimeout(journey.settings.stepTimeoutMs, opts.signal, (signal) => opts.open(signal));
    for (const t of session.openTimings ?? []) await emit({ kind: 'timing', stepIndex: 0, timing: t });
  } catch (e) {
    error = toVigilError(e);
  }

  const replied = async (i: number, reply: ChatReply) => {
    lastReply = reply;
    await emit({ kind: 'transcript', stepIndex: i, speaker: 'bot', text: reply.text, structured: reply.structured });
    const timings = reply.timings ?? [{ layer: 'chat_turn' as const, timeToFirstTokenMs: reply.timeToFirstTokenMs, timeToFullReplyMs: reply.timeToFullReplyMs, streamed: reply.streamed, replyChars: reply.text.length }];
    for (const t of timings) await emit({ kind: 'timing', stepIndex: i, timing: t });
    const verdicts: Verdict[] = [];
    for (const a of journey.assertions) {
      if (!appliesTo(a, reply)) continue;
      const r = evaluateAssertion(a, reply);
      verdicts.push(r.verdict);
      await emit({ kind: 'assertion', stepIndex: i, ...r });
    }
    return verdicts;
  };
  const unsupported = (kind: string) => new VigilError('VIGIL_E_CHANNEL_UNSUPPORTED', `this channel cannot ${kind}`, { field: 'steps', fix: `${kind} steps need a voice target` });

  for (let i = 0; session && !error && i < journey.steps.length; i++) {
    const step = journey.steps[i]!;
    const ts = performance.now();
    await emit({ kind: 'step_started', stepIndex: i, stepKind: step.kind, name: stepLabel(step) });
    const stepVerdicts: Verdict[] = [];
    let stepError: VigilError | undefined;
    try {
      switch (step.kind) {
        case 'say': {
          await emit({ kind: 'transcript', stepIndex: i, speaker: 'caller', text: step.text });
          const s = session;
          if (step.wav && !s.sendAudio) throw unsupported('play recorded audio');
          const reply = await withStepTimeout(journey.settings.stepTimeoutMs, opts.signal, (signal) => (step.wav ? s.sendAudio!(step.wav, { signal }) : s.send(step.text, { signal })));
          stepVerdicts.push(...(await replied(i, reply)));
          break;
        }
        case 'listen': {
          const s = session;
          if (!s.listen) throw unsupported('listen');
          const reply = await withStepTimeout(journey.settings.stepTimeoutMs, opts.signal, (signal) => s.listen!({ signal }));
          stepVerdicts.push(...(await replied(i, reply)));
          break;
        }
        case 'dtmf': {
          const s = session;
          if (!s.dtmf) throw unsupported('send DTMF');
          await emit({ kind: 'transcript', stepIndex: i, speaker: 'caller', text: `[DTMF ${step.digits}]` });
          await withStepTimeout(journey.settings.stepTimeoutMs, opts.signal, (signal) => s.dtmf!(step.digits, { signal }));
          break;
        }
        case 'hangup': {
          if (session.hangup) await session.hangup();
          break;
        }
        case 'wait_for_silence': {
          const s = session;
          if (!s.waitForSilence) throw unsupported('wait for silence');
          await withStepTimeout(journey.settings.stepTimeoutMs, opts.signal, (signal) => s.waitForSilence!(step.ms, { signal }));
          break;
        }
        case 'barge_in': {
          const s = session;
          if (!s.bargeIn) throw unsupported('barge in');
          await emit({ kind: 'transcript', stepIndex: i, speaker: 'caller', text: step.text });
          const reply = await withStepTimeout(journey.settings.stepTimeoutMs, opts.signal, (signal) => s.bargeIn!(step.text, step.afterMs, { signal }));
          stepVerdicts.push(...(await replied(i, reply)));
          break;
        }
        case 'hold': {
          const s = session;
          if (!s.hold) throw unsupported('hold');
          await withStepTimeout(journey.settings.stepTimeoutMs + step.ms, opts.signal, (signal) => s.hold!(step.ms, { signal }));
          break;
        }
        case 'expect_transfer': {
          const s = session;
          if (!s.expectTransfer) throw unsupported('expect a transfer');
          const t = await withStepTimeout(journey.settings.stepTimeoutMs, opts.signal, (signal) => s.expectTransfer!(step.follow, { signal }));
          const pass = step.to === undefined || t.referTo.includes(step.to);
          stepVerdicts.push(pass ? 'pass' : 'fail');
          await emit({ kind: 'assertion', stepIndex: i, assertion: `transfer${step.to ? ` to ${step.to}` : ''}`, verdict: pass ? 'pass' : 'fail', expected: step.to ?? 'any transfer', actual: t.referTo, message: pass ? 'ok' : `transferred to ${t.referTo}, not ${step.to}` });
          await emit({ kind: 'transcript', stepIndex: i, speaker: 'bot', text: `[TRANSFER ${t.referTo}${t.followed ? ', followed' : ''}]` });
          break;
        }
        case 'expect_hangup': {
          const s = session;
          if (!s.expectHangup) throw unsupported('expect a hangup');
          await withStepTimeout(journey.settings.stepTimeoutMs, opts.signal, (signal) => s.expectHangup!({ signal }));
          await emit({ kind: 'transcript', stepIndex: i, speaker: 'bot', text: '[HANGUP]' });
          break;
        }
        case 'expect': {
          for (const a of step.assertions) {
            const r = lastReply
              ? evaluateAssertion(a, lastReply)
              : { assertion: a.kind, verdict: 'error' as const, expected: '', actual: '', message: 'no reply to check: no say step has run' };
            stepVerdicts.push(r.verdict);
            await emit({ kind: 'assertion', stepIndex: i, ...r });
          }
          break;
        }
        case 'wait':
          await sleep(step.ms, undefined, opts.signal ? { signal: opts.signal } : undefined).catch((e) => {
            throw new VigilError('VIGIL_E_SHUTTING_DOWN', 'run cancelled', { cause: e });
          });
          break;
      }
    } catch (e) {
      stepError = toVigilError(e);
    }
    const verdict: Verdict = stepError ? 'error' : worstVerdict(stepVerdicts);
    verdicts.push(verdict);
    if (verdict === 'pass') passed++;
    else failed++;
    await emit({
      kind: 'step_finished', stepIndex: i, stepKind: step.kind, verdict, durationMs: performance.now() - ts,
      errorCode: stepError?.code, errorMessage: stepError?.message,
    });
    if (stepError) error = stepError;
    else if (verdict !== 'pass' && journey.settings.stopOnFailure) break;
  }

  if (session) {
    const closed = await session.close().catch(() => undefined);
    const lastStep = Math.max(0, Math.min(journey.steps.length - 1, verdicts.length - 1));
    for (const t of (closed && closed.timings) ?? []) await emit({ kind: 'timing', stepIndex: lastStep, timing: t });
  }
  const summary: RunSummary = {
    verdict: error ? 'error' : verdicts.length === 0 ? 'error' : worstVerdict(verdicts),
    durationMs: performance.now() - t0,
    stepsPassed: passed,
    stepsFailed: failed,
    errorCode: error?.code,
    errorMessage: error?.message,
  };
  await emit({ kind: 'run_finished', ...summary });
  return summary;
}
