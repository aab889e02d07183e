/**
 * Which layer moved: one latency CUSUM per layer (ASR, intent, LLM, TTS, network/setup, handoff…) of the same
 * runs; when the end-to-end measure alarms, the layers that alarmed too are named, earliest estimated change
 * first, with how many times slower they became. A layer that moved with the whole is the cause; one that did
 * not is cleared.
 */
import { LatencyCusum, latencyBaseline, type CusumOptions, type LatencyVerdict } from './latency.ts';

export interface LayerShift { layer: string; direction: 'up' | 'down'; changeAt: number; ratio: number }

export class LayerAttribution {
  readonly #layers = new Map<string, LatencyCusum>();
  readonly #alarms = new Map<string, LatencyVerdict>();

  /** `baselines`: accepted latencies per layer (ms), each at least 20 values. */
  constructor(baselines: Record<string, number[]>, o: CusumOptions = {}) {
    for (const [layer, values] of Object.entries(baselines)) this.#layers.set(layer, new LatencyCusum(latencyBaseline(values), o));
  }

  /** One run's per-layer latencies (layers not measured in this run are skipped). */
  push(run: Record<string, number | undefined>): void {
    for (const [layer, det] of this.#layers) {
      const v = run[layer];
      if (v === undefined || !(v > 0)) continue;
      const r = det.push(v);
      if (r.alarm && !this.#alarms.has(layer)) this.#alarms.set(layer, r);
    }
  }

  /** Layers that moved, earliest change first. */
  shifts(): LayerShift[] {
    return [...this.#alarms].map(([layer, r]) => ({ layer, direction: r.alarm!, changeAt: r.changeAt!, ratio: r.ratio! }))
      .sort((a, b) => a.changeAt - b.changeAt || b.ratio - a.ratio);
  }
}
