import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DTMF_DIGITS, TelephoneEventReceiver, detectDtmf, dtmfTone, planDigit } from './dtmf.ts';
import { decodeUlaw, encodeUlaw } from './g711.ts';
import { readWav } from './wav.ts';

const SOUNDS = '/usr/share/asterisk/sounds/en';

function rng(seed: number) { let s = seed >>> 0; return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; }; }

function sequence(digits: string, onMs: number, offMs: number, levelDbfs = -10): { pcm: Int16Array; starts: number[] } {
  const parts: Int16Array[] = [];
  const starts: number[] = [];
  let at = 0;
  const gap = new Int16Array((offMs * 8000) / 1000);
  parts.push(gap); at += gap.length;
  for (const d of digits) { starts.push(at); const t = dtmfTone(d, onMs, 8000, levelDbfs); parts.push(t, gap); at += t.length + gap.length; }
  const out = new Int16Array(at);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return { pcm: out, starts };
}

function addNoise(pcm: Int16Array, dbfs: number, seed = 1): Int16Array {
  const r = rng(seed);
  const amp = 32767 * 10 ** (dbfs / 20) * Math.sqrt(3);
  return pcm.map((v) => Math.max(-32768, Math.min(32767, Math.round(v + (r() * 2 - 1) * amp))));
}

describe('in-band DTMF (Goertzel)', () => {
  it('detects all 16 digits, 50 ms tones with 50 ms gaps, after G.711 and in -40 dBFS noise', () => {
    const { pcm, starts } = sequence(DTMF_DIGITS, 50, 50);
    const heard = decodeUlaw(encodeUlaw(addNoise(pcm, -40)));
    const found = detectDtmf(heard);
    expect(found.map((f) => f.digit).join('')).toBe(DTMF_DIGITS);
    found.forEach((f, i) => expect(Math.abs(f.startSample - starts[i]!)).toBeLessThanOrEqual(205));
  });

  it('ignores tones shorter than about 25 ms and too-weak tones', () => {
    expect(detectDtmf(sequence('5', 20, 60).pcm)).toEqual([]);
    expect(detectDtmf(sequence('5', 80, 60, -60).pcm)).toEqual([]);
  });

  const prompts = existsSync(SOUNDS) ? readdirSync(SOUNDS).filter((f) => f.endsWith('.wav')).sort() : [];
  it.skipIf(prompts.length === 0)(`does not talk off on ${Math.min(prompts.length, 150)} recorded human prompts (Asterisk sounds)${prompts.length ? '' : ' (skipped: asterisk-core-sounds-en-wav not installed)'}`, () => {
    let falseDigits = 0;
    for (const f of prompts.slice(0, 150)) {
      const a = readWav(readFileSync(`${SOUNDS}/${f}`), f);
      if (a.sampleRate !== 8000 || a.channels !== 1) continue;
      falseDigits += detectDtmf(a.samples).length;
    }
    expect(falseDigits).toBe(0);
  });

  it.skipIf(prompts.length === 0)('finds digits keyed between real recorded prompts, and nothing in the speech', () => {
    const a = readWav(readFileSync(`${SOUNDS}/agent-alreadyon.wav`)).samples;
    const b = readWav(readFileSync(`${SOUNDS}/agent-pass.wav`)).samples;
    const { pcm } = sequence('1590#', 60, 80, -12);
    const call = new Int16Array(a.length + pcm.length + b.length);
    call.set(a, 0);
    call.set(pcm, a.length);
    call.set(b, a.length + pcm.length);
    const found = detectDtmf(decodeUlaw(encodeUlaw(addNoise(call, -45))));
    expect(found.map((d) => d.digit).join('')).toBe('1590#');
    expect(found.every((d) => d.startSample >= a.length - 205 && d.endSample <= a.length + pcm.length + 205)).toBe(true);
  });
});

describe('RFC 4733 telephone events', () => {
  it('plans the packets of a digit: marker first, growing duration, end bit three times', () => {
    const plan = planDigit('#', 100);
    expect(plan.filter((p) => p.marker)).toHaveLength(1);
    expect(plan).toHaveLength(5 + 2);
    expect(plan.slice(-3).every((p) => (p.payload[1]! & 0x80) !== 0)).toBe(true);
    expect((plan[4]!.payload[2]! << 8) | plan[4]!.payload[3]!).toBe(800);
  });

  it('receives each digit once, even with the end packet repeated or arriving alone', () => {
    const rx = new TelephoneEventReceiver();
    const got: string[] = [];
    DTMF_DIGITS.split('').forEach((d, i) => {
      for (const p of planDigit(d, 60)) { const x = rx.push(1000 + i * 1600, p.payload); if (x) got.push(x); }
    });
    // A digit whose start packets were lost still counts from its end packet.
    const [last] = planDigit('7', 40).slice(-1);
    const only = rx.push(999_999, last!.payload);
    expect(got.join('')).toBe(DTMF_DIGITS);
    expect(only).toBe('7');
  });
});
