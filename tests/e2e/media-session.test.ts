/**
 * Two media sessions talk over real UDP on loopback — the probe (A) and a bot (B): audio both ways on the
 * media clock, RFC 4733 digits, RTCP SR/RR with round-trip time, E-model quality, a stereo recording whose
 * channels line up with what was played, and turn latency measured from it. Repeated for PCMU and Opus.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaSession, createCodec, detectDtmf, detectSpeech, measureTurns, readWav, resample } from '@vigil/media';

const PROMPT = '/usr/share/asterisk/sounds/en/agent-pass.wav';
const speech8k = existsSync(PROMPT) ? readWav(readFileSync(PROMPT)).samples : Int16Array.from({ length: 16000 }, (_, i) => (i > 1000 && i < 12000 ? Math.round(6000 * Math.sin(i / 4)) : 0));

const open: MediaSession[] = [];
afterEach(async () => { for (const s of open.splice(0)) await s.close(); });

for (const codecName of ['PCMU', 'opus'] as const) {
  describe(`media session (${codecName})`, () => {
    it('plays audio and digits both ways, reports RTCP round trip and quality, records, and times a turn', async () => {
      const a = await MediaSession.open({ codec: createCodec(codecName), rtcpIntervalMs: 300 });
      const b = await MediaSession.open({ codec: createCodec(codecName), rtcpIntervalMs: 300 });
      open.push(a, b);
      a.setRemote('127.0.0.1', b.port);
      b.setRemote('127.0.0.1', a.port);
      const rate = a.codec.sampleRate;
      const clip = rate === 8000 ? speech8k : resample(speech8k, 8000, rate);
      const clipOn = detectSpeech(clip, rate)[0]!;
      const clipOff = detectSpeech(clip, rate).at(-1)!;

      // The probe speaks; the bot answers 700 ms after the probe's speech has ended (as the bot hears it).
      const said = await a.play(clip);
      await new Promise((r) => setTimeout(r, 700));
      await b.play(clip);
      await b.sendDigits('159#', 80); // digits take the line while they play: audio waits for them
      await new Promise((r) => setTimeout(r, 400));
      a.sendReport();
      b.sendReport();
      await new Promise((r) => setTimeout(r, 400));

      expect(a.digits.digits.map((d) => d.digit).join('')).toBe('159#');
      const q = a.quality();
      expect(q.packetsReceived).toBeGreaterThan(100);
      expect(q.lossPercent).toBe(0);
      expect(q.rttMs).not.toBeNull();
      expect(q.rttMs!).toBeLessThan(50);
      expect(q.mos).toBeGreaterThan(4.2);

      // What the bot said, as the probe heard it, starts where the bot played it (loopback: under 5 ms).
      const heard = detectSpeech(a.heard.pcm, rate);
      const botOnsetMs = a.heard.sampleToLocalMs(heard[0]!.startSample);
      const turns = measureTurns({ answerMs: a.startedAtMs, caller: [{ startMs: said.startMs + clipOn.startMs, endMs: said.startMs + clipOff.endMs }], bot: [{ startMs: botOnsetMs, endMs: botOnsetMs + 1000 }] });
      expect(turns.turns).toHaveLength(1);
      // Truth: the probe's trailing silence + the 700 ms pause + the bot clip's leading silence, plus up to one
      // frame for the bot's playout to start on its frame boundary, plus loopback transit.
      const truth = (said.endMs - (said.startMs + clipOff.endMs)) + 700 + clipOn.startMs;
      expect(turns.turns[0]!.turnLatencyMs).toBeGreaterThanOrEqual(truth - 5);
      expect(turns.turns[0]!.turnLatencyMs).toBeLessThanOrEqual(truth + 30);

      const rec = a.recording('probe-call');
      expect(rec.artifacts[0]).toMatchObject({ name: 'probe-call.wav', mediaType: 'audio/wav' });
      const wav = readWav(rec.wav);
      const left = wav.samples.filter((_, i) => i % 2 === 0);
      const right = wav.samples.filter((_, i) => i % 2 === 1);
      const lOn = detectSpeech(left, rate)[0]!.startMs + a.startedAtMs;
      const rOn = detectSpeech(right, rate)[0]!.startMs + a.startedAtMs;
      expect(Math.abs(lOn - (said.startMs + clipOn.startMs))).toBeLessThan(codecName === 'opus' ? 15 : 5);
      expect(Math.abs(rOn - botOnsetMs)).toBeLessThan(codecName === 'opus' ? 15 : 5);
      expect(JSON.parse(rec.timeline.toString()).events.filter((e: { kind: string }) => e.kind === 'dtmf_received')).toHaveLength(4);

      await b.close();
      await new Promise((r) => setTimeout(r, 50));
      expect(a.byeReceived).toBe(true);
    });
  });
}

const SOX = existsSync('/usr/bin/sox');
describe('SRTP between two media sessions', () => {
  it('carries audio encrypted both ways; garbage and packets under a wrong key are dropped, never thrown', async () => {
    const { SrtpContext } = await import('@vigil/media');
    const { randomBytes } = await import('node:crypto');
    const dgram = await import('node:dgram');
    const a = await MediaSession.open({ codec: createCodec('PCMU'), rtcpIntervalMs: 200 });
    const b = await MediaSession.open({ codec: createCodec('PCMU'), rtcpIntervalMs: 200 });
    open.push(a, b);
    const [ka, kb] = [randomBytes(30), randomBytes(30)];
    a.setSrtp(new SrtpContext('AES_CM_128_HMAC_SHA1_80', ka), new SrtpContext('AES_CM_128_HMAC_SHA1_80', kb));
    b.setSrtp(new SrtpContext('AES_CM_128_HMAC_SHA1_80', kb), new SrtpContext('AES_CM_128_HMAC_SHA1_80', ka));
    a.setRemote('127.0.0.1', b.port);
    b.setRemote('127.0.0.1', a.port);
    // An intruder sends malformed RTCP and RTP-looking packets to b.
    const evil = dgram.createSocket('udp4');
    for (const junk of [Buffer.from([0x80, 0xc8, 0, 1, 1, 2, 3]), Buffer.concat([Buffer.from([0x80, 0xc9, 0, 9]), randomBytes(40)]), Buffer.concat([Buffer.from([0x80, 0x00, 0, 1]), randomBytes(200)])]) {
      await new Promise<void>((r) => evil.send(junk, b.port, '127.0.0.1', () => r()));
    }
    evil.close();
    await a.play(speech8k);
    await new Promise((r) => setTimeout(r, 300));
    const sent = detectSpeech(speech8k, 8000);
    const heard = detectSpeech(b.heard.pcm, 8000);
    expect(Math.abs((heard.at(-1)!.endMs - heard[0]!.startMs) - (sent.at(-1)!.endMs - sent[0]!.startMs))).toBeLessThan(40);
    expect(b.srtp!.authFailures).toBeGreaterThanOrEqual(2); // the intruder's packets, not a's
    expect(b.stats.stats.lost).toBe(0);
    expect(a.quality().rttMs).not.toBeNull(); // SRTCP reports made it both ways
  });
});

describe.skipIf(!SOX)('in-band DTMF through a real RTP path', () => {
  it('detects all 16 digits, generated by sox (an independent generator), sent as G.711 over UDP and recorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-dtmf-'));
    const keys: Array<[string, number, number]> = [];
    const rows = [697, 770, 852, 941], cols = [1209, 1336, 1477, 1633], pad = ['123A', '456B', '789C', '*0#D'];
    rows.forEach((r, i) => cols.forEach((c, j) => keys.push([pad[i]![j]!, r, c])));
    const parts: Int16Array[] = [];
    keys.forEach(([, f1, f2], k) => {
      const two = join(dir, `t${k}.wav`), one = join(dir, `d${k}.wav`);
      execFileSync('sox', ['-n', '-r', '8000', '-b', '16', '-c', '2', two, 'synth', '0.07', 'sin', String(f1), 'sin', String(f2), 'gain', '-12']);
      execFileSync('sox', [two, '-c', '1', one, 'remix', '1,2', 'pad', '0', '0.07']);
      parts.push(readWav(readFileSync(one)).samples);
    });
    const tones = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { tones.set(p, o); o += p.length; }

    const a = await MediaSession.open({ codec: createCodec('PCMU') });
    const b = await MediaSession.open({ codec: createCodec('PCMU') });
    open.push(a, b);
    a.setRemote('127.0.0.1', b.port);
    b.setRemote('127.0.0.1', a.port);
    await b.play(tones);
    await new Promise((r) => setTimeout(r, 200));
    const wav = readWav(a.recording('dtmf').wav);
    const right = wav.samples.filter((_, i) => i % 2 === 1);
    expect(detectDtmf(right).map((d) => d.digit).join('')).toBe(keys.map((k) => k[0]).join(''));
  });
});
