import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCodec } from './codecs.ts';
import { resample } from './resample.ts';
import { readWav } from './wav.ts';

const PROMPT = '/usr/share/asterisk/sounds/en/agent-pass.wav';

function speech16k(): Int16Array {
  if (existsSync(PROMPT)) return resample(readWav(readFileSync(PROMPT)).samples, 8000, 16000);
  // Without the recordings: a voiced, vowel-like signal (pitch with harmonics, slowly gliding).
  return Int16Array.from({ length: 32000 }, (_, i) => Math.round(3000 * [1, 0.6, 0.4, 0.2].reduce((s, a, k) => s + a * Math.sin((2 * Math.PI * (k + 1) * (120 + 20 * Math.sin(i / 8000)) * i) / 16000), 0)));
}

/** Best normalised correlation over small lags (Opus has a few ms of algorithmic delay). */
function similarity(a: Int16Array, b: Int16Array, maxLag = 400): { corr: number; lag: number } {
  let best = { corr: -1, lag: 0 };
  for (let lag = 0; lag <= maxLag; lag++) {
    let xy = 0, xx = 0, yy = 0;
    for (let i = 0; i + lag < b.length && i < a.length; i++) { const x = a[i]!, y = b[i + lag]!; xy += x * y; xx += x * x; yy += y * y; }
    const c = xy / Math.sqrt(xx * yy || 1);
    if (c > best.corr) best = { corr: c, lag };
  }
  return best;
}

describe('codecs', () => {
  it('Opus round trip keeps speech (correlation > 0.9 after its delay) at 24 kbit/s in 20 ms frames', () => {
    const codec = createCodec('opus', { sampleRate: 16000 });
    expect(codec).toMatchObject({ name: 'opus', clockRate: 48000, payloadType: 111 });
    const pcm = speech16k();
    const n = codec.frameSamples(20);
    const out: Int16Array[] = [];
    let bytes = 0;
    for (let pos = 0; pos + n <= pcm.length; pos += n) {
      const pkt = codec.encode(pcm.subarray(pos, pos + n));
      bytes += pkt.length;
      out.push(codec.decode(pkt));
    }
    codec.close();
    const decoded = new Int16Array(out.reduce((s, f) => s + f.length, 0));
    let o = 0;
    for (const f of out) { decoded.set(f, o); o += f.length; }
    const { corr, lag } = similarity(pcm, decoded);
    expect(corr).toBeGreaterThan(0.9);
    expect(lag).toBeLessThan(400); // < 25 ms
    const kbps = (bytes * 8) / (pcm.length / 16000) / 1000;
    expect(kbps).toBeGreaterThan(10);
    expect(kbps).toBeLessThan(32);
  });

  it('G.711 codecs frame at 8 kHz and refuse unknown names', () => {
    const u = createCodec('pcmu');
    expect(u.frameSamples(20)).toBe(160);
    expect(u.decode(u.encode(new Int16Array(160))).length).toBe(160);
    expect(() => createCodec('g729')).toThrow(expect.objectContaining({ code: 'VIGIL_E_REQUEST_INVALID', field: 'codec' }));
  });
});
