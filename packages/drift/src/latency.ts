/**
 * Latency drift: a two-sided CUSUM (Page 1954) on log latency, standardised by a baseline's robust centre and
 * spread (median, 1.4826 × MAD). Log latency because latencies are skewed and a slowdown multiplies them.
 *
 * Defaults k = 0.5, h = 10 (in baseline standard deviations). With the spread known, Siegmund's approximation
 * puts the average run length to a false alarm near 70,000 runs per direction; a baseline of 100 runs is an
 * estimate, which costs more: measured on generated log-normal series (`drift.test.ts`), fewer than 0.5 false
 * alarms per 1,000 steady runs (0.34 measured); a step of two baseline deviations found after a median of
 * ≤ 8 runs (95th percentile ≤ 12), one deviation after a median ≤ 30 (95th percentile ≤ 120) in at least 195
 * of 200 series — a step that small is within what a 100-run baseline's estimate can be off by.
 * The change point reported is the last run at which the alarming side of the CUSUM was at zero.
 */

export interface Baseline {
  /** Median of ln(latency ms). */
  center: number;
  /** 1.4826 × MAD of ln(latency ms), floored so a perfectly steady baseline does not make every jitter a shift. */
  spread: number;
  n: number;
}

export const MIN_SPREAD = 0.01; // 1 % in log space

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A baseline from accepted latencies (ms); at least 20 values. */
export function latencyBaseline(valuesMs: number[]): Baseline {
  const logs = valuesMs.filter((v) => v > 0 && Number.isFinite(v)).map(Math.log);
  if (logs.length < 20) throw new RangeError(`a latency baseline needs at least 20 positive values, got ${logs.length}`);
  const center = median(logs);
  const mad = median(logs.map((x) => Math.abs(x - center)));
  return { center, spread: Math.max(MIN_SPREAD, 1.4826 * mad), n: logs.length };
}

export interface CusumOptions {
  /** Allowance, in baseline deviations: half the shift to detect fastest. @default 0.5 */
  k?: number;
  /** Decision threshold, in baseline deviations. @default 10 */
  h?: number;
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
  #s: CusumState = { up: 0, down: 0, upZeroAt: -1, downZeroAt: -1, n: 0 };
  readonly #z: number[] = [];

  constructor(baseline: Baseline, o: CusumOptions = {}) {
    this.baseline = baseline;
    this.k = o.k ?? 0.5;
    this.h = o.h ?? 10;
  }

  get state(): Readonly<CusumState> { return this.#s; }

  push(valueMs: number): LatencyVerdict {
    const z = (Math.log(Math.max(valueMs, 1e-3)) - this.baseline.center) / this.baseline.spread;
    const s = this.#s;
    const i = s.n++;
    this.#z.push(z);
    s.up = Math.max(0, s.up + z - this.k);
    s.down = Math.max(0, s.down - z - this.k);
    if (s.up === 0) s.upZeroAt = i;
    if (s.down === 0) s.downZeroAt = i;
    const alarm = s.up > this.h ? 'up' : s.down > this.h ? 'down' : null;
    if (!alarm) return { alarm, changeAt: null, statistic: Math.max(s.up, s.down), ratio: null };
    const changeAt = (alarm === 'up' ? s.upZeroAt : s.downZeroAt) + 1;
    const since = this.#z.slice(changeAt);
    const meanZ = since.reduce((a, b) => a + b, 0) / Math.max(1, since.length);
    return { alarm, changeAt, statistic: alarm === 'up' ? s.up : s.down, ratio: Math.exp(meanZ * this.baseline.spread) };
  }

  /** Starts over (after an alarm was acknowledged, or a re-baseline). */
  reset(): void {
    this.#s = { up: 0, down: 0, upZeroAt: this.#s.n - 1, downZeroAt: this.#s.n - 1, n: this.#s.n };
  }
}
