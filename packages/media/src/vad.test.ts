import { describe, expect, it } from 'vitest';
import { detectSpeech } from './vad.ts';

/** 0.5 s silence, 0.6 s of "speech" (noise at -20 dBFS), a 60 ms tail fading in sparse bursts, 0.8 s silence. */
function utteranceWithSoftTail(): { pcm: Int16Array; speechFrom: number; lastLoud: number } {
  const rate = 8000;
  const pcm = new Int16Array(rate * 2);
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff - 0.5; };
  const speechFrom = 4000;
  for (let i = speechFrom; i < speechFrom + 4800; i++) pcm[i] = Math.round(rnd() * 2 * 3276);
  // The tail: 2 ms bursts at ~100 (above the -55 dBFS threshold of ~58) every 12 ms, whose 10 ms frames are
  // far below -55 dBFS — where a frame-bound refinement stops depends on the grid.
  let lastLoud = 0;
  for (let t = speechFrom + 4800 + 96; t < speechFrom + 4800 + 480; t += 96) {
    for (let k = 0; k < 16; k++) pcm[t + k] = k % 2 ? 100 : -100;
    lastLoud = t + 15;
  }
  return { pcm, speechFrom, lastLoud };
}

describe('detectSpeech edges', () => {
  it('are the same wherever the analysis starts (the 10 ms frame grid does not move them)', () => {
    const { pcm, speechFrom, lastLoud } = utteranceWithSoftTail();
    const edges = new Set<string>();
    for (let from = 0; from < 160; from += 7) {
      const [seg, ...rest] = detectSpeech(pcm.subarray(from), 8000, { hangoverMs: 300 });
      expect(rest).toEqual([]);
      edges.add(`${from + seg!.startSample}-${from + seg!.endSample}`);
    }
    expect([...edges]).toEqual([`${speechFrom}-${lastLoud + 1}`]);
  });

  it('does not bridge a sub-threshold gap of 20 ms or more into the edge', () => {
    const pcm = new Int16Array(16000);
    for (let i = 4000; i < 8000; i++) pcm[i] = i % 2 ? 3000 : -3000;
    for (let i = 8000 + 200; i < 8000 + 216; i++) pcm[i] = 100; // 25 ms after the end: not part of it
    const [seg] = detectSpeech(pcm, 8000);
    expect(seg!.endSample).toBe(8000);
  });
});
