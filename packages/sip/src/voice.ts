/**
 * The voice.sip channel driver: a journey's session is one SIP call. `say` speaks (TTS) and waits for the
 * far end's answer; `listen` waits for its next utterance; an utterance ends after `silenceMs` of silence and is
 * transcribed (with the journey's expected phrases as the phrase set). Timings: call_setup at the start;
 * voice_turn per reply (turn latency from our last speech sample, or time to first audio for a greeting).
 */
import { resolveCredential } from '@vigil/chat';
import type { LayerTiming, TargetSpec } from '@vigil/contract';
import { VigilError } from '@vigil/errors';
import type { ChatReply, ChatSession, SendOptions, SessionArtifact } from '@vigil/journey';
import { CallRecorder, detectSpeech, lineSpeech, measureTurns, readWav, resample, type PcmAudio } from '@vigil/media';
import { EspeakSynthesizer, FliteSynthesizer, PocketsphinxTranscriber, type Synthesizer, type Transcriber } from '@vigil/speech';
import { readFile } from 'node:fs/promises';
import { SipAgent, type Call, type SipTransportName } from './caller.ts';
import { parseDialTarget } from './dial-guard.ts';

export interface VoiceTargetConfig {
  /** host:port (udp/tcp/tls) or a ws:// / wss:// URL. */
  server?: string;
  transport?: SipTransportName;
  tlsCaFile?: string;
  tlsServerName?: string;
  /** REGISTER before calling. */
  register?: boolean;
  domain?: string;
  /** RFC 4028 session interval to ask for. */
  sessionExpiresS?: number;
  srtp?: 'off' | 'optional' | 'required';
  codecs?: string[];
  allowlist?: string[];
  headers?: Record<string, string>;
  tts?: 'flite' | 'espeak-ng';
  asr?: 'pocketsphinx';
  /** Silence that ends the far end's utterance. @default 1200 */
  silenceMs?: number;
  /** Digest user name; the password comes from the target's credentialsRef, resolved on the probe. */
  authUsername?: string;
}

export interface VoiceOpenContext { runId: string; sessionId: string; signal: AbortSignal; env?: NodeJS.ProcessEnv; phrases?: string[] }

const wallMs = () => performance.timeOrigin + performance.now();
/** Settles with `p`, or rejects when the step's signal aborts; leaves no timer behind. */
function orAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v); }, (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); });
  });
}
const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); }, { once: true });
});

class SipVoiceSession implements ChatSession {
  readonly openTimings: LayerTiming[];
  readonly #agent: SipAgent;
  #call: Call;
  readonly #tts: Synthesizer;
  readonly #asr: Transcriber;
  readonly #silenceMs: number;
  readonly #phrases: string[] | undefined;
  #answerAtMs: number;
  #inviteAtMs: number;
  /** Local time up to which the far end's audio has been consumed. */
  #cursorMs: number;
  #lastCallerEndMs: number | null = null;
  #firstReply = true;
  #closed = false;
  #endedRemotely = false;
  /** What the caller said on the current leg (local start time, samples), for the recording. */
  #spoken: Array<{ startMs: number; pcm: Int16Array }> = [];
  /** Recordings of legs already left (a followed transfer). */
  readonly #legs: SessionArtifact[] = [];

  readonly #sessionId: string;

  variables(): Record<string, string> { return { 'session.id': this.#sessionId, 'call.id': this.#call.callId }; }

  constructor(agent: SipAgent, call: Call, cfg: VoiceTargetConfig, phrases: string[] | undefined, answerAtMs: number, sessionId: string) {
    this.#sessionId = sessionId;
    this.#agent = agent;
    this.#call = call;
    this.#tts = cfg.tts === 'espeak-ng' ? new EspeakSynthesizer() : new FliteSynthesizer();
    this.#asr = new PocketsphinxTranscriber();
    this.#silenceMs = cfg.silenceMs ?? 1200;
    this.#phrases = phrases?.length ? phrases : undefined;
    const s = call.setup;
    this.#answerAtMs = answerAtMs;
    this.#inviteAtMs = s.inviteAtMs ?? answerAtMs;
    // With early media the greeting may start before the answer: listen from the INVITE on.
    this.#cursorMs = s.earlyMedia ? this.#inviteAtMs : answerAtMs;
    void call.ended.then((by) => { if (by === 'remote' && this.#call === call) this.#endedRemotely = true; });
    this.openTimings = [{ layer: 'call_setup', postDialDelayMs: s.postDialDelayMs ?? 0, answerMs: s.answerMs ?? 0, setupMs: s.setupMs ?? 0, finalStatus: s.finalStatus ?? 0, earlyMedia: s.earlyMedia }];
  }

  /** The far end's next utterance after the cursor, once followed by silenceMs of silence. */
  async #nextUtterance(signal: SendOptions['signal']): Promise<{ audio: PcmAudio; startMs: number; endMs: number }> {
    const media = this.#call.media;
    const rate = media.codec.sampleRate;
    for (;;) {
      const pcm = media.heard.pcm;
      if (pcm.length > 0) {
        const t0 = media.heard.sampleToLocalMs(0);
        const from = Math.max(0, Math.floor(((this.#cursorMs - t0) * rate) / 1000));
        const segs = detectSpeech(pcm.subarray(from), rate, { hangoverMs: this.#silenceMs });
        const seg = segs[0];
        if (seg) {
          const startMs = t0 + ((from + seg.startSample) * 1000) / rate;
          const endMs = t0 + ((from + seg.endSample) * 1000) / rate;
          if (wallMs() - endMs >= this.#silenceMs) {
            this.#cursorMs = endMs;
            return { audio: { sampleRate: rate, channels: 1, samples: pcm.slice(from + seg.startSample, from + seg.endSample) }, startMs, endMs };
          }
        }
      }
      if (this.#remoteHungUp) throw new VigilError('VIGIL_E_CHANNEL_PROTOCOL', 'the far end hung up while we were listening', { fix: 'look at the IVR flow at this step' });
      await sleep(100, signal);
    }
  }

  async #reply(signal: SendOptions['signal']): Promise<ChatReply> {
    const u = await this.#nextUtterance(signal);
    const t0 = performance.now();
    const heard = await this.#asr.transcribe(u.audio, { phrases: this.#phrases, signal });
    const asrMs = performance.now() - t0;
    const text = heard.matchedPhrase ?? heard.text;
    const turns = measureTurns({
      answerMs: this.#answerAtMs,
      caller: this.#lastCallerEndMs === null ? [] : [{ startMs: this.#lastCallerEndMs - 1, endMs: this.#lastCallerEndMs }],
      bot: [{ startMs: u.startMs, endMs: u.endMs }],
    });
    const turnLatencyMs = turns.turns[0]?.turnLatencyMs ?? 0;
    // After the answer; for early media (audio before the answer) from the INVITE instead.
    const timeToFirstAudioMs = this.#firstReply ? u.startMs - (u.startMs >= this.#answerAtMs ? this.#answerAtMs : this.#inviteAtMs) : 0;
    this.#firstReply = false;
    const waitedFrom = this.#lastCallerEndMs ?? this.#answerAtMs;
    return {
      // transfers: REFER targets so far, for `jsonpath: { path: "$.transfers[0]", contains: "agent" }`.
      // probeAsrMs: the probe's own transcription time (measuring cost, not the target's ASR layer: that comes
      // from the target's telemetry when it reports one).
      text, structured: { transcript: heard.text, matchedPhrase: heard.matchedPhrase ?? null, engine: heard.engine, utteranceMs: u.endMs - u.startMs, probeAsrMs: Math.round(asrMs), transfers: this.#call.transfers.map((t) => t.referTo) },
      timeToFirstTokenMs: Math.max(0, u.startMs - waitedFrom), timeToFullReplyMs: Math.max(0, u.endMs - waitedFrom), streamed: false,
      timings: [
        { layer: 'voice_turn', turnLatencyMs, timeToFirstAudioMs, bargeInStopMs: 0 },
      ],
    };
  }

  async send(text: string, { signal }: SendOptions): Promise<ChatReply> {
    const audio = await this.#tts.synthesize(text, { sampleRate: this.#call.media.codec.sampleRate, signal });
    return this.#speak(audio, signal);
  }

  async sendAudio(wavFile: string, { signal }: SendOptions): Promise<ChatReply> {
    let wav: PcmAudio;
    try { wav = readWav(await readFile(wavFile)); } catch (e) {
      throw new VigilError('VIGIL_E_JOURNEY_INVALID', `cannot play say.wav ${wavFile}: ${(e as Error).message}`, { field: 'say.wav', fix: 'put a 16-bit PCM WAV file at that path on the probe host' });
    }
    const rate = this.#call.media.codec.sampleRate;
    const mono = wav.channels === 1 ? wav.samples : Int16Array.from({ length: Math.floor(wav.samples.length / wav.channels) }, (_, i) => wav.samples[i * wav.channels]!);
    return this.#speak({ sampleRate: rate, channels: 1, samples: wav.sampleRate === rate ? mono : resample(mono, wav.sampleRate, rate) }, signal);
  }

  async #speak(audio: PcmAudio, signal: AbortSignal): Promise<ChatReply> {
    const speech = lineSpeech(audio, this.#call.media.codec.name);
    const played = await this.#play(audio.samples);
    this.#lastCallerEndMs = played.startMs + (speech.at(-1)?.endMs ?? (audio.samples.length * 1000) / audio.sampleRate);
    this.#cursorMs = Math.max(this.#cursorMs, this.#lastCallerEndMs);
    return this.#reply(signal);
  }

  listen({ signal }: SendOptions): Promise<ChatReply> {
    return this.#reply(signal);
  }

  async dtmf(digits: string, { signal }: SendOptions): Promise<void> {
    await orAbort(this.#call.media.sendDigits(digits), signal);
    if (this.#remoteHungUp) throw new VigilError('VIGIL_E_CHANNEL_PROTOCOL', 'the far end hung up while we sent digits', { fix: 'look at the IVR flow at this step' });
    // The caller's input ends with the last digit's end packets (not the pause we keep after it).
    this.#lastCallerEndMs = this.#call.media.lastDigitSentAtMs ?? wallMs();
    this.#cursorMs = Math.max(this.#cursorMs, this.#lastCallerEndMs);
  }

  async hangup(): Promise<void> {
    await this.#call.hangup();
  }

  /** Speech segments heard after local time `fromMs`, with local start/end times. */
  #heardSince(fromMs: number, hangoverMs: number): Array<{ startMs: number; endMs: number }> {
    const media = this.#call.media;
    const pcm = media.heard.pcm;
    if (pcm.length === 0) return [];
    const rate = media.codec.sampleRate;
    const t0 = media.heard.sampleToLocalMs(0);
    const from = Math.max(0, Math.floor(((fromMs - t0) * rate) / 1000));
    return detectSpeech(pcm.subarray(from), rate, { hangoverMs }).map((g) => ({ startMs: t0 + ((from + g.startSample) * 1000) / rate, endMs: t0 + ((from + g.endSample) * 1000) / rate }));
  }

  async waitForSilence(ms: number, { signal }: SendOptions): Promise<void> {
    for (;;) {
      const last = this.#heardSince(this.#cursorMs, Math.min(ms, 300)).at(-1);
      const quietSince = Math.max(this.#cursorMs, last?.endMs ?? this.#cursorMs);
      const now = wallMs();
      if (now - quietSince >= ms) { this.#cursorMs = now; return; }
      if (this.#remoteHungUp) throw new VigilError('VIGIL_E_CHANNEL_PROTOCOL', 'the far end hung up while we waited for silence', { fix: 'look at the IVR flow at this step' });
      await sleep(Math.min(100, ms - (now - quietSince)), signal);
    }
  }

  async bargeIn(text: string, afterMs: number, { signal }: SendOptions): Promise<ChatReply> {
    const audio = await this.#tts.synthesize(text, { sampleRate: this.#call.media.codec.sampleRate, signal });
    const speech = lineSpeech(audio, this.#call.media.codec.name);
    // Wait for the far end to start talking, then `afterMs` into it.
    let onset: number | undefined;
    while (onset === undefined) {
      onset = this.#heardSince(this.#cursorMs, 300)[0]?.startMs;
      if (onset === undefined) {
        if (this.#remoteHungUp) throw new VigilError('VIGIL_E_CHANNEL_PROTOCOL', 'the far end hung up before it spoke', { fix: 'look at the IVR flow at this step' });
        await sleep(20, signal);
      }
    }
    const wait = onset + afterMs - wallMs();
    if (wait > 0) await sleep(wait, signal);
    const played = await this.#play(audio.samples);
    const bargeAtMs = played.startMs + (speech[0]?.startMs ?? 0);
    this.#lastCallerEndMs = played.startMs + (speech.at(-1)?.endMs ?? (audio.samples.length * 1000) / audio.sampleRate);
    // When did the far end stop? The end of the speech it was making when we barged in (300 ms of silence
    // closes it), waited for until it has been silent that long.
    let stopMs: number | null = null;
    for (;;) {
      const seg = this.#heardSince(onset - 1, 300).find((g) => g.endMs >= bargeAtMs);
      if (seg && wallMs() - seg.endMs >= 300) { stopMs = seg.endMs; break; }
      if (!seg && wallMs() - bargeAtMs >= 300) { stopMs = bargeAtMs; break; } // it had already stopped
      if (this.#remoteHungUp) break;
      await sleep(50, signal);
    }
    this.#cursorMs = Math.max(stopMs ?? wallMs(), this.#lastCallerEndMs);
    const reply = await this.#reply(signal);
    const bargeInStopMs = stopMs === null ? null : Math.max(0, stopMs - bargeAtMs);
    return {
      ...reply, bargeInStopMs,
      structured: { ...(reply.structured as object), bargeInStopMs },
      timings: reply.timings?.map((t) => (t.layer === 'voice_turn' ? { ...t, bargeInStopMs: bargeInStopMs ?? 0 } : t)),
    };
  }

  async #play(pcm: Int16Array): Promise<{ startMs: number; endMs: number }> {
    const played = await this.#call.media.play(pcm);
    this.#spoken.push({ startMs: played.startMs, pcm });
    return played;
  }

  /** The current leg as a stereo WAV (caller left, far end right, from the INVITE on) and its timeline. */
  #recordLeg(leg: number): SessionArtifact[] {
    const media = this.#call.media;
    const rec = new CallRecorder(media.codec.sampleRate);
    const t0 = this.#inviteAtMs;
    const heard = media.heard.pcm;
    if (heard.length > 0) rec.bot(Math.max(0, media.heard.sampleToLocalMs(0) - t0), heard);
    for (const s of this.#spoken) rec.caller(Math.max(0, s.startMs - t0), s.pcm);
    rec.event(0, 'invite', { callId: this.#call.callId });
    rec.event(Math.max(0, this.#answerAtMs - t0), 'answer');
    const out = rec.finish(leg === 0 ? 'call' : `call-leg${leg + 1}`);
    this.#spoken = [];
    return [
      { name: out.artifacts[0]!.name, mediaType: 'audio/wav', retention: 'recording', data: out.wav },
      { name: out.artifacts[1]!.name, mediaType: 'application/json', retention: 'recording', data: out.timeline },
    ];
  }

  describe(): { codec?: string; versions?: Record<string, string> } {
    const agent = this.#call.setup.farEndAgent;
    return { codec: this.#call.media.codec.name, versions: agent ? { 'sip.server': agent } : {} };
  }

  async hold(ms: number, { signal }: SendOptions): Promise<void> {
    await this.#call.hold(true);
    try { await sleep(ms, signal); } finally { await this.#call.hold(false); }
    this.#cursorMs = wallMs();
  }

  async expectTransfer(follow: boolean, { signal }: SendOptions): Promise<{ referTo: string; followed: boolean }> {
    const t = await orAbort(this.#call.transferred, signal);
    if (!follow) return { referTo: t.referTo, followed: false };
    const next = await this.#call.followTransfer(t, { timeoutMs: 30_000 });
    this.#legs.push(...this.#recordLeg(this.#legs.length / 2));
    // The journey goes on with the transfer target: its greeting counts from its answer.
    this.#call = next;
    this.#endedRemotely = false;
    void next.ended.then((by) => { if (by === 'remote' && this.#call === next) this.#endedRemotely = true; });
    const s = next.setup;
    this.#answerAtMs = s.inviteAtMs !== null && s.answerMs !== null ? s.inviteAtMs + s.answerMs : wallMs();
    this.#inviteAtMs = s.inviteAtMs ?? this.#answerAtMs;
    this.#cursorMs = s.earlyMedia ? this.#inviteAtMs : this.#answerAtMs;
    this.#lastCallerEndMs = null;
    this.#firstReply = true;
    return { referTo: t.referTo, followed: true };
  }

  async expectHangup({ signal }: SendOptions): Promise<void> {
    await orAbort(this.#call.ended, signal);
  }

  get #remoteHungUp(): boolean { return this.#call.media.byeReceived || this.#endedRemotely; }

  async close(): Promise<{ timings: LayerTiming[]; artifacts: SessionArtifact[] } | undefined> {
    if (this.#closed) return undefined;
    this.#closed = true;
    const call = this.#call;
    await call.hangup().catch(() => undefined);
    const q = call.media.quality();
    const srtp = call.media.srtp;
    await call.media.close().catch(() => undefined);
    await this.#agent.stop().catch(() => undefined);
    const artifacts = [...this.#legs, ...this.#recordLeg(this.#legs.length / 2)];
    const endedBy = this.#endedRemotely ? 'remote' as const : 'local' as const;
    return {
      timings: [{
        layer: 'call_end', durationMs: Math.max(0, (call.endedAtMs ?? wallMs()) - this.#answerAtMs), endedBy,
        lossPercent: q.lossPercent, jitterMs: q.jitterMs, rttMs: q.rttMs ?? 0, mos: q.mos, packetsReceived: q.packetsReceived, srtpSuite: srtp?.suite ?? '',
      }],
      artifacts,
    };
  }
}

export const sipVoiceDriver = {
  channel: 'voice.sip' as const,
  async open(target: TargetSpec, ctx: VoiceOpenContext): Promise<ChatSession> {
    const cfg = target.config as VoiceTargetConfig;
    const dial = parseDialTarget(target.endpoint);
    const password = cfg.authUsername ? await resolveCredential(target.credentialsRef, ctx.env) : undefined;
    let ca: string | undefined;
    if (cfg.tlsCaFile) {
      try { ca = await readFile(cfg.tlsCaFile, 'utf8'); } catch (e) {
        throw new VigilError('VIGIL_E_CONFIG_INVALID', `cannot read config.tlsCaFile ${cfg.tlsCaFile}: ${(e as Error).message}`, { field: 'config.tlsCaFile', fix: 'put the PEM file on the probe host at that path' });
      }
    }
    const agent = await SipAgent.start({
      ...(cfg.authUsername && password ? { auth: { username: cfg.authUsername, password } } : {}),
      // No outbound proxy: requests go where their Request-URI points (a transfer to another host works).
      server: cfg.server ?? `${dial.host}:${dial.port}`, direct: !cfg.server && (cfg.transport ?? 'udp') === 'udp', transport: cfg.transport ?? 'udp', codecs: cfg.codecs, headers: { 'X-Vigil-Run': ctx.runId, ...(cfg.headers ?? {}) },
      allowlist: cfg.allowlist ?? [dial.uri],
      ...(ca || cfg.tlsServerName ? { tls: { ...(ca ? { ca } : {}), ...(cfg.tlsServerName ? { servername: cfg.tlsServerName } : {}) } } : {}),
      ...(cfg.domain ? { domain: cfg.domain } : {}),
      ...(cfg.sessionExpiresS ? { sessionExpiresS: cfg.sessionExpiresS } : {}),
      ...(cfg.srtp ? { srtp: cfg.srtp } : {}),
    }).catch((e: unknown) => {
      throw e instanceof VigilError ? e : new VigilError('VIGIL_E_CHANNEL_UNREACHABLE', `cannot reach ${cfg.server ?? dial.host}: ${(e as Error).message}`, { fix: 'check config.server, config.transport and the TLS settings' });
    });
    try {
      if (cfg.register) await agent.register();
      const call = await agent.call(target.endpoint, { timeoutMs: 30_000 });
      const answerAt = call.setup.inviteAtMs !== null && call.setup.answerMs !== null ? call.setup.inviteAtMs + call.setup.answerMs : wallMs();
      return new SipVoiceSession(agent, call, cfg, ctx.phrases, answerAt, ctx.sessionId);
    } catch (e) {
      await agent.stop().catch(() => undefined);
      throw e;
    }
  },
};
