import { describe, expect, it } from 'vitest';
import { JitterBuffer } from './jitter-buffer.ts';

const pkt = (seq: number, ssrc = 7, marker = false) => ({ marker, payloadType: 0, sequenceNumber: seq, timestamp: 1000 + seq * 160, ssrc, payload: new Uint8Array() });
const frame = (v: number) => new Int16Array(160).fill(v);

function rng(seed: number) { let s = seed >>> 0; return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; }; }

describe('JitterBuffer', () => {
  it('plays frames in media order despite reordering, duplicates and 0–40 ms jitter, concealing lost ones', () => {
    const jb = new JitterBuffer({ clockRate: 8000, frameSamples: 160, delayMs: 60 });
    const r = rng(3);
    const arrivals: Array<[number, number]> = [];
    for (let seq = 0; seq < 200; seq++) {
      if (seq % 50 === 25) continue; // lost
      arrivals.push([seq * 20 + r() * 40, seq]);
      if (seq % 40 === 10) arrivals.push([seq * 20 + 45, seq]); // duplicate
    }
    arrivals.sort((a, b) => a[0] - b[0]);
    const played: number[] = [];
    let i = 0;
    for (let now = 0; now <= 200 * 20 + 200; now += 20) {
      while (i < arrivals.length && arrivals[i]![0] <= now) { const [at, seq] = arrivals[i++]!; jb.push(pkt(seq), frame(seq), at); }
      for (const f of jb.pop(now)) played.push(f.concealed ? -1 : f.pcm[0]!);
    }
    const expected = Array.from({ length: 200 }, (_, s) => (s % 50 === 25 ? -1 : s));
    expect(played.slice(0, 200)).toEqual(expected);
    expect(jb.stats).toMatchObject({ late: 0, played: 196, duplicates: 5 }); // concealment also runs on after the stream ends
  });

  it('drops packets that arrive after their slot, and re-anchors on a new SSRC', () => {
    const jb = new JitterBuffer({ clockRate: 8000, frameSamples: 160, delayMs: 40 });
    jb.push(pkt(0), frame(0), 0);
    expect(jb.pop(100).map((f) => f.concealed)).toEqual([false, true, true, true]);
    jb.push(pkt(1), frame(1), 101); // its slot (at 60 ms) has passed
    expect(jb.stats.late).toBe(1);
    jb.push(pkt(500, 8), frame(9), 200);
    expect(jb.stats.resyncs).toBe(1);
    expect(jb.pop(240)[0]!.pcm[0]).toBe(9);
  });

  it('adapts its delay to the measured jitter at talkspurt starts', () => {
    const jb = new JitterBuffer({ clockRate: 8000, frameSamples: 160, delayMs: 40, adaptive: true });
    const r = rng(9);
    for (let seq = 0; seq < 100; seq++) jb.push(pkt(seq, 7, seq === 99), frame(seq), seq * 20 + r() * 60);
    expect(jb.delayMs).toBeGreaterThan(40);
    expect(jb.delayMs).toBeLessThanOrEqual(300);
  });
});
