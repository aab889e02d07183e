/**
 * The detectors on generated run series with known change points (seeded, so every run of this file sees the
 * same series): false alarms per 1,000 runs on steady series and detection delay after a change, each checked
 * against the figure documented in the README. The printed lines are the measured figures.
 */
import { describe, expect, it } from 'vitest';
import { quantile, rng } from './seeded.ts';
import { lexicalSimilarity } from '@vigil/judge';
import { ContentDetector, LatencyCusum, LayerAttribution, NewFailureDetector, PassRateDetector, binomialCdf, contentBaseline, contentDistance, latencyBaseline } from './index.ts';

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}
/** Log-normal latencies: median `medianMs`, log-sd `sigma`. */
const latency = (r: () => number, medianMs: number, sigma: number) => medianMs * Math.exp(sigma * normal(r));

describe('latency CUSUM (k = 0.5, h = 10 baseline deviations of log latency)', () => {
  it('raises under 0.5 false alarms per 1,000 steady runs (baselines of 100 runs)', () => {
    let alarms = 0;
    let runs = 0;
    for (let s = 0; s < 100; s++) {
      const r = rng(1000 + s);
      const det = new LatencyCusum(latencyBaseline(Array.from({ length: 100 }, () => latency(r, 800, 0.15))));
      for (let i = 0; i < 2000; i++) {
        runs++;
        if (det.push(latency(r, 800, 0.15)).alarm) { alarms++; det.reset(); }
      }
    }
    const per1000 = (1000 * alarms) / runs;
    console.log(`latency CUSUM: ${alarms} false alarms in ${runs} steady runs = ${per1000.toFixed(3)} per 1,000 runs`);
    expect(per1000).toBeLessThan(0.5);
  });

  // A one-deviation step is as small as the baseline's own estimation error can be: a few series whose baseline
  // came out high never see it. Two deviations are always found.
  it.each([
    ['+1 deviation (+16 % on 800 ms)', 30, 120, 195, 0.15],
    ['+2 deviations (+35 %)', 8, 14, 200, 0.3],
    ['+300 ms of LLM latency on 800 ms (+2.1 deviations)', 8, 14, 200, Math.log(1100 / 800)],
  ])('finds a step of %s: median delay ≤ %d runs, 95th percentile ≤ %d, in at least %d of 200 series', (_what, maxMedian, maxP95, minFound, logShift) => {
    const delays: number[] = [];
    const estimates: number[] = [];
    for (let s = 0; s < 200; s++) {
      const r = rng(5000 + s);
      const det = new LatencyCusum(latencyBaseline(Array.from({ length: 100 }, () => latency(r, 800, 0.15))));
      for (let i = 0; i < 100; i++) det.push(latency(r, 800, 0.15));
      for (let i = 0; i < 1000; i++) {
        const v = det.push(latency(r, 800 * Math.exp(logShift), 0.15));
        if (v.alarm) {
          expect(v.alarm).toBe('up');
          delays.push(i + 1);
          estimates.push(v.changeAt! - 100);
          break;
        }
      }
    }
    expect(delays.length).toBeGreaterThanOrEqual(minFound);
    console.log(`latency CUSUM, step of ${_what}: found in ${delays.length}/200 series within 1,000 runs; delay median ${quantile(delays, 0.5)}, p95 ${quantile(delays, 0.95)} runs; change point estimated within ±3 runs in ${estimates.filter((e) => Math.abs(e) <= 3).length}/200`);
    expect(quantile(delays, 0.5)).toBeLessThanOrEqual(maxMedian);
    expect(quantile(delays, 0.95)).toBeLessThanOrEqual(maxP95);
  });

  it('says how many times slower it became', () => {
    const r = rng(7);
    const det = new LatencyCusum(latencyBaseline(Array.from({ length: 100 }, () => latency(r, 800, 0.15))));
    let v;
    do v = det.push(latency(r, 1200, 0.15)); while (!v.alarm);
    expect(v.ratio!).toBeGreaterThan(1.3);
    expect(v.ratio!).toBeLessThan(1.7);
  });

  it('puts the change at the first slow run even when a steady blip lifted the statistic just before it', () => {
    const r = rng(11);
    const det = new LatencyCusum(latencyBaseline(Array.from({ length: 100 }, () => latency(r, 800, 0.15))));
    for (let i = 0; i < 50; i++) det.push(800);
    det.push(800 * Math.exp(0.15 * 4)); // a 4-deviation blip at run 50: the statistic stays up for a few runs
    for (let i = 0; i < 2; i++) det.push(800);
    let v;
    do v = det.push(4000); while (!v.alarm); // a large step at run 53
    expect(v.changeAt).toBe(53);
  });

  it('does not alarm on changes under 20 ms or 5 % (LAN RTT 0.5 → 2 ms; call setup 112 → 119 ms), but on a real one', () => {
    const r = rng(13);
    const rtt = new LatencyCusum(latencyBaseline(Array.from({ length: 20 }, () => latency(r, 0.5, 0.3))));
    for (let i = 0; i < 2000; i++) expect(rtt.push(latency(r, 2, 0.3)).alarm).toBeNull();
    let n = 0;
    while (!rtt.push(latency(r, 150, 0.3)).alarm) n++;
    expect(n).toBeLessThan(15);
    // A 20-run baseline of a tight measure (spread 6 %): +7 ms persisting for 2,000 runs is not an alarm.
    const setup = new LatencyCusum(latencyBaseline(Array.from({ length: 20 }, () => latency(r, 112, 0.06))));
    for (let i = 0; i < 2000; i++) expect(setup.push(latency(r, 119, 0.06)).alarm).toBeNull();
    n = 0;
    while (!setup.push(latency(r, 200, 0.06)).alarm) n++;
    expect(n).toBeLessThan(15);
  });

  it('refuses a baseline too short to estimate', () => {
    expect(() => latencyBaseline([1, 2, 3])).toThrow(/at least 20/);
  });
});

describe('pass-rate drift (exact binomial test, window 20, alpha 0.001)', () => {
  it('computes the binomial CDF', () => {
    expect(binomialCdf(0, 10, 0.5)).toBeCloseTo(1 / 1024, 10);
    expect(binomialCdf(5, 10, 0.5)).toBeCloseTo(638 / 1024, 10);
    expect(binomialCdf(10, 10, 0.3)).toBe(1);
  });

  it('raises under 0.5 false alarms per 1,000 steady runs at a 98 % pass rate', () => {
    let alarms = 0;
    let runs = 0;
    for (let s = 0; s < 100; s++) {
      const r = rng(9000 + s);
      const det = new PassRateDetector(196, 200);
      for (let i = 0; i < 2000; i++) {
        runs++;
        if (det.push(r() < 0.98).alarm) { alarms++; det.reset(); }
      }
    }
    const per1000 = (1000 * alarms) / runs;
    console.log(`pass-rate drift: ${alarms} false alarms in ${runs} steady runs = ${per1000.toFixed(3)} per 1,000 runs`);
    expect(per1000).toBeLessThan(0.5);
  });

  it('finds a drop from 98 % to 70 % within 20 runs (median), 60 (95th percentile)', () => {
    const delays: number[] = [];
    for (let s = 0; s < 200; s++) {
      const r = rng(12_000 + s);
      const det = new PassRateDetector(196, 200);
      for (let i = 0; i < 40; i++) det.push(r() < 0.98);
      for (let i = 0; i < 500; i++) if (det.push(r() < 0.7).alarm) { delays.push(i + 1); break; }
    }
    expect(delays).toHaveLength(200);
    console.log(`pass-rate drift, 98 % → 70 %: delay median ${quantile(delays, 0.5)}, p95 ${quantile(delays, 0.95)} runs`);
    expect(quantile(delays, 0.5)).toBeLessThanOrEqual(20);
    expect(quantile(delays, 0.95)).toBeLessThanOrEqual(60);
  });
});

describe('layer attribution', () => {
  it('names the layer that moved (LLM) and when, and clears the others, though the whole turn moved too', () => {
    const r = rng(42);
    const base = (m: number) => Array.from({ length: 100 }, () => latency(r, m, 0.12));
    const at = new LayerAttribution({ asr: base(250), llm: base(600), tts: base(120), network: base(40), turn: base(1010) });
    for (let i = 0; i < 300; i++) {
      const llm = latency(r, i >= 150 ? 900 : 600, 0.12);
      const asr = latency(r, 250, 0.12), tts = latency(r, 120, 0.12), network = latency(r, 40, 0.12);
      at.push({ asr, llm, tts, network, turn: asr + llm + tts + network });
    }
    const shifts = at.shifts();
    expect(shifts.map((s) => s.layer)).toEqual(['llm', 'turn']);
    expect(Math.abs(shifts[0]!.changeAt - 150)).toBeLessThanOrEqual(3);
    expect(shifts[0]!.ratio).toBeGreaterThan(1.3);
  });
});

// A paraphrasing bot's answer to "what are the fees": opener, the policy, the disclosure it must make, a closer.
const pick = <T>(r: () => number, xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
const OPENERS = ['', 'Sure. ', 'Good question. ', 'Happy to help. ', 'Of course. '];
const POLICY = ['There is no monthly fee on the standard account.', 'The standard account has no monthly fee.', 'You pay no monthly fee on the standard account.', "There's no monthly charge on the standard account."];
const DISCLOSURE = [' International transfers cost five dollars.', ' An international transfer costs five dollars.', ' Each international transfer is five dollars.'];
const CLOSERS = ['', ' Anything else?', ' Is there anything else I can help with?'];
const FEE = ['There is a monthly fee of twelve dollars on the standard account.', 'The standard account costs twelve dollars a month.', 'You pay a twelve dollar monthly fee on the standard account.'];
const steadyReply = (r: () => number) => pick(r, OPENERS) + pick(r, POLICY) + pick(r, DISCLOSURE) + pick(r, CLOSERS);
const feeReply = (r: () => number) => pick(r, OPENERS) + pick(r, FEE) + ' International transfers are free.' + pick(r, CLOSERS);
const noDisclosureReply = (r: () => number) => pick(r, OPENERS) + pick(r, POLICY) + pick(r, CLOSERS);

describe('content drift (distance to the baseline\'s replies, lexical fallback; 3 of 5 runs beyond τ)', () => {
  it('raises under 0.5 false alarms per 1,000 steady runs of a paraphrasing bot, and finds a changed policy and a dropped disclosure', () => {
    let alarms = 0;
    let runs = 0;
    const delays: Record<'fee' | 'disclosure', number[]> = { fee: [], disclosure: [] };
    for (let s = 0; s < 60; s++) {
      const r = rng(20_000 + s);
      const accepted = Array.from({ length: 40 }, () => steadyReply(r));
      const b = contentBaseline(accepted, lexicalSimilarity);
      const texts = [...new Set(accepted)];
      // As the plane does: a text seen before is not scored again.
      const memo = new Map<string, number>();
      const distance = (t: string) => { let d = memo.get(t); if (d === undefined) { d = contentDistance(t, texts, lexicalSimilarity); memo.set(t, d); } return d; };
      let det = new ContentDetector(b);
      for (let i = 0; i < 2000; i++) {
        runs++;
        if (det.push(distance(steadyReply(r))).alarm) { alarms++; det.reset(); }
      }
      for (const [what, gen] of [['fee', feeReply], ['disclosure', noDisclosureReply]] as const) {
        det = new ContentDetector(b);
        for (let i = 0; i < 300; i++) if (det.push(distance(gen(r))).alarm) { delays[what].push(i + 1); break; }
      }
    }
    const per1000 = (1000 * alarms) / runs;
    console.log(`content drift: ${alarms} false alarms in ${runs} steady runs = ${per1000.toFixed(3)} per 1,000; fee answer found in ${delays.fee.length}/60, delay median ${quantile(delays.fee, 0.5)}, p95 ${quantile(delays.fee, 0.95)}; dropped disclosure ${delays.disclosure.length}/60, median ${quantile(delays.disclosure, 0.5)}, p95 ${quantile(delays.disclosure, 0.95)}`);
    expect(per1000).toBeLessThan(0.5);
    expect(delays.fee).toHaveLength(60);
    expect(delays.disclosure).toHaveLength(60);
    expect(quantile(delays.fee, 0.5)).toBeLessThanOrEqual(5);
    expect(quantile(delays.fee, 0.95)).toBeLessThanOrEqual(10);
    expect(quantile(delays.disclosure, 0.5)).toBeLessThanOrEqual(6);
    expect(quantile(delays.disclosure, 0.95)).toBeLessThanOrEqual(20);
  });

  it('finds a bot that always says the same words at the third changed run, and says where the change began', () => {
    const b = contentBaseline(Array(20).fill('There is no monthly fee on the standard account.'), lexicalSimilarity);
    expect(b.threshold).toBeCloseTo(0.05, 10);
    const det = new ContentDetector(b);
    for (let i = 0; i < 50; i++) expect(det.push(0).alarm).toBe(false);
    expect(det.push(0.4).alarm).toBe(false);
    expect(det.push(0.4).alarm).toBe(false);
    expect(det.push(0.4)).toMatchObject({ alarm: true, changeAt: 50 });
  });

  it('refuses a baseline too short to say how replies vary', () => {
    expect(() => contentBaseline(['a', 'b'], lexicalSimilarity)).toThrow(/at least 5/);
  });
});

describe('new failure modes (a signature the baseline never showed, in 2 of the last 10 runs)', () => {
  it('raises no false alarm over 200,000 runs with known failure kinds and rare one-off glitches; finds a mode in 20 % of runs after a median ≤ 10, 95th percentile ≤ 40', () => {
    let alarms = 0;
    const delays: number[] = [];
    for (let s = 0; s < 100; s++) {
      const r = rng(30_000 + s);
      const steady = () => [...(r() < 0.02 ? ['fees: contains'] : []), ...(r() < 0.01 ? ['fees: VIGIL_E_CHANNEL_TIMEOUT'] : []), ...(r() < 0.001 ? [`glitch-${Math.floor(r() * 1e9)}`] : [])];
      const det = new NewFailureDetector(['fees: contains', 'fees: VIGIL_E_CHANNEL_TIMEOUT']);
      for (let i = 0; i < 2000; i++) alarms += det.push(steady()).length;
      for (let i = 0; i < 500; i++) {
        const found = det.push([...steady(), ...(r() < 0.2 ? ['fees: judge "no invented fees"'] : [])]);
        if (found.length) { expect(found[0]!.signature).toBe('fees: judge "no invented fees"'); delays.push(i + 1); break; }
      }
    }
    console.log(`new failure modes: ${alarms} false alarms in 200,000 steady runs; a mode in 20 % of runs found in ${delays.length}/100, delay median ${quantile(delays, 0.5)}, p95 ${quantile(delays, 0.95)}`);
    expect(alarms).toBe(0);
    expect(delays).toHaveLength(100);
    expect(quantile(delays, 0.5)).toBeLessThanOrEqual(10);
    expect(quantile(delays, 0.95)).toBeLessThanOrEqual(40);
  });
});
