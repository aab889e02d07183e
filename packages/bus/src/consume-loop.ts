import type { ConsumeOptions, Delivery, Subscription } from './types.ts';

/**
 * The consume loop both buses share: it takes a delivery only while a slot is free (so a probe never holds more
 * runs than it can work on), runs handlers concurrently, and on drain stops taking, gives back a delivery that
 * arrived too late, and waits for the handlers in flight. `take` waits a bounded time and may return nothing.
 */
export function consumeLoop(opts: ConsumeOptions, take: () => Promise<Delivery | undefined>): Subscription {
  let stopping = false;
  let inFlight = 0;
  const running = new Set<Promise<void>>();
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopping) {
      if (inFlight >= opts.concurrency) {
        await new Promise<void>((r) => { wake = r; });
        continue;
      }
      const d = await take();
      if (!d) continue;
      if (stopping) { d.nak(); break; }
      inFlight++;
      const p = opts.handler(d).catch((e) => opts.onError?.(e)).finally(() => {
        inFlight--;
        running.delete(p);
        wake?.();
      });
      running.add(p);
    }
  })();
  return {
    get inFlight() { return inFlight; },
    async drain() {
      stopping = true;
      wake?.();
      await loop;
      await Promise.allSettled([...running]);
    },
  };
}
