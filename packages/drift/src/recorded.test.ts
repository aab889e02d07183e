/**
 * The detectors on a recorded series: real SIP calls to the reference contact center's voice bot (flite and
 * pocketsphinx on both sides, the bot's turn telemetry), recorded by `tests/e2e/drift-refcc.test.ts` with
 * VIGIL_RECORD_DRIFT_SERIES into fixtures/refcc-voice-fees.json: 20 baseline calls, 40 steady calls after them,
 * and the calls made with each fault switched on. The detectors are built from the baseline calls as the plane
 * builds them; long steady windows are drawn (with replacement, seeded) from the steady calls, which the baseline
 * never saw; detection delays from the fault calls after a steady stretch. The printed lines are the figures.
 */
import { readFileSync } from 'node:fs';
import { lexicalSimilarity } from '@vigil/judge';
import { describe, expect, it } from 'vitest';
import { quantile, rng } from './seeded.ts';
import { ContentDetector, LatencyCusum, NewFailureDetector, PassRateDetector, contentBaseline, contentDistance, latencyBaseline } from './index.ts';

interface RecordedRun { phase: string; verdict: string; metrics: Record<string, number>; steps: Record<string, { name: string; reply?: string; heard?: string; intent?: string }>; failures: string[] }
const fixture = JSON.parse(readFileSync(new URL('../fixtures/refcc-voice-fees.json', import.meta.url), 'utf8')) as { runs: RecordedRun[] };
const phase = (p: string) => fixture.runs.filter((r) => r.phase === p);


/** Every detector the plane runs on a series, built from the baseline calls. */
function detectors(base: RecordedRun[]) {
  const latency = new Map<string, LatencyCusum>();
  const values = new Map<string, number[]>();
  for (const r of base) for (const [k, v] of Object.entries(r.metrics)) values.set(k, [...(values.get(k) ?? []), v]);
  for (const [k, v] of values) if (v.length >= 20) latency.set(k, new LatencyCusum(latencyBaseline(v)));
  const content = new Map<string, { det: ContentDetector; key: string; field: 'reply' | 'heard'; texts: string[] }>();
  const steps = new Set(base.flatMap((r) => Object.keys(r.steps)));
  for (const key of steps) {
    for (const field of ['heard', 'reply'] as const) {
      const texts = base.map((r) => r.steps[key]?.[field]).filter((t): t is string => !!t);
      if (texts.length < 10) continue;
      content.set(`content:${key}.${field}`, { det: new ContentDetector(contentBaseline(texts, lexicalSimilarity)), key, field, texts: [...new Set(texts)] });
    }
  }
  const pass = new PassRateDetector(base.filter((r) => r.verdict === 'pass').length, base.length);
  const failures = new NewFailureDetector(base.flatMap((r) => r.failures));
  const memo = new Map<string, number>();
  return {
    latency, content,
    /** Feeds one call; returns the detectors that alarmed on it. */
    push(r: RecordedRun): string[] {
      const out: string[] = [];
      for (const [k, d] of latency) { const v = r.metrics[k]; if (v !== undefined && v > 0 && d.push(v).alarm) { out.push(`latency:${k}`); d.reset(); } }
      for (const [name, c] of content) {
        const t = r.steps[c.key]?.[c.field];
        if (t === undefined) continue;
        const mk = `${name}\u0000${t}`;
        let dist = memo.get(mk);
        if (dist === undefined) { dist = contentDistance(t, c.texts, lexicalSimilarity); memo.set(mk, dist); }
        if (c.det.push(dist).alarm) { out.push(name); c.det.reset(); }
      }
      if (pass.push(r.verdict === 'pass').alarm) { out.push('pass_rate'); pass.reset(); }
      out.push(...failures.push(r.failures).map((f) => `new_failure:${f.signature}`));
      return out;
    },
  };
}

describe('drift detectors on a recorded series of real calls to the reference contact center', () => {
  const base = phase('baseline');
  const steady = phase('steady');

  it('has what the plane reads: per-layer timings from the bot\'s telemetry, what it heard, its replies', () => {
    expect(base).toHaveLength(20);
    expect(steady.length).toBeGreaterThanOrEqual(30);
    const d = detectors(base);
    expect([...d.latency.keys()]).toEqual(expect.arrayContaining(['llm.total', 'asr.final_transcript', 'tts.time_to_first_byte', 'voice_turn.turn_latency', 'call_setup.setup']));
    expect([...d.content.keys()].some((k) => k.endsWith('.heard'))).toBe(true);
  });

  // Documented per detector: < 0.5 false alarms per 1,000 steady runs; a series runs a dozen detectors.
  it('stays under 0.5 false alarms per 1,000 steady calls per detector, and 1 per 1,000 for the whole series, over 20,000 calls the baseline never saw', () => {
    const r = rng(1);
    const raised = new Map<string, number>();
    const trials = 20;
    for (let t = 0; t < trials; t++) {
      const d = detectors(base);
      for (let i = 0; i < 1000; i++) for (const a of d.push(steady[Math.floor(r() * steady.length)]!)) raised.set(a, (raised.get(a) ?? 0) + 1);
    }
    const total = [...raised.values()].reduce((a, b) => a + b, 0);
    console.log(`recorded steady calls: ${total} alarms in ${trials * 1000} calls = ${((1000 * total) / (trials * 1000)).toFixed(2)} per 1,000 for the series${raised.size ? ` (${[...raised].map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`);
    for (const [k, v] of raised) expect((1000 * v) / (trials * 1000), k).toBeLessThan(0.5);
    expect((1000 * total) / (trials * 1000)).toBeLessThan(1);
  });

  it.each([
    ['llm_latency', 'latency:llm.total', 5],
    ['policy_drift', 'content:2.reply', 6],
    ['asr_noise', 'content:2.heard', 6],
  ] as const)('%s: %s alarms within %d calls of the fault (200 draws after 30 steady calls)', (p, detector, within) => {
    const faulty = phase(p);
    expect(faulty.length).toBeGreaterThanOrEqual(3);
    const r = rng(7);
    const delays: number[] = [];
    for (let t = 0; t < 200; t++) {
      const d = detectors(base);
      for (let i = 0; i < 30; i++) d.push(steady[Math.floor(r() * steady.length)]!);
      for (let i = 1; i <= 50; i++) if (d.push(faulty[Math.floor(r() * faulty.length)]!).includes(detector)) { delays.push(i); break; }
    }
    console.log(`recorded ${p}: ${detector} found in ${delays.length}/200 draws, delay median ${quantile(delays, 0.5)}, p95 ${quantile(delays, 0.95)} calls`);
    expect(delays).toHaveLength(200);
    expect(quantile(delays, 0.95)).toBeLessThanOrEqual(within);
  });
});
