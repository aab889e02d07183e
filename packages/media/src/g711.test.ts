import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw, linearToAlaw, linearToUlaw } from './g711.ts';
import { writeWav } from './wav.ts';

const SOX = existsSync('/usr/bin/sox') ? '/usr/bin/sox' : undefined;

describe('G.711', () => {
  it('matches the ITU reference vectors at the segment edges', () => {
    // Values of the ITU/Sun reference (truncation to 14/13 bits): silence, smallest steps, full scale, sign.
    expect(linearToUlaw(0)).toBe(0xff);
    expect(linearToUlaw(-1)).toBe(0x7e);
    expect(linearToUlaw(32767)).toBe(0x80);
    expect(linearToUlaw(-32768)).toBe(0x00);
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(linearToAlaw(-1)).toBe(0x55);
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
    expect(decodeUlaw(Uint8Array.of(0xff, 0x7f, 0x80, 0x00))).toEqual(Int16Array.of(0, 0, 32124, -32124));
    expect(decodeAlaw(Uint8Array.of(0xd5, 0x55, 0xaa, 0x2a))).toEqual(Int16Array.of(8, -8, 32256, -32256));
  });

  it('is idempotent: decode(encode(decode(c))) keeps every one of the 256 codes', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(encodeUlaw(decodeUlaw(all))).toEqual(all.map((c) => (c === 0x7f ? 0xff : c))); // -0 and +0 both decode to 0
    expect(encodeAlaw(decodeAlaw(all))).toEqual(all);
  });

  // sox rounds to 14/13 bits where the reference truncates, so the two agree exactly on multiples of 8 — the
  // values where no rounding happens — across the whole range.
  it.skipIf(!SOX)('encodes every multiple of 8 exactly as sox does (no dither)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-g711-'));
    const pcm = Int16Array.from({ length: 8192 }, (_, i) => i * 8 - 32768);
    writeFileSync(join(dir, 'ramp.wav'), writeWav({ sampleRate: 8000, channels: 1, samples: pcm }));
    for (const [enc, ours] of [['u-law', encodeUlaw(pcm)], ['a-law', encodeAlaw(pcm)]] as const) {
      execFileSync(SOX!, ['-D', join(dir, 'ramp.wav'), '-t', 'raw', '-e', enc, '-b', '8', join(dir, `${enc}.raw`)]);
      const theirs = new Uint8Array(readFileSync(join(dir, `${enc}.raw`)));
      expect(theirs.length).toBe(pcm.length);
      let diff = 0;
      for (let i = 0; i < pcm.length; i++) if (theirs[i] !== ours[i]) diff++;
      expect(diff, `${enc}: codes differing from sox`).toBe(0);
    }
  });

  it.skipIf(!SOX)('decodes all 256 codes exactly as sox does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-g711-'));
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    writeFileSync(join(dir, 'codes.raw'), codes);
    for (const [enc, ours] of [['u-law', decodeUlaw(codes)], ['a-law', decodeAlaw(codes)]] as const) {
      execFileSync(SOX!, ['-D', '-t', 'raw', '-e', enc, '-b', '8', '-r', '8000', '-c', '1', join(dir, 'codes.raw'), '-t', 'raw', '-e', 'signed-integer', '-b', '16', '-L', join(dir, `${enc}.pcm`)]);
      const b = readFileSync(join(dir, `${enc}.pcm`));
      const theirs = Int16Array.from({ length: 256 }, (_, i) => b.readInt16LE(i * 2));
      expect(ours, enc).toEqual(theirs);
    }
  });
});
