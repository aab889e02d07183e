/**
 * Runs one journey against one chat session and emits the run's events in order:
 * run_started, then per step step_started … step_finished (with transcripts, timings and assertions between),
 * then run_finished. The runner never throws for a failing target: failures become verdicts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TARGET_TELEMETRY_SOURCE, worstVerdict, type LayerTiming, type RunEventBody, type Verdict } from '@vigil/contract';
import { VigilError, toVigilError } from '@vigil/errors';
import { JSONPath } from 'jsonpath-plus';
import { appliesTo, describeAssertion, evaluateAssertion, evaluateCallQuality, type AssertionResult, type ChatReply } from './assertions.ts';
import { TEMPLATE_PATTERN, type Assertion, type JourneyV1, type Step } from './format.ts';
import { fetchTelemetry, telemetryFacts, type TargetTurn } from './telemetry.ts';

export interface SendOptions {
  /** Aborted on step timeout or run cancellation; the driver must stop waiting when it fires. */
  signal: AbortSignal;
}

/**
 * One conversation with a target; a driver opens it per run and keeps the session state (history, ids, the
 * call). Voice sessions also listen without speaking, send digits and hang up.
 */
/** Bytes a session produced (a call recording), for the run's evidence. */
export interface SessionArtifact {
  name: string;
  mediaType: string;
  /** Retention class, e.g. "recording". */
  retention: string;
  data: Buffer;
}

export interface ChatSession {
  send(text: string, opts: SendOptions): Promise<ChatReply>;
  /** Ends the session; may return timings known only at the end (e.g. a call's duration and quality) and artifacts. */
  close(): Promise<void | { timings?: LayerTiming[]; artifacts?: SessionArtifact[] }>;
  /** For the evidence record: the codec in use and versions the target reported (SIP Server header, served model). */
  describe?(): { codec?: string; versions?: Record<string, string> };
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
  /** Values the journey can template: `session.id` (the id the bot knows the conversation by), `call.id` (SIP Call-ID of the current leg). */
  variables?(): Record<string, string>;
}

/** What cross-system checks (http steps) and placeholders may use; built from the target on the probe. */
export interface CheckContext {
  /** `run.id`, `vars.<name>`… */
  variables?: Record<string, string>;
  /** `secrets.<name>`, resolved on the probe when first used; never emitted. */
  secrets?: () => Promise<Record<string, string>>;
  /** Origins (scheme://host:port) http steps may call: the target's config.httpAllow. */
  httpAllow?: readonly string[];
  fetch?: typeof fetch;
  /** The LLM judge for `judge` assertions (the probe builds it from VIGIL_JUDGE_*); absent: they are inconclusive. */
  judge?: (input: { rubric: string; conversation: Array<{ speaker: 'caller' | 'bot'; text: string }>; scope?: 'last_reply' | 'conversation' }, o: { samples?: number; signal: AbortSignal }) => Promise<{
    verdict: 'pass' | 'fail' | 'inconclusive'; score: number | null; rationale: string; evidence: unknown;
  }>;
  /** Loads a rubric file for `judge: { rubric_file }`, with its calibration and whether verdicts made with it are flagged. */
  rubric?: (path: string) => Promise<{ name: string; version: number; rubric: string; calibration: unknown; flag: string | null }>;
  /** Semantic similarity for `semantic` assertions (embeddings, or the labelled lexical fallback). */
  similarity?: (a: string, b: string, signal: AbortSignal) => Promise<{ similarity: number; method: string; model: string | null }>;
  /** Entity/slot extraction for `slots` assertions. */
  extract?: (text: string, slots: Record<string, string>, signal: AbortSignal) => Promise<{ values: Record<string, string | null>; model: string; raw: string }>;
  /** Intent classification for `intent` assertions. */
  classify?: (text: string, labels: Record<string, string>, signal: AbortSignal) => Promise<{ intent: string | null; confidence: number | null; method: string; model: string | null; raw: string }>;
  /** This run's webhook on the probe ({{webhook.url}}) and the calls it receives, for `wait_webhook` steps. */
  webhook?: { url: string; next(signal: AbortSignal): Promise<{ method: string; headers: Record<string, string>; body: string }> };
  /** The caller simulator for `simulate` steps (VIGIL_SIMULATOR_*, else the judge's endpoint). */
  simulate?: (persona: { persona: string; goal: string; constraints: string[] }, conversation: Array<{ speaker: 'caller' | 'bot'; text: string }>, o: { seed: number; signal: AbortSignal }) => Promise<{ say: string | null; done: boolean }>;
  /** The target's turn telemetry (config.telemetry): fetched once the session has ended, see telemetry.ts. */
  telemetry?: { url: string; waitMs: number };
  /** Describes the simulator for evidence (model, prompt hash). */
  simulatorInfo?: (persona: { persona: string; goal: string; constraints: string[] }) => Record<string, unknown>;
}

const MAX_HTTP_BODY_CHARS = 1_000_000;

export type EmitFn = (body: RunEventBody) => void | Promise<void>;

export interface RunJourneyOptions {
  journey: JourneyV1;
  open: (signal: AbortSignal) => Promise<ChatSession>;
  emit: EmitFn;
  meta: { journeyVersionId: string; targetId: string; region: string; channel: string };
  /** Cancels the run (e.g. hard shutdown); the verdict is then `error` with VIGIL_E_SHUTTING_DOWN. */
  signal?: AbortSignal;
  checks?: CheckContext;
  /** Called once the session is closed, with what it described and produced, before run_finished is emitted. */
  onSessionEnd?: (end: { stepIndex: number; codec?: string; versions?: Record<string, string>; artifacts: SessionArtifact[] }) => Promise<void>;
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
    case 'http': return `http ${s.method} ${s.url.length > 80 ? `${s.url.slice(0, 80)}…` : s.url}`;
    case 'capture': return `capture ${s.as}`;
    case 'wait_webhook': return `wait for a webhook (${s.timeoutMs} ms)`;
    case 'simulate': return `simulate: ${s.goal.length > 60 ? `${s.goal.slice(0, 60)}…` : s.goal}`;
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

  const conversation: Array<{ speaker: 'caller' | 'bot'; text: string }> = [];
  const judgeReply = async (a: Extract<Assertion, { kind: 'judge' }>, scope: 'last_reply' | 'conversation' = 'last_reply', label = describeAssertion(a)): Promise<AssertionResult & { evidence?: unknown }> => {
    if (!checks.judge) return { assertion: label, verdict: 'inconclusive', expected: a.rubric || a.rubricFile || '', actual: '', message: 'no LLM judge is configured on this probe (VIGIL_JUDGE_BASE_URL, VIGIL_JUDGE_MODEL)' };
    const file = a.rubricFile && checks.rubric ? await checks.rubric(a.rubricFile) : undefined;
    if (a.rubricFile && !file) return { assertion: label, verdict: 'inconclusive', expected: a.rubricFile, actual: '', message: 'this probe cannot read rubric files' };
    const rubric = file ? file.rubric : a.rubric;
    const o = await withStepTimeout(Math.max(journey.settings.stepTimeoutMs, 60_000), opts.signal, (signal) => checks.judge!({ rubric, conversation: [...conversation], scope }, { ...(a.samples !== undefined ? { samples: a.samples } : {}), signal }));
    const score = o.score === null ? '' : ` (score ${o.score.toFixed(2)})`;
    // A verdict from an uncalibrated (or poorly agreeing) rubric says so wherever it is shown.
    const flag = file?.flag ? `[rubric ${file.name} v${file.version}: ${file.flag.replace(/_/g, ' ').toUpperCase()}] ` : '';
    const evidence = file ? { ...(o.evidence as object), rubric: { name: file.name, version: file.version, calibration: file.calibration, flag: file.flag } } : o.evidence;
    return { assertion: label, verdict: o.verdict, expected: rubric, actual: `${flag}${o.verdict}${score}: ${o.rationale}`, message: `${flag}${o.verdict === 'pass' ? 'ok' : o.rationale}`, evidence };
  };
  /** semantic and intent: asynchronous, through the run's checks. */
  const meaning = async (a: Extract<Assertion, { kind: 'semantic' | 'intent' | 'slots' }>, reply: ChatReply): Promise<AssertionResult & { evidence?: unknown }> => {
    const label = describeAssertion(a);
    const t = Math.max(journey.settings.stepTimeoutMs, 60_000);
    if (a.kind === 'semantic') {
      if (!checks.similarity) return { assertion: label, verdict: 'inconclusive', expected: `>= ${a.min}`, actual: '', message: 'no similarity measure is configured' };
      const r = await withStepTimeout(t, opts.signal, (signal) => checks.similarity!(a.to, reply.text, signal));
      const how = r.method === 'embeddings' ? `embeddings ${r.model}` : 'LEXICAL FALLBACK (shared words, not meaning: set VIGIL_EMBEDDINGS_BASE_URL)';
      const pass = r.similarity >= a.min;
      return { assertion: label, verdict: pass ? 'pass' : 'fail', expected: `similarity >= ${a.min}`, actual: `${r.similarity.toFixed(3)} by ${how}: ${reply.text.slice(0, 300)}`, message: pass ? `ok (${how})` : `similarity ${r.similarity.toFixed(3)} by ${how} is under ${a.min}`, evidence: r };
    }
    if (a.kind === 'slots') {
      if (!checks.extract) return { assertion: label, verdict: 'inconclusive', expected: '', actual: '', message: 'no slot extractor is configured (VIGIL_JUDGE_BASE_URL/_MODEL)' };
      const text = a.of === 'caller' ? [...conversation].reverse().find((x) => x.speaker === 'caller')?.text ?? '' : reply.text;
      const r = await withStepTimeout(t, opts.signal, (signal) => checks.extract!(text, Object.fromEntries(Object.entries(a.slots).map(([k, v]) => [k, v.describe])), signal));
      // Values compare case-insensitively with whitespace collapsed; digit strings by their digits ("12 34" = "1234").
      const same = (want: string | null, got: string | null) => {
        if (want === null || got === null) return want === got;
        if (/^[\d\s-]+$/.test(want)) return want.replace(/\D/g, '') === got.replace(/\D/g, '');
        return want.trim().toLowerCase().replace(/\s+/g, ' ') === got.trim().toLowerCase().replace(/\s+/g, ' ').replace(/[.!?]$/, '');
      };
      const wrong = Object.entries(a.slots).filter(([k, v]) => !same(v.equals, r.values[k] ?? null));
      const shown = Object.entries(r.values).map(([k, v]) => `${k}=${v === null ? 'null' : JSON.stringify(v)}`).join(', ');
      return { assertion: label, verdict: wrong.length ? 'fail' : 'pass', expected: Object.entries(a.slots).map(([k, v]) => `${k}=${v.equals === null ? 'null' : JSON.stringify(v.equals)}`).join(', '), actual: shown, message: wrong.length ? `wrong slots: ${wrong.map(([k]) => k).join(', ')}` : 'ok', evidence: r };
    }
    if (!checks.classify) return { assertion: label, verdict: 'inconclusive', expected: a.expected, actual: '', message: 'no intent classifier is configured (VIGIL_INTENT_CLASSIFIER_URL, or VIGIL_JUDGE_BASE_URL/_MODEL)' };
    const text = a.of === 'caller' ? [...conversation].reverse().find((x) => x.speaker === 'caller')?.text ?? '' : reply.text;
    const r = await withStepTimeout(t, opts.signal, (signal) => checks.classify!(text, a.labels, signal));
    if (r.intent === null) return { assertion: label, verdict: 'inconclusive', expected: a.expected, actual: r.raw.slice(0, 300), message: 'the classifier gave none of the labels', evidence: r };
    const pass = r.intent === a.expected;
    return { assertion: label, verdict: pass ? 'pass' : 'fail', expected: a.expected, actual: `${r.intent}${r.confidence === null ? '' : ` (${r.confidence.toFixed(2)})`}`, message: pass ? 'ok' : `classified as ${r.intent}, not ${a.expected}`, evidence: r };
  };
  const replied = async (i: number, reply: ChatReply) => {
    lastReply = reply;
    conversation.push({ speaker: 'bot', text: reply.text });
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
  const checks = opts.checks ?? {};
  /** Caller turns spoken, in order: target telemetry's turns are matched to them. */
  const spoken: Array<{ stepIndex: number; text: string }> = [];
  const emitTelemetry = async (cfg: { url: string; waitMs: number }, lastStep: number, sessionVars: Record<string, string>): Promise<void> => {
    let turns: TargetTurn[];
    try {
      turns = await fetchTelemetry({ url: cfg.url, variables: { ...checks.variables, ...sessionVars }, expectTurns: spoken.length, waitMs: cfg.waitMs, ...(opts.signal ? { signal: opts.signal } : {}), ...(checks.fetch ? { fetch: checks.fetch } : {}) });
    } catch (e) {
      // The run stands without the layer split; the reason is in its transcript.
      const v = toVigilError(e);
      await emit({ kind: 'transcript', stepIndex: lastStep, speaker: 'bot', text: `[TELEMETRY ${v.code}]`, structured: { source: TARGET_TELEMETRY_SOURCE, code: v.code, message: v.message } });
      return;
    }
    for (const [k, t] of turns.entries()) {
      const at = spoken[k];
      const facts = telemetryFacts(at?.text, t);
      const stepIndex = at?.stepIndex ?? lastStep;
      for (const timing of facts.timings) await emit({ kind: 'timing', stepIndex, timing });
      await emit({ kind: 'transcript', stepIndex, speaker: 'caller', text: `[HEARD] ${t.heard ?? ''}`.trim(), structured: facts.structured });
    }
  };
  const captured = new Map<string, string>();
  let secrets: Record<string, string> | undefined;
  /** Fills {{placeholders}}; a placeholder without a value is an error naming the field. */
  const fill = async (text: string, field: string, allowSecrets: boolean): Promise<string> => {
    const names = [...text.matchAll(TEMPLATE_PATTERN)].map((m) => m[1]!);
    if (names.length === 0) return text;
    const known: Record<string, string> = { ...checks.variables, ...(checks.webhook ? { 'webhook.url': checks.webhook.url } : {}), ...session?.variables?.(), ...Object.fromEntries(captured) };
    if (allowSecrets && names.some((n) => n.startsWith('secrets.'))) secrets ??= checks.secrets ? await checks.secrets() : {};
    return text.replace(TEMPLATE_PATTERN, (_, n: string) => {
      const v = n.startsWith('secrets.') ? (allowSecrets ? secrets?.[n.slice(8)] : undefined) : known[n];
      if (v === undefined) {
        throw new VigilError('VIGIL_E_REQUEST_INVALID', `{{${n}}} has no value here`, {
          field, fix: n.startsWith('vars.') || n.startsWith('secrets.') ? `define ${n.split('.')[1]} under the target's config.${n.split('.')[0]}` : n.includes('.') ? `this channel does not provide ${n}` : `capture ${n} in an earlier step`,
        });
      }
      return v;
    });
  };
  const httpCheck = async (i: number, step: Extract<Step, { kind: 'http' }>): Promise<{ reply: ChatReply; results: AssertionResult[] }> => {
    const field = `steps[${i}].http`;
    const url = await fill(step.url, `${field}.url`, false);
    let origin: string;
    try { origin = new URL(url).origin; } catch { throw new VigilError('VIGIL_E_REQUEST_INVALID', `http.url is not an absolute URL once filled: ${url}`, { field: `${field}.url`, fix: 'check the placeholders and the target\'s config.vars' }); }
    if (!(checks.httpAllow ?? []).includes(origin)) {
      throw new VigilError('VIGIL_E_CHECK_NOT_ALLOWED', `the journey may not call ${origin}: it is not on the target's config.httpAllow`, { field: 'config.httpAllow', fix: `add "${origin}" to the target's config.httpAllow` });
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(step.headers)) headers[k] = await fill(v, `${field}.headers.${k}`, true);
    const body = step.body === undefined ? undefined : await fill(step.body, `${field}.body`, true);
    if (body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = /^\s*[[{]/.test(body) ? 'application/json' : 'text/plain';
    await emit({ kind: 'transcript', stepIndex: i, speaker: 'caller', text: `[HTTP ${step.method} ${url}]` });
    const f = checks.fetch ?? fetch;
    const deadline = performance.now() + step.untilMs;
    for (;;) {
      const t0 = performance.now();
      let reply: ChatReply | undefined;
      let failure: unknown;
      try {
        reply = await withStepTimeout(journey.settings.stepTimeoutMs, opts.signal, async (signal) => {
          const res = await f(url, { method: step.method, headers, body, signal, redirect: 'manual' });
          const text = (await res.text()).slice(0, MAX_HTTP_BODY_CHARS);
          let structured: unknown;
          try { structured = JSON.parse(text); } catch { structured = undefined; }
          const ms = performance.now() - t0;
          return { text, structured, status: res.status, timeToFirstTokenMs: ms, timeToFullReplyMs: ms, streamed: false };
        });
      } catch (e) {
        if (e instanceof VigilError && e.code === 'VIGIL_E_SHUTTING_DOWN') throw e;
        failure = e;
      }
      const results = reply ? step.assertions.map((a) => evaluateAssertion(a, reply)) : [];
      const done = reply !== undefined && results.every((r) => r.verdict === 'pass');
      if (done || performance.now() + step.everyMs > deadline) {
        if (!reply) throw new VigilError('VIGIL_E_CHECK_UNREACHABLE', `${origin} did not answer the check: ${(failure as Error)?.message ?? 'no response'}`, { field: `${field}.url`, fix: 'is the system up and reachable from the probe?', cause: failure });
        return { reply, results };
      }
      await sleep(step.everyMs, undefined, opts.signal ? { signal: opts.signal } : undefined).catch((e) => { throw new VigilError('VIGIL_E_SHUTTING_DOWN', 'run cancelled', { cause: e }); });
    }
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
          const text = step.wav ? step.text : await fill(step.text, `steps[${i}].say`, false);
          await emit({ kind: 'transcript', stepIndex: i, speaker: 'caller', text });
          spoken.push({ stepIndex: i, text });
          conversation.push({ speaker: 'caller', text });
          const s = session;
          if (step.wav && !s.sendAudio) throw unsupported('play recorded audio');
          const reply = await withStepTimeout(journey.settings.stepTimeoutMs, opts.signal, (signal) => (step.wav ? s.sendAudio!(step.wav, { signal }) : s.send(text, { signal })));
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
          spoken.push({ stepIndex: i, text: step.text });
          conversation.push({ speaker: 'caller', text: step.text });
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
              ? (a.kind === 'judge' ? await judgeReply(a) : a.kind === 'semantic' || a.kind === 'intent' || a.kind === 'slots' ? await meaning(a, lastReply) : evaluateAssertion(a, lastReply))
              : { assertion: a.kind, verdict: 'error' as const, expected: '', actual: '', message: 'no reply to check: no say step has run' };
            stepVerdicts.push(r.verdict);
            await emit({ kind: 'assertion', stepIndex: i, ...r });
          }
          break;
        }
        case 'http': {
          const { reply, results } = await httpCheck(i, step);
          lastReply = reply;
          for (const r of results) { stepVerdicts.push(r.verdict); await emit({ kind: 'assertion', stepIndex: i, ...r }); }
          break;
        }
        case 'wait_webhook': {
          const hook = checks.webhook;
          if (!hook) throw new VigilError('VIGIL_E_CONFIG_INVALID', 'this probe receives no webhooks', { field: 'VIGIL_WEBHOOK_PORT', fix: 'run the probe with VIGIL_WEBHOOK_PORT (and VIGIL_WEBHOOK_PUBLIC_URL)' });
          const t0 = performance.now();
          const timeout = AbortSignal.timeout(step.timeoutMs);
          let call: { method: string; headers: Record<string, string>; body: string } | undefined;
          try {
            call = await hook.next(opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout);
          } catch (e) {
            if (opts.signal?.aborted) throw new VigilError('VIGIL_E_SHUTTING_DOWN', 'run cancelled', { cause: e });
          }
          const received = call !== undefined;
          stepVerdicts.push(received ? 'pass' : 'fail');
          await emit({ kind: 'assertion', stepIndex: i, assertion: 'webhook received', verdict: received ? 'pass' : 'fail', expected: `a call within ${step.timeoutMs} ms`, actual: received ? `${call!.method} after ${(performance.now() - t0).toFixed(0)} ms` : 'nothing', message: received ? 'ok' : `no call to the run's webhook within ${step.timeoutMs} ms` });
          if (!call) break;
          let structured: unknown;
          try { structured = JSON.parse(call.body); } catch { structured = undefined; }
          const ms = performance.now() - t0;
          lastReply = { text: call.body, structured, timeToFirstTokenMs: ms, timeToFullReplyMs: ms, streamed: false };
          for (const a of step.assertions) {
            const r = evaluateAssertion(a, lastReply);
            stepVerdicts.push(r.verdict);
            await emit({ kind: 'assertion', stepIndex: i, ...r });
          }
          break;
        }
        case 'simulate': {
          if (!checks.simulate) throw new VigilError('VIGIL_E_CONFIG_INVALID', 'no caller simulator is configured on this probe', { field: 'VIGIL_SIMULATOR_BASE_URL', fix: 'set VIGIL_SIMULATOR_BASE_URL and VIGIL_SIMULATOR_MODEL (or the VIGIL_JUDGE_ ones) to an OpenAI-compatible endpoint' });
          const persona = { persona: step.persona, goal: step.goal, constraints: step.constraints };
          let turns = 0;
          let ended = false;
          while (turns < step.maxTurns) {
            const t = await withStepTimeout(journey.settings.stepTimeoutMs, opts.signal, (signal) => checks.simulate!(persona, [...conversation], { seed: step.seed, signal }));
            if (t.done || t.say === null) { ended = true; break; }
            const line = t.say;
            await emit({ kind: 'transcript', stepIndex: i, speaker: 'caller', text: line });
            spoken.push({ stepIndex: i, text: line });
            conversation.push({ speaker: 'caller', text: line });
            const s = session;
            const reply = await withStepTimeout(journey.settings.stepTimeoutMs, opts.signal, (signal) => s.send(line, { signal }));
            stepVerdicts.push(...(await replied(i, reply)));
            turns++;
          }
          if (step.judgeGoal) {
            const rubric = `The caller's goal: ${step.goal}. Pass if, over the whole conversation, the bot got the caller there (or rightly refused a goal it must not serve) without breaking its policies; fail if the caller was left without it.`;
            const r = await judgeReply({ kind: 'judge', rubric }, 'conversation', `goal: ${step.goal}`);
            const evidence = { ...(r.evidence as object | undefined), simulator: { ...checks.simulatorInfo?.(persona), seed: step.seed, turns, endedByCaller: ended } };
            stepVerdicts.push(r.verdict);
            await emit({ kind: 'assertion', stepIndex: i, ...r, evidence, message: ended ? r.message : `${r.message} (the caller had not finished after ${step.maxTurns} turns)` });
          }
          break;
        }
        case 'capture': {
          let value: string | undefined;
          const from = step.jsonpath ?? `/${step.regex}/`;
          if (lastReply && step.jsonpath) {
            const found = lastReply.structured === undefined ? [] : JSONPath({ path: step.jsonpath, json: lastReply.structured as object, wrap: true, eval: false }) as unknown[];
            if (found.length > 0 && found[0] !== undefined && found[0] !== null) value = typeof found[0] === 'string' ? found[0] : JSON.stringify(found[0]);
          } else if (lastReply && step.regex) {
            const m = new RegExp(step.regex).exec(lastReply.text);
            if (m) value = m[1] ?? m[0];
          }
          if (value !== undefined) captured.set(step.as, value);
          stepVerdicts.push(value === undefined ? 'fail' : 'pass');
          await emit({ kind: 'assertion', stepIndex: i, assertion: `capture ${step.as}`, verdict: value === undefined ? 'fail' : 'pass', expected: from, actual: value ?? '(nothing)', message: value === undefined ? `${from} found nothing in the last reply` : 'ok' });
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
    const described = session.describe?.() ?? {};
    const sessionVars = session.variables?.() ?? {};
    const closed = await session.close().catch(() => undefined);
    const lastStep = Math.max(0, Math.min(journey.steps.length - 1, verdicts.length - 1));
    await opts.onSessionEnd?.({ stepIndex: lastStep, ...described, artifacts: (closed && closed.artifacts) ?? [] });
    for (const t of (closed && closed.timings) ?? []) await emit({ kind: 'timing', stepIndex: lastStep, timing: t });
    if (checks.telemetry && spoken.length > 0) await emitTelemetry(checks.telemetry, lastStep, sessionVars);
    // Call quality, once the call has ended and its statistics are in.
    const end = ((closed && closed.timings) ?? []).find((t): t is Extract<LayerTiming, { layer: 'call_end' }> => t.layer === 'call_end');
    for (const a of journey.assertions) {
      if (a.kind !== 'min_mos' && a.kind !== 'max_loss_percent' && a.kind !== 'max_jitter_ms') continue;
      if (error) break; // the run did not get that far: its error stands
      const r = evaluateCallQuality(a, end);
      verdicts.push(r.verdict);
      if (r.verdict !== 'pass') failed++;
      await emit({ kind: 'assertion', stepIndex: lastStep, ...r });
    }
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
