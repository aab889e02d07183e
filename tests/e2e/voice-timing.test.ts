/**
 * The instrument's accuracy, with the truth stated:
 *  - VAD: onsets of bursts with exact, known starts in noise; and on real recorded speech (Asterisk prompts)
 *    placed with known silences, after G.711 and noise, against the same prompt measured alone and clean.
 *  - Turn latency and barge-in stop latency on synthetic calls: the bot answers 300, 700 and 1,500 ms after the
 *    caller's last speech sample (or stops S ms after a barge-in), its RTP crosses a network with 40 ms base
 *    delay, 0–30 ms jitter and 2 % loss, the probe rebuilds the stream on its media clock and measures. Truth is
 *    known by construction; the tolerance is ±5 ms at p95. Simulated time: not a timed test.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TrackAssembler, decodeUlaw, detectSpeech, encodeUlaw, measureTurns, percentile, readWav } from '@vigil/media';

const SOUNDS = '/usr/share/asterisk/sounds/en';
const HAVE_SOUNDS = existsSync(`${SOUNDS}/agent-pass.wav`);
const RATE = 8000;
const ms = (samples: number) => (samples * 1000) / RATE;

function rng(seed: number) { let s = seed >>> 0; return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; }; }
function noise(n: number, dbfs: number, r: () => number): Int16Array {
  const amp = 32767 * 10 ** (dbfs / 20) * Math.sqrt(3);
  return Int16Array.from({ length: n }, () => Math.round((r() * 2 - 1) * amp));
}
function mixInto(dst: Int16Array, src: Int16Array, at: number): void {
  for (let i = 0; i < src.length && at + i < dst.length; i++) dst[at + i] = Math.max(-32768, Math.min(32767, dst[at + i]! + src[i]!));
}
const prompt = (name: string) => readWav(readFileSync(`${SOUNDS}/${name}.wav`), name).samples;
/** A prompt's own onset and offset, measured alone and clean. */
const alone = (pcm: Int16Array) => { const s = detectSpeech(pcm, RATE); return { on: s[0]!.startSample, off: s.at(-1)!.endSample }; };

describe('VAD accuracy', () => {
  it('finds abrupt onsets and offsets within 1 ms in -60 dBFS noise', () => {
    const r = rng(7);
    const stream = noise(RATE * 10, -60, r);
    const truth: Array<[number, number]> = [];
    let at = 4000;
    for (const [lenMs, gapMs] of [[400, 700], [900, 300 + 50], [250, 1500], [1200, 600]]) {
      const n = (lenMs * RATE) / 1000;
      const burst = Int16Array.from({ length: n }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / RATE) * (0.6 + 0.4 * Math.sin((2 * Math.PI * 3 * i) / RATE))));
      burst[0] = 8000; // start on a peak so the first sample is unambiguous
      mixInto(stream, burst, at);
      truth.push([at, at + n]);
      at += n + (gapMs * RATE) / 1000;
    }
    const segs = detectSpeech(stream, RATE);
    expect(segs).toHaveLength(truth.length);
    segs.forEach((s, i) => {
      expect(Math.abs(ms(s.startSample - truth[i]![0]))).toBeLessThanOrEqual(1);
      expect(Math.abs(ms(s.endSample - truth[i]![1]))).toBeLessThanOrEqual(1);
    });
  });

  it.skipIf(!HAVE_SOUNDS)('places real speech onsets within ±5 ms after G.711 and noise, with silences of known length', () => {
    const names = ['agent-pass', 'activated', 'agent-loggedoff', 'all-circuits-busy-now', 'agent-newlocation', 'agent-loginok'];
    const gapsMs = [400, 800, 1500, 600, 1000];
    const r = rng(11);
    const clips = names.map(prompt);
    const total = clips.reduce((n, c) => n + c.length, 0) + gapsMs.reduce((n, g) => n + (g * RATE) / 1000, 0) + RATE;
    const stream = noise(total, -65, r);
    const truth: number[] = [];
    let at = RATE / 2;
    clips.forEach((c, i) => {
      mixInto(stream, c, at);
      truth.push(at + alone(c).on);
      at += c.length + ((gapsMs[i] ?? 0) * RATE) / 1000;
    });
    const heard = decodeUlaw(encodeUlaw(stream));
    const onsets = detectSpeech(heard, RATE).map((s) => s.startSample);
    for (const t of truth) {
      const nearest = onsets.reduce((b, o) => (Math.abs(o - t) < Math.abs(b - t) ? o : b), Infinity);
      expect(Math.abs(ms(nearest - t)), `onset at ${ms(t)} ms`).toBeLessThanOrEqual(5);
    }
  });
});

interface Net { baseMs: number; jitterMs: number; loss: number; r: () => number }

/** Sends `pcm` (the bot's whole track, from local time t0) as 20 ms G.711 packets over the simulated network. */
function deliver(pcm: Int16Array, t0Ms: number, net: Net): TrackAssembler {
  const asm = new TrackAssembler(RATE);
  const ts0 = Math.floor(net.r() * 2 ** 31);
  for (let seq = 0, pos = 0; pos < pcm.length; seq++, pos += 160) {
    if (net.r() < net.loss) continue;
    const frame = new Int16Array(160);
    frame.set(pcm.subarray(pos, pos + 160));
    const arrival = t0Ms + ms(pos) + net.baseMs + net.r() * net.jitterMs;
    asm.push({ marker: seq === 0, payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: (ts0 + pos) >>> 0, ssrc: 42, payload: new Uint8Array() }, decodeUlaw(encodeUlaw(frame)), arrival);
  }
  return asm;
}

describe.skipIf(!HAVE_SOUNDS)('turn timing on synthetic calls (jitter 0–30 ms, 2 % loss)', () => {
  const callerLine = prompt('agent-loginok');
  const botReply = prompt('agent-pass');
  const caller = alone(callerLine);
  const reply = alone(botReply);

  it('measures turn latency within ±5 ms of the truth at p95, for 300, 700 and 1,500 ms bots', () => {
    const errors: number[] = [];
    let i = 0;
    for (const delay of [300, 700, 1500]) {
      for (let trial = 0; trial < 40; trial++, i++) {
        const r = rng(1000 + i);
        const net: Net = { baseMs: 40, jitterMs: 30, loss: 0.02, r };
        // The probe answers at t=0 and starts speaking 500 ms later; its last speech sample is known exactly.
        const callerStart = 500;
        const callerEndMs = callerStart + ms(caller.off);
        // The bot hears the caller net.baseMs later, thinks `delay`, and its first speech sample leaves then.
        const botSpeechSendMs = callerEndMs + net.baseMs + delay;
        const botTrack = noise(Math.round(((botSpeechSendMs + 3000) * RATE) / 1000), -65, r); // the bot's stream starts at t=0 (comfort noise)
        mixInto(botTrack, botReply, Math.round((botSpeechSendMs * RATE) / 1000) - reply.on);
        const asm = deliver(botTrack, 0, net);
        const bot = detectSpeech(asm.pcm, RATE).map((s) => ({ startMs: asm.sampleToLocalMs(s.startSample), endMs: asm.sampleToLocalMs(s.endSample) }));
        const t = measureTurns({ answerMs: 0, caller: [{ startMs: callerStart + ms(caller.on), endMs: callerEndMs }], bot });
        const truth = net.baseMs + delay + net.baseMs; // up the line, think, down the line
        expect(t.turns).toHaveLength(1);
        errors.push(t.turns[0]!.turnLatencyMs - truth);
      }
    }
    const abs = errors.map(Math.abs);
    console.log(`turn latency error over ${errors.length} calls: p50 ${percentile(abs, 50).toFixed(2)} ms, p95 ${percentile(abs, 95).toFixed(2)} ms, max ${Math.max(...abs).toFixed(2)} ms`);
    expect(percentile(abs, 95)).toBeLessThanOrEqual(5);
  });

  it('measures barge-in stop latency within ±5 ms at p95, and whether the bot resumed', () => {
    const errors: number[] = [];
    let i = 0;
    for (const stopMs of [150, 400, 900]) {
      for (let trial = 0; trial < 40; trial++, i++) {
        const r = rng(5000 + i);
        const net: Net = { baseMs: 40, jitterMs: 30, loss: 0.02, r };
        const botStartSend = 1000;
        const bargeAfterMs = 800; // the caller starts talking 800 ms into the bot's speech (as heard)
        const callerStartMs = botStartSend + net.baseMs + bargeAfterMs;
        // The bot hears the barge-in net.baseMs later and goes silent `stopMs` after that: its speech is cut there.
        const cutSendMs = callerStartMs + net.baseMs + stopMs;
        const speech = botReply.subarray(reply.on, reply.on + Math.round(((cutSendMs - botStartSend) * RATE) / 1000));
        const resumes = trial % 2 === 0;
        const track = noise(Math.round(((cutSendMs + 4000) * RATE) / 1000), -65, r);
        mixInto(track, speech, Math.round((botStartSend * RATE) / 1000));
        if (resumes) mixInto(track, prompt('activated'), Math.round(((cutSendMs + 1200) * RATE) / 1000));
        const asm = deliver(track, 0, net);
        const bot = detectSpeech(asm.pcm, RATE).map((s) => ({ startMs: asm.sampleToLocalMs(s.startSample), endMs: asm.sampleToLocalMs(s.endSample) }));
        const t = measureTurns({ answerMs: 0, caller: [{ startMs: callerStartMs, endMs: callerStartMs + 1000 }], bot });
        expect(t.bargeIns).toHaveLength(1);
        expect(t.bargeIns[0]!.resumed).toBe(resumes);
        const truth = net.baseMs + stopMs + net.baseMs;
        errors.push(t.bargeIns[0]!.stopLatencyMs - truth);
        expect(t.talkOverMs).toBeGreaterThan(0);
      }
    }
    const abs = errors.map(Math.abs);
    console.log(`barge-in stop latency error over ${errors.length} calls: p50 ${percentile(abs, 50).toFixed(2)} ms, p95 ${percentile(abs, 95).toFixed(2)} ms, max ${Math.max(...abs).toFixed(2)} ms`);
    expect(percentile(abs, 95)).toBeLessThanOrEqual(5);
  });
});
