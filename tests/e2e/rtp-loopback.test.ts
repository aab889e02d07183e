/**
 * RTP over real UDP sockets on loopback: a paced G.711 sender and a telephone-event sender on one socket, a
 * receiver on another that demultiplexes RTP/RTCP, keeps statistics, rebuilds the audio and records the call.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CallRecorder, PacedSender, PT_PCMU, RtpReceiveStats, RtpReceiveThread, TelephoneEventReceiver, TrackAssembler, decodeUlaw, detectSpeech, encodeRtcp, encodeRtp, encodeUlaw,
  frameSource, isRtcp, parseRtcp, parseRtp, percentile, planDigit, readWav,
} from '@vigil/media';

const sockets: dgram.Socket[] = [];
afterEach(() => { for (const s of sockets.splice(0)) s.close(); });

async function bound(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

describe('RTP over UDP loopback', () => {
  it('sends 2 s of G.711 on the media clock; the receiver rebuilds it sample for sample and reports clean stats', async () => {
    const tx = await bound();
    const rx = await bound();
    const port = rx.address().port;
    const tone = Int16Array.from({ length: 16000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
    const stats = new RtpReceiveStats(8000);
    const asm = new TrackAssembler(8000);
    let rtcp = 0;
    rx.on('message', (m) => {
      if (isRtcp(m)) { rtcp += parseRtcp(m).length; return; }
      const p = parseRtp(m);
      stats.push(p, performance.now());
      asm.push(p, decodeUlaw(p.payload), performance.now());
    });
    const sender = new PacedSender({ payloadType: PT_PCMU, clockRate: 8000, ptimeMs: 20, send: (d) => tx.send(d, port, '127.0.0.1'), nextFrame: frameSource(tone, 160, encodeUlaw) });
    await sender.start();
    tx.send(encodeRtcp({ type: 'sr', ssrc: sender.ssrc, ntpMs: Date.now(), rtpTimestamp: sender.nextTimestamp, packetCount: sender.packets, octetCount: sender.octets, reports: [] }), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
    expect(stats.stats).toMatchObject({ received: 100, lost: 0, duplicates: 0, ssrc: sender.ssrc });
    expect(rtcp).toBe(1);
    expect(asm.pcm).toEqual(decodeUlaw(encodeUlaw(tone)));
    expect(asm.gaps()).toEqual([]);
    // The sender stays on the media clock: p99 lateness of a 20 ms timer loop on an idle machine.
    expect(percentile(sender.lateness, 99)).toBeLessThan(20);
  });

  it('receives on its own thread: 20 concurrent streams rebuilt exactly, with statistics', async () => {
    const rx = await RtpReceiveThread.start();
    const tx = await bound();
    const pcm = Int16Array.from({ length: 8000 }, (_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 300 * i) / 8000)));
    const senders = Array.from({ length: 20 }, () => new PacedSender({ payloadType: PT_PCMU, clockRate: 8000, ptimeMs: 20, send: (d) => tx.send(d, rx.port, '127.0.0.1'), nextFrame: frameSource(pcm, 160, encodeUlaw) }));
    await Promise.all(senders.map((s) => s.start()));
    await new Promise((r) => setTimeout(r, 100));
    const { tracks, malformed } = await rx.collect();
    await rx.close();
    expect(malformed).toBe(0);
    expect(tracks.map((t) => t.ssrc).sort()).toEqual(senders.map((s) => s.ssrc).sort());
    for (const t of tracks) {
      expect(t.stats).toMatchObject({ received: 50, lost: 0 });
      expect(t.pcm).toEqual(decodeUlaw(encodeUlaw(pcm)));
      expect(Math.abs(t.firstSampleLocalMs - Date.now())).toBeLessThan(5000);
    }
  });

  it('carries all 16 DTMF digits as RFC 4733 events', async () => {
    const tx = await bound();
    const rx = await bound();
    const ev = new TelephoneEventReceiver();
    const got: string[] = [];
    rx.on('message', (m) => { const p = parseRtp(m); if (p.payloadType === 101) { const d = ev.push(p.timestamp, p.payload); if (d) got.push(d); } });
    let seq = 1;
    let ts = 1000;
    for (const d of '0123456789*#ABCD') {
      for (const p of planDigit(d, 60)) tx.send(encodeRtp({ marker: p.marker, payloadType: 101, sequenceNumber: seq++, timestamp: ts, ssrc: 9, payload: p.payload }), rx.address().port, '127.0.0.1');
      ts += 800;
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(got.join('')).toBe('0123456789*#ABCD');
  });

  it('records a call as stereo WAV (caller left, bot right) with a hashed timeline', () => {
    const rec = new CallRecorder(8000);
    const a = Int16Array.from({ length: 8000 }, (_, i) => (i % 80 < 40 ? 5000 : -5000));
    rec.caller(0, a);
    rec.bot(1500, a);
    rec.event(0, 'answer');
    rec.event(1500, 'bot_speech_start');
    const out = rec.finish('call-1');
    const wav = readWav(out.wav);
    expect(wav).toMatchObject({ sampleRate: 8000, channels: 2 });
    const left = wav.samples.filter((_, i) => i % 2 === 0);
    const right = wav.samples.filter((_, i) => i % 2 === 1);
    expect(detectSpeech(left, 8000)[0]!.startMs).toBe(0);
    expect(detectSpeech(right, 8000)[0]!.startMs).toBe(1500);
    expect(out.artifacts.map((x) => x.name)).toEqual(['call-1.wav', 'call-1.timeline.json']);
    expect(out.artifacts[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(out.timeline.toString()).events.map((e: { kind: string }) => e.kind)).toEqual(['answer', 'bot_speech_start']);
  });
});
