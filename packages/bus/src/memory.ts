/**
 * In-process run bus for the embedded default (no NATS). Same contract as JetStream within one process:
 * dedupe by run id, per-region FIFO, explicit ack, nak with delay, redelivery after ack wait, max deliveries.
 */
import type { RunRequest } from '@vigil/contract';
import type { ConsumeOptions, RegionQueueOptions, RunBus, Subscription } from './types.ts';
import { consumeLoop } from './consume-loop.ts';
import { checkRegion } from './jetstream.ts';

interface Entry { request: RunRequest; deliveries: number; availableAtMs: number; leasedUntilMs: number | null; done: boolean }

export class MemoryBus implements RunBus {
  readonly kind = 'memory' as const;
  readonly #queues = new Map<string, Entry[]>();
  readonly #seen = new Set<string>();
  readonly #opts = new Map<string, Required<RegionQueueOptions>>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #defaults: RegionQueueOptions;

  constructor(regionDefaults: RegionQueueOptions = {}) {
    this.#defaults = regionDefaults;
  }

  async ensureRegion(region: string, opts?: RegionQueueOptions): Promise<void> {
    checkRegion(region);
    if (!this.#queues.has(region)) this.#queues.set(region, []);
    if (opts || !this.#opts.has(region)) this.#opts.set(region, { ackWaitMs: opts?.ackWaitMs ?? this.#defaults.ackWaitMs ?? 30_000, maxDeliver: opts?.maxDeliver ?? this.#defaults.maxDeliver ?? 5 });
  }

  async publish(request: RunRequest): Promise<void> {
    if (!this.#queues.has(request.region)) await this.ensureRegion(request.region);
    if (this.#seen.has(request.runId)) return;
    this.#seen.add(request.runId);
    this.#queues.get(request.region)!.push({ request, deliveries: 0, availableAtMs: Date.now(), leasedUntilMs: null, done: false });
    this.#notify(request.region);
  }

  #notify(region: string): void {
    for (const w of this.#waiters.get(region) ?? []) w();
  }

  #take(region: string): Entry | undefined {
    const q = this.#queues.get(region) ?? [];
    const now = Date.now();
    const { maxDeliver } = this.#opts.get(region)!;
    for (let i = 0; i < q.length; i++) {
      const e = q[i]!;
      const leased = e.leasedUntilMs !== null && e.leasedUntilMs > now;
      if (e.done || (!leased && e.deliveries >= maxDeliver)) { q.splice(i--, 1); continue; }
      if (!leased && e.availableAtMs <= now) return e;
    }
    return undefined;
  }

  async consume(region: string, opts: ConsumeOptions): Promise<Subscription> {
    if (!this.#queues.has(region)) await this.ensureRegion(region);
    const { ackWaitMs } = this.#opts.get(region)!;
    const waiters = this.#waiters.get(region) ?? new Set();
    this.#waiters.set(region, waiters);
    let wake: (() => void) | undefined;
    const waker = () => wake?.();
    waiters.add(waker);
    const sub = consumeLoop(opts, async () => {
      const e = this.#take(region);
      if (!e) {
        // Woken by a publish or a nak, or after 200 ms (a delayed nak or an expired lease becoming available).
        await new Promise<void>((r) => { const t = setTimeout(r, 200); wake = () => { clearTimeout(t); r(); }; });
        return undefined;
      }
      e.deliveries++;
      e.leasedUntilMs = Date.now() + ackWaitMs;
      return {
        request: e.request,
        attempt: e.deliveries,
        async ack() { e.done = true; e.leasedUntilMs = null; },
        nak: (delayMs = 0) => { e.leasedUntilMs = null; e.availableAtMs = Date.now() + delayMs; this.#notify(region); },
        term() { e.done = true; },
        working() { e.leasedUntilMs = Date.now() + ackWaitMs; },
      };
    });
    return {
      get inFlight() { return sub.inFlight; },
      async drain() {
        wake?.();
        await sub.drain();
        waiters.delete(waker);
      },
    };
  }

  async close(): Promise<void> { /* nothing held */ }
}
