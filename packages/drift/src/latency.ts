/**
 * Latency drift: a two-sided CUSUM (Page 1954) on log latency, standardised by a baseline's robust centre and
 * spread (median, 1.4826 × MAD). Log latency because latencies are skewed and a slowdown multiplies them.
 *
 * Defaults k = 0.5 plus the baseline median's standard error (1.2533/√n deviations: a baseline is an estimate,
 * and a shift within its own error is no evidence), h = 10, each observation clipped at 4 deviations (in
 * baseline standard deviations; the spread is floored for practical significance, see Baseline.spread).
 * Measured on generated log-normal series (`drift.test.ts`, 100-run baselines): fewer than 0.5 false alarms per
 * 1,000 steady runs (0.12 measured); a step of two baseline deviations found after a median of ≤ 8 runs (95th
 * percentile ≤ 14), one deviation after a median ≤ 30 (95th percentile ≤ 120) in at least 195 of 200 series.
 * On a recorded series of real calls (`recorded.test.ts`, a 20-call baseline): 0.15 alarms per 1,000 steady
 * calls for all of a series' detectors together.
 * The change point: within the CUSUM's current excursion (since its alarming side was last zero), the split that
 * maximises the likelihood of a step from the baseline to the excursion's mean — Σ_{i≥τ} (z_i − δ/2), δ the
 * excursion's mean z — so a steady blip that lifted the statistic shortly before the change is not counted as
 * part of it. The last 1,000 standardised values are kept for this (memory stays constant).
 */

export interface Baseline {
  /** Median of ln(max(latency, floor)). */
  center: number;
  /**
   * 1.4826 × MAD of ln(max(latency, floor)), at least MIN_SPREAD and at least 2·ln(1 + max(floor / median,
   * MIN_RELATIVE)): practical significance — a change smaller than `floor` (20 ms) or than 5 % sits at the
   * CUSUM's allowance (k = 0.5 deviations) and never accumulates, so a short baseline's small spread cannot turn
   * a few ms of scheduler noise into an alarm; four times that change counts as about two deviations.
   */
  spread: number;
  n: number;
  /**
   * Values below this count as this (ms for latencies; MIN_EFFECT_MS by default): on a measure of a few ms (RTT
   * and jitter on a LAN, a rule-based dialogue step) log latency would magnify noise into "shifts" no caller
   * could notice. Absent on baselines made before it (no clamping).
   */
  floor?: number;
}

export const MIN_SPREAD = 0.01; // 1 % in log space
/** Changes smaller than this (ms) are not worth an alarm, whatever the baseline's spread. */
export const MIN_EFFECT_MS = 20;
/** Nor are changes smaller than this fraction. */
export const MIN_RELATIVE = 0.05;
const RECENT = 1_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A baseline from accepted latencies (ms); at least 20 values. `minEffect`: the floor, in the values' unit. */
export function latencyBaseline(valuesMs: number[], o: { minEffect?: number; minRelative?: number } = {}): Baseline {
  const floor = o.minEffect ?? MIN_EFFECT_MS;
  const logs = valuesMs.filter((v) => v > 0 && Number.isFinite(v)).map((v) => Math.log(Math.max(v, floor)));
  if (logs.length < 20) throw new RangeError(`a latency baseline needs at least 20 positive values, got ${logs.length}`);
  const center = median(logs);
  const mad = median(logs.map((x) => Math.abs(x - center)));
  const practical = 2 * Math.log(1 + Math.max(floor / Math.exp(center), o.minRelative ?? MIN_RELATIVE));
  return { center, spread: Math.max(MIN_SPREAD, practical, 1.4826 * mad), n: logs.length, floor };
}

export interface CusumOptions {
  /** Allowance, in baseline deviations: half the shift to detect fastest; the baseline median's standard error (1.2533/√n) is added. @default 0.5 */
  k?: number;
  /** Decision threshold, in baseline deviations. @default 10 */
  h?: number;
  /**
   * Each observation moves the statistic by at most this many deviations (a winsorised CUSUM): one slow call —
   * recognisers and GC have heavy tails — cannot carry the statistic to h alone; three in a row can. @default 4
   */
  clip?: number;
}

export interface CusumState {
  /** Upward and downward statistics. */
  up: number;
  down: number;
  /** Index of the last observation at which each side was zero (the change is estimated just after). */
  upZeroAt: number;
  downZeroAt: number;
  n: number;
}

export interface LatencyVerdict {
  alarm: 'up' | 'down' | null;
  /** Index of the first observation after the estimated change (when alarmed). */
  changeAt: number | null;
  statistic: number;
  /** exp(mean log ratio since the change): how many times slower (or faster) it has become. */
  ratio: number | null;
}

export class LatencyCusum {
  readonly baseline: Baseline;
  readonly k: number;
  readonly h: number;
  readonly clip: number;
  #s: CusumState = { up: 0, down: 0, upZeroAt: -1, downZeroAt: -1, n: 0 };
  /** Sum and count of z since each side was last zero (the ratio since the change), so memory stays constant. */
  #upSum = { sum: 0, n: 0 };
  #downSum = { sum: 0, n: 0 };
  /** The last RECENT standardised values; #recent[j] is observation n − #recent.length + j. */
  readonly #recent: number[] = [];

  constructor(baseline: Baseline, o: CusumOptions = {}) {
    this.baseline = baseline;
    // The baseline's median is itself an estimate (standard error 1.2533/√n deviations): a shift within it is not
    // evidence of change, so it is added to the allowance (0.78 for a 20-run baseline, 0.63 for 100 runs).
    this.k = (o.k ?? 0.5) + 1.2533 / Math.sqrt(Math.max(1, baseline.n));
    this.clip = o.clip ?? 4;
    this.h = o.h ?? 10;
  }

  get state(): Readonly<CusumState> { return this.#s; }

  push(valueMs: number): LatencyVerdict {
    const z = (Math.log(Math.max(valueMs, this.baseline.floor ?? 1e-3)) - this.baseline.center) / this.baseline.spread;
    const s = this.#s;
    const i = s.n++;
    const zc = Math.max(-this.clip, Math.min(this.clip, z));
    s.up = Math.max(0, s.up + zc - this.k);
    s.down = Math.max(0, s.down - zc - this.k);
    this.#recent.push(z);
    if (this.#recent.length > RECENT) this.#recent.shift();
    if (s.up === 0) { s.upZeroAt = i; this.#upSum = { sum: 0, n: 0 }; } else { this.#upSum.sum += z; this.#upSum.n++; }
    if (s.down === 0) { s.downZeroAt = i; this.#downSum = { sum: 0, n: 0 }; } else { this.#downSum.sum += z; this.#downSum.n++; }
    const alarm = s.up > this.h ? 'up' : s.down > this.h ? 'down' : null;
    if (!alarm) return { alarm, changeAt: null, statistic: Math.max(s.up, s.down), ratio: null };
    const sign = alarm === 'up' ? 1 : -1;
    const excursionFrom = Math.max((alarm === 'up' ? s.upZeroAt : s.downZeroAt) + 1, s.n - this.#recent.length);
    const since = alarm === 'up' ? this.#upSum : this.#downSum;
    const half = (sign * since.sum) / Math.max(1, since.n) / 2;
    // Best split: the largest suffix sum of (sign·z − δ/2) within the excursion.
    let best = -Infinity, changeAt = excursionFrom, acc = 0, sum = 0, count = 0;
    for (let j = s.n - 1; j >= excursionFrom; j--) {
      const z = this.#recent[j - (s.n - this.#recent.length)]!;
      acc += sign * z - half;
      if (acc >= best) { best = acc; changeAt = j; }
    }
    for (let j = changeAt; j < s.n; j++) { sum += this.#recent[j - (s.n - this.#recent.length)]!; count++; }
    return { alarm, changeAt, statistic: alarm === 'up' ? s.up : s.down, ratio: Math.exp((sum / Math.max(1, count)) * this.baseline.spread) };
  }

  /** Starts over (after an alarm was acknowledged, or a re-baseline). */
  reset(): void {
    this.#s = { up: 0, down: 0, upZeroAt: this.#s.n - 1, downZeroAt: this.#s.n - 1, n: this.#s.n };
    this.#upSum = { sum: 0, n: 0 };
    this.#downSum = { sum: 0, n: 0 };
  }
}
