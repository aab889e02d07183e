import type { RunRequest } from '@vigil/contract';

/** One delivery of a run request to a probe. */
export interface Delivery {
  readonly request: RunRequest;
  /** 1 on first delivery, then 2, 3 … on redelivery. */
  readonly attempt: number;
  /** Done: the plane has durably stored the final result. */
  ack(): Promise<void>;
  /** Give it back for redelivery after delayMs. */
  nak(delayMs?: number): void;
  /** Never redeliver (poison message). */
  term(reason: string): void;
  /** Still working: resets the ack-wait timer. */
  working(): void;
}

export interface ConsumeOptions {
  /** Runs taken at once; the consumer asks the queue for no more than the free slots. */
  concurrency: number;
  /** Called without awaiting; the returned promise frees the slot when it settles. */
  handler: (d: Delivery) => Promise<void>;
  onError?: (e: unknown) => void;
}

export interface Subscription {
  /** Stops taking new deliveries and resolves when in-flight handlers have finished. */
  drain(): Promise<void>;
  readonly inFlight: number;
}

export interface RegionQueueOptions {
  /** How long a delivery may go without ack or working() before it is redelivered. @default 30000 */
  ackWaitMs?: number;
  /** Deliveries before a run request is given up. @default 5 */
  maxDeliver?: number;
}

export interface RunBus {
  readonly kind: 'jetstream' | 'memory';
  /** Idempotent: creates the stream and the region's durable consumer if missing; with opts, applies them. */
  ensureRegion(region: string, opts?: RegionQueueOptions): Promise<void>;
  /** Publishes with the run id as message id, so a republish within the dedupe window is dropped. */
  publish(request: RunRequest): Promise<void>;
  consume(region: string, opts: ConsumeOptions): Promise<Subscription>;
  close(): Promise<void>;
}
