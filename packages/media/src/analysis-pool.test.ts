import { describe, expect, it } from 'vitest';
import { AnalysisPool } from './analysis-pool.ts';
import { detectSpeech } from './vad.ts';

describe('AnalysisPool', () => {
  it('gives the same segments as the in-thread VAD, from worker threads', async () => {
    const pcm = new Int16Array(16000);
    for (let i = 4000; i < 8000; i++) pcm[i] = Math.round(6000 * Math.sin((2 * Math.PI * 300 * i) / 8000));
    const pool = new AnalysisPool(2);
    try {
      const results = await Promise.all([1, 2, 3, 4].map(() => pool.detectSpeech(pcm, 8000)));
      for (const r of results) expect(r).toEqual(detectSpeech(pcm, 8000));
      expect((await pool.levelStats(pcm, 8000)).speechMs).toBeCloseTo(500, 0);
    } finally {
      await pool.close();
    }
  });
});
