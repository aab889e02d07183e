/**
 * The contact center's voice bot: listens (VAD endpointing on the audio it hears), recognises the caller with
 * pocketsphinx against the phrases it understands, decides with the reference bank dialogue, answers with
 * flite, and stops talking when the caller speaks over it (barge-in). Each layer's true time goes into the
 * call's ground truth: caller speech end as heard, endpoint, ASR final, dialogue decision, TTS ready, first
 * speech sample of the reply sent, barge-in detected, playback stopped.
 */
import { detectSpeech, lineSpeech, type PcmAudio } from '@vigil/media';
import { newState, respond } from '@vigil/refbot';
import type { IncomingCall } from '@vigil/sip';
import type { Synthesizer, Transcriber } from '@vigil/speech';

/** What callers say to the bot, as the recogniser's phrase set (a directed-dialogue grammar). */
export const BOT_PHRASES = [
  'what is my balance', 'i want to check my balance', 'i lost my card', 'my card was stolen', 'what are the fees',
  'i want to speak to an agent', 'agent please', 'goodbye', 'thank you goodbye', 'hello',
];
export const BOT_GREETING = 'Hello, this is the Vigil Bank assistant. How can I help you?';

export type BotTruthEvent =
  | { kind: 'caller_turn'; speechStartMs: number; speechEndMs: number; endpointMs: number; asrFinalMs: number; transcript: string; decisionMs: number; intent: string; ttsReadyMs: number }
  | { kind: 'bot_reply'; text: string; sentAtMs: number; speechStartMs: number | null; speechEndMs: number | null; cutAtMs: number | null; delayedMs: number }
  | { kind: 'barge_in'; callerOnsetMs: number; detectedMs: number; stoppedMs: number };

export interface BotOptions {
  tts: Synthesizer;
  asr: Transcriber;
  /** Silence that ends the caller's turn. @default 700 */
  endpointMs?: number;
  /** Extra ms before each reply (fault: LLM/dialogue latency). */
  replyDelayMs?: () => number;
  /** Extra ms added to recognition (fault: slow ASR). */
  asrDelayMs?: () => number;
  /** Extra ms added to synthesis (fault: slow TTS). */
  ttsDelayMs?: () => number;
  /** Fault: keep talking when the caller speaks. */
  ignoreBargeIn?: () => boolean;
  onEscalate: (call: IncomingCall) => Promise<void>;
  /** Fault: white noise this many dB below the caller's speech before recognition. */
  asrNoiseSnrDb?: () => number | undefined;
  /** Side effects of a turn (a CRM write); may change what the bot says. */
  afterTurn?: (turn: { intent: string; text: string }, transcript: string) => Promise<{ intent: string; text: string }>;
  record: (e: BotTruthEvent) => void;
}

const wallMs = () => performance.timeOrigin + performance.now();

/**
 * The greeting is a static prompt: rendered once per synthesizer and sample rate, as production bots pre-render
 * theirs, so the first audio a caller hears does not wait on a TTS process (and on how busy the host is). Replies
 * are still synthesized per turn. A failed rendering is not kept.
 */
const staticPrompts = new WeakMap<Synthesizer, Map<string, Promise<PcmAudio>>>();
/** Renders the greeting ahead of the first call (the contact center does this at start, for 8 kHz lines). */
export async function prerenderGreeting(tts: Synthesizer, sampleRate: number): Promise<void> {
  await staticPrompt(tts, BOT_GREETING, sampleRate);
}
function staticPrompt(tts: Synthesizer, text: string, sampleRate: number): Promise<PcmAudio> {
  let byKey = staticPrompts.get(tts);
  if (!byKey) staticPrompts.set(tts, (byKey = new Map()));
  const key = `${sampleRate}:${text}`;
  let audio = byKey.get(key);
  if (!audio) {
    audio = tts.synthesize(text, { sampleRate });
    byKey.set(key, audio);
    audio.catch(() => byKey.delete(key));
  }
  return audio;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Speech heard on the call after local time `fromMs`, as local-time segments. */
function heardSince(call: IncomingCall, fromMs: number, hangoverMs: number): Array<{ startMs: number; endMs: number; from: number; to: number }> {
  const heard = call.media.heard;
  const pcm = heard.pcm;
  if (pcm.length === 0) return [];
  const rate = call.media.codec.sampleRate;
  const t0 = heard.sampleToLocalMs(0);
  const from = Math.max(0, Math.floor(((fromMs - t0) * rate) / 1000));
  return detectSpeech(pcm.subarray(from), rate, { hangoverMs, minSpeechMs: 80 }).map((g) => ({
    startMs: t0 + ((from + g.startSample) * 1000) / rate, endMs: t0 + ((from + g.endSample) * 1000) / rate, from: from + g.startSample, to: from + g.endSample,
  }));
}

/** Adds white noise `snrDb` below the signal's RMS, in place (a seeded generator: the same audio degrades the same way). */
export function addNoise(samples: Int16Array, snrDb: number): void {
  let sum = 0;
  for (const v of samples) sum += v * v;
  const rms = Math.sqrt(sum / Math.max(1, samples.length));
  const noiseRms = rms / 10 ** (snrDb / 20);
  let seed = 12345;
  const uniform = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  for (let i = 0; i < samples.length; i++) {
    // Box–Muller: Gaussian noise of the wanted RMS.
    const g = Math.sqrt(-2 * Math.log(uniform() || 1e-12)) * Math.cos(2 * Math.PI * uniform());
    samples[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i]! + g * noiseRms)));
  }
}

export function runBot(call: IncomingCall, o: BotOptions): void {
  const endpointMs = o.endpointMs ?? 700;
  let live = true;
  void call.ended.then(() => { live = false; });
  const state = newState();
  let cursorMs = call.answeredAtMs;

  /** Plays a reply, watching for the caller barging in. Returns when done or cut. */
  const speak = async (text: string, audio: PcmAudio, delayedMs: number): Promise<void> => {
    const segs = lineSpeech(audio, call.media.codec.name);
    const ev: Extract<BotTruthEvent, { kind: 'bot_reply' }> = { kind: 'bot_reply', text, sentAtMs: 0, speechStartMs: null, speechEndMs: null, cutAtMs: null, delayedMs };
    o.record(ev);
    const startedAt = wallMs();
    const playing = call.media.play(audio.samples);
    let done = false;
    void playing.then(() => { done = true; });
    const ignoring = o.ignoreBargeIn?.() === true;
    // Barge-in: caller speech (≥ 80 ms) heard while the reply plays stops it. Ignoring it (a fault), the bot
    // talks on but still hears what was said over it, and answers that afterwards.
    while (!done && live) {
      await sleep(10);
      if (ignoring) continue;
      const seg = heardSince(call, startedAt, 200)[0];
      if (seg) {
        const detectedMs = wallMs();
        const stoppedMs = call.media.cancelPlayback() ?? detectedMs;
        o.record({ kind: 'barge_in', callerOnsetMs: seg.startMs, detectedMs, stoppedMs });
        cursorMs = seg.startMs - 1;
        break;
      }
    }
    const played = await playing;
    ev.sentAtMs = played.startMs;
    if (played.endMs - played.startMs < (audio.samples.length * 1000) / audio.sampleRate - 1) ev.cutAtMs = played.endMs;
    const first = segs[0];
    const last = segs.at(-1);
    if (first && played.startMs + first.startMs < played.endMs) ev.speechStartMs = played.startMs + first.startMs;
    if (last) ev.speechEndMs = Math.min(played.startMs + last.endMs, played.endMs);
    if (ev.cutAtMs === null) cursorMs = ignoring ? Math.max(cursorMs, startedAt) : Math.max(cursorMs, played.endMs);
  };

  void (async () => {
    await speak(BOT_GREETING, await staticPrompt(o.tts, BOT_GREETING, call.media.codec.sampleRate), 0);
    while (live) {
      // Endpointing: the caller's turn ends after endpointMs of silence.
      const seg = heardSince(call, cursorMs, endpointMs)[0];
      if (!seg || wallMs() - seg.endMs < endpointMs) { await sleep(20); continue; }
      const endpoint = wallMs();
      cursorMs = seg.endMs;
      const rate = call.media.codec.sampleRate;
      const samples = call.media.heard.pcm.slice(seg.from, seg.to);
      const snr = o.asrNoiseSnrDb?.();
      if (snr !== undefined) addNoise(samples, snr);
      const heard = await o.asr.transcribe({ sampleRate: rate, channels: 1, samples }, { phrases: BOT_PHRASES });
      const asrExtra = o.asrDelayMs?.() ?? 0;
      if (asrExtra > 0) await sleep(asrExtra);
      const asrFinal = wallMs();
      const transcript = heard.matchedPhrase ?? heard.text;
      const turn = o.afterTurn ? await o.afterTurn(respond(state, transcript), transcript) : respond(state, transcript);
      // The dialogue/LLM latency fault sits in that layer: the answer takes longer to decide.
      const delayedMs = o.replyDelayMs?.() ?? 0;
      if (delayedMs > 0) await sleep(delayedMs);
      const decision = wallMs();
      const audio = await o.tts.synthesize(turn.text, { sampleRate: rate });
      const ttsExtra = o.ttsDelayMs?.() ?? 0;
      if (ttsExtra > 0) await sleep(ttsExtra);
      const ttsReady = wallMs();
      o.record({ kind: 'caller_turn', speechStartMs: seg.startMs, speechEndMs: seg.endMs, endpointMs: endpoint, asrFinalMs: asrFinal, transcript, decisionMs: decision, intent: turn.intent, ttsReadyMs: ttsReady });
      if (!live) return;
      await speak(turn.text, audio, delayedMs);
      if (turn.intent === 'escalate') { await o.onEscalate(call); return; }
      if (turn.intent === 'goodbye') { await sleep(300); await call.hangup(); return; }
    }
  })();
}
