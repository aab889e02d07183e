import { describe, expect, it } from 'vitest';
import { encodeRtcp, ntpMiddle, parseRtcp, toNtp, fromNtp } from './rtcp.ts';
import { encodeRtp, isRtcp, parseRtp, seqDelta, tsDelta } from './rtp.ts';
import { RtpReceiveStats, TrackAssembler } from './receiver.ts';
import { mos, rFactor } from './emodel.ts';
import { resample } from './resample.ts';

describe('RTP packets', () => {
  it('round-trips header fields, CSRCs, extension and padding', () => {
    const p = { marker: true, payloadType: 101, sequenceNumber: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef, csrc: [1, 2], extension: { profile: 0xbede, data: Uint8Array.of(1, 2, 3, 4) }, payload: Uint8Array.of(9, 8, 7), paddingBytes: 3 };
    const b = encodeRtp(p);
    expect(b[0]).toBe(0x80 | 0x20 | 0x10 | 2);
    expect(parseRtp(b)).toEqual(p);
    expect(isRtcp(b)).toBe(false);
  });

  it('refuses truncated or foreign packets with a typed error', () => {
    expect(() => parseRtp(Uint8Array.of(0x80, 0))).toThrow(expect.objectContaining({ code: 'VIGIL_E_REQUEST_INVALID' }));
    expect(() => parseRtp(new Uint8Array(12))).toThrow(/version 0/);
  });

  it('does sequence and timestamp arithmetic across the wrap', () => {
    expect(seqDelta(65535, 0)).toBe(1);
    expect(seqDelta(0, 65535)).toBe(-1);
    expect(tsDelta(0xffffff00, 0x100)).toBe(0x200);
  });
});

describe('RTCP', () => {
  it('round-trips a compound SR + BYE with report blocks', () => {
    const ms = 1_790_000_000_250;
    const block = { ssrc: 7, fractionLost: 0.25, cumulativeLost: -3, extendedHighestSeq: 70000, jitter: 123, lastSr: ntpMiddle(ms), delaySinceLastSr: 65536 };
    const buf = Buffer.concat([encodeRtcp({ type: 'sr', ssrc: 1, ntpMs: ms, rtpTimestamp: 160, packetCount: 10, octetCount: 1600, reports: [block] }), encodeRtcp({ type: 'bye', ssrcs: [1] })]);
    expect(isRtcp(buf)).toBe(true);
    const [sr, bye] = parseRtcp(buf);
    expect(sr).toMatchObject({ type: 'sr', ssrc: 1, rtpTimestamp: 160, packetCount: 10, octetCount: 1600, reports: [block] });
    expect((sr as { ntpMs: number }).ntpMs).toBeCloseTo(ms, 3);
    expect(bye).toEqual({ type: 'bye', ssrcs: [1] });
    const [s, f] = toNtp(ms);
    expect(fromNtp(s, f)).toBeCloseTo(ms, 3);
  });
});

describe('receive statistics (RFC 3550 A.1, A.3, A.8)', () => {
  const pkt = (seq: number, ts: number, ssrc = 1) => ({ marker: false, payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: ts >>> 0, ssrc, payload: new Uint8Array(160) });

  it('counts loss, duplicates and reordering across the sequence wrap', () => {
    const s = new RtpReceiveStats(8000);
    const seqs = [65530, 65531, 65533, 65532, 65534, 65535, 0, 0, 2, 3]; // 1 lost (seq 1), 1 reordered, 1 duplicate
    seqs.forEach((q, i) => s.push(pkt(q, i * 160), i * 20));
    expect(s.stats).toMatchObject({ received: 9, duplicates: 1, reordered: 1, expected: 10, lost: 1 });
    const rb = s.reportBlock();
    expect(rb.extendedHighestSeq).toBe(0x10000 + 3);
    expect(rb.fractionLost).toBeCloseTo(0.1, 5);
  });

  it('measures interarrival jitter: zero for a perfect clock, about the mean deviation otherwise', () => {
    const perfect = new RtpReceiveStats(8000);
    for (let i = 0; i < 200; i++) perfect.push(pkt(i, i * 160), 1000 + i * 20);
    expect(perfect.stats.jitterMs).toBe(0);
    const wobbly = new RtpReceiveStats(8000);
    for (let i = 0; i < 2000; i++) wobbly.push(pkt(i, i * 160), 1000 + i * 20 + (i % 2 ? 4 : 0)); // alternating 4 ms
    expect(wobbly.stats.jitterMs).toBeCloseTo(4, 1);
  });

  it('starts over on an SSRC change and says so', () => {
    const s = new RtpReceiveStats(8000);
    s.push(pkt(10, 0, 1), 0);
    s.push(pkt(500, 0, 2), 20);
    expect(s.stats).toMatchObject({ ssrc: 2, ssrcChanges: 1, received: 1, lost: 0 });
  });

  it('assembles audio on the media clock: reordered packets land in place, lost ones leave a gap', () => {
    const a = new TrackAssembler(8000);
    const frame = (v: number) => new Int16Array(160).fill(v);
    a.push(pkt(0, 1000), frame(1), 0);
    a.push(pkt(2, 1320), frame(3), 45);
    a.push(pkt(1, 1160), frame(2), 41);
    a.push(pkt(4, 1640), frame(5), 80);
    expect(a.pcm.length).toBe(800);
    expect([a.pcm[0], a.pcm[160], a.pcm[320], a.pcm[500], a.pcm[640]]).toEqual([1, 2, 3, 0, 5]);
    expect(a.gaps()).toEqual([[480, 640]]);
    expect(a.sampleToLocalMs(160)).toBeCloseTo(20 + 0, 6); // least-delayed packet: transit 0 ms
  });
});

describe('E-model (G.107)', () => {
  it('rates a clean G.711 call at R 93.2 (MOS 4.41) and degrades with loss and delay', () => {
    expect(rFactor({ codec: 'PCMU', oneWayDelayMs: 0, packetLossPercent: 0 })).toBeCloseTo(93.2, 5);
    expect(mos({ codec: 'PCMU', oneWayDelayMs: 0, packetLossPercent: 0 })).toBeCloseTo(4.41, 2);
    const lossy = mos({ codec: 'PCMU', oneWayDelayMs: 20, packetLossPercent: 2 });
    expect(lossy).toBeLessThan(4.3);
    expect(lossy).toBeGreaterThan(3.9);
    expect(mos({ codec: 'PCMU', oneWayDelayMs: 400, packetLossPercent: 0 })).toBeLessThan(mos({ codec: 'PCMU', oneWayDelayMs: 100, packetLossPercent: 0 }));
  });
});

describe('resampling', () => {
  it('keeps a 1 kHz tone through 8 → 16 → 8 kHz and removes content above the new Nyquist', () => {
    const n = 8000;
    const tone = Int16Array.from({ length: n }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));
    const back = resample(resample(tone, 8000, 16000), 16000, 8000);
    let err = 0;
    for (let i = 200; i < n - 200; i++) err = Math.max(err, Math.abs(back[i]! - tone[i]!));
    expect(err).toBeLessThan(150); // < -36 dB of the tone
    const high = Int16Array.from({ length: 16000 }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * 6000 * i) / 16000)));
    const down = resample(high, 16000, 8000);
    let peak = 0;
    for (let i = 200; i < down.length - 200; i++) peak = Math.max(peak, Math.abs(down[i]!));
    expect(peak).toBeLessThan(300); // 6 kHz cannot exist at 8 kHz: attenuated by more than 30 dB
  });
});
