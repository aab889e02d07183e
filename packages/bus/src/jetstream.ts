/**
 * JetStream run bus. Stream VIGIL_RUNS (work-queue retention) holds subjects vigil.v1.runs.<region>; each
 * region has one durable pull consumer `runs-<region>` with explicit ack, so every probe of a region shares the
 * region's work and a run is removed only when a probe acks it.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { REGION_PATTERN, SUBJECTS, type RunRequest } from '@vigil/contract';
import { VigilError } from '@vigil/errors';
import type { ConsumeOptions, Delivery, RegionQueueOptions, RunBus, Subscription } from './types.ts';
import { consumeLoop } from './consume-loop.ts';

export const STREAM = 'VIGIL_RUNS';
const DUPLICATE_WINDOW_MS = 10 * 60_000;
const nanos = (ms: number) => ms * 1_000_000;

export interface JetStreamBusOptions {
  url: string;
  /** Connection name shown by the server. */
  name?: string;
  /** Stream name; tests use their own. @default VIGIL_RUNS */
  stream?: string;
  /** Subject prefix; tests use their own. @default vigil.v1.runs */
  subjectPrefix?: string;
  /** Queue settings used when this client creates a region's consumer (the plane passes its own). */
  regionDefaults?: RegionQueueOptions;
}

export function checkRegion(region: string): void {
  if (!REGION_PATTERN.test(region)) {
    throw new VigilError('VIGIL_E_REQUEST_INVALID', `region "${region}" is not valid`, { field: 'region', fix: 'use lowercase letters, digits and "-", e.g. "eu-west-1"' });
  }
}

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  try {
    return await connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 1000, timeout: 5000 });
  } catch (e) {
    throw new VigilError('VIGIL_E_BUS_UNAVAILABLE', `cannot connect to NATS at ${url}: ${(e as Error).message}`, { fix: 'check NATS_URL and that nats-server runs with -js', cause: e });
  }
}

export class JetStreamBus implements RunBus {
  readonly kind = 'jetstream' as const;
  readonly nc: NatsConnection;
  readonly #jsm: JetStreamManager;
  readonly #stream: string;
  readonly #prefix: string;
  #streamReady: Promise<void> | undefined;
  readonly #regions = new Map<string, Promise<void>>();
  readonly #defaults: RegionQueueOptions;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, stream: string, prefix: string, defaults: RegionQueueOptions) {
    this.#defaults = defaults;
    this.nc = nc;
    this.#jsm = jsm;
    this.#stream = stream;
    this.#prefix = prefix;
  }

  static async connect(opts: JetStreamBusOptions): Promise<JetStreamBus> {
    const nc = await connectNats(opts.url, opts.name ?? 'vigil');
    let jsm: JetStreamManager;
    try {
      jsm = await jetstreamManager(nc);
    } catch (e) {
      await nc.close();
      throw new VigilError('VIGIL_E_BUS_UNAVAILABLE', `NATS at ${opts.url} has no JetStream: ${(e as Error).message}`, { fix: 'start nats-server with -js', cause: e });
    }
    return new JetStreamBus(nc, jsm, opts.stream ?? STREAM, opts.subjectPrefix ?? 'vigil.v1.runs', opts.regionDefaults ?? {});
  }

  subject(region: string): string {
    return this.#prefix === 'vigil.v1.runs' ? SUBJECTS.runs(region) : `${this.#prefix}.${region}`;
  }

  #ensureStream(): Promise<void> {
    this.#streamReady ??= (async () => {
      try {
        await this.#jsm.streams.info(this.#stream);
      } catch {
        try {
          await this.#jsm.streams.add({
            name: this.#stream, subjects: [`${this.#prefix}.>`], retention: RetentionPolicy.Workqueue, storage: StorageType.File,
            duplicate_window: nanos(DUPLICATE_WINDOW_MS),
          });
        } catch (e) {
          // Another plane or probe created it first.
          if (!/already in use|exists/i.test((e as Error).message)) throw e;
        }
      }
    })().catch((e) => { this.#streamReady = undefined; throw new VigilError('VIGIL_E_BUS_UNAVAILABLE', `cannot create stream ${this.#stream}: ${(e as Error).message}`, { cause: e }); });
    return this.#streamReady;
  }

  /**
   * With options (the plane), the consumer is created or brought to them; without (a probe), it is created
   * with defaults only when missing, so a probe never overrides the plane's settings.
   */
  ensureRegion(region: string, opts?: RegionQueueOptions): Promise<void> {
    checkRegion(region);
    let p = this.#regions.get(region);
    if (!p) {
      p = (async () => {
        await this.#ensureStream();
        const durable = `runs-${region}`;
        const config = {
          durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: this.subject(region),
          ack_wait: nanos(opts?.ackWaitMs ?? this.#defaults.ackWaitMs ?? 30_000), max_deliver: opts?.maxDeliver ?? this.#defaults.maxDeliver ?? 5, max_ack_pending: 10_000,
        };
        try {
          const info = await this.#jsm.consumers.info(this.#stream, durable);
          if (opts && (info.config.ack_wait !== config.ack_wait || info.config.max_deliver !== config.max_deliver)) {
            await this.#jsm.consumers.update(this.#stream, durable, { ack_wait: config.ack_wait, max_deliver: config.max_deliver });
          }
        } catch {
          try {
            await this.#jsm.consumers.add(this.#stream, config);
          } catch (e) {
            if (!/already in use|exists/i.test((e as Error).message)) throw e;
          }
        }
      })().catch((e) => { this.#regions.delete(region); throw e instanceof VigilError ? e : new VigilError('VIGIL_E_BUS_UNAVAILABLE', `cannot create the queue for region ${region}: ${(e as Error).message}`, { cause: e }); });
      this.#regions.set(region, p);
    }
    return p;
  }

  async publish(request: RunRequest): Promise<void> {
    await this.ensureRegion(request.region);
    try {
      await jetstream(this.nc).publish(this.subject(request.region), JSON.stringify(request), { msgID: request.runId, timeout: 5000 });
    } catch (e) {
      throw new VigilError('VIGIL_E_BUS_UNAVAILABLE', `publish of run ${request.runId} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  async consume(region: string, opts: ConsumeOptions): Promise<Subscription> {
    await this.ensureRegion(region);
    const consumer = await jetstream(this.nc).consumers.get(this.#stream, `runs-${region}`);
    return consumeLoop(opts, async () => {
      let m: JsMsg | null;
      try {
        m = await consumer.next({ expires: 2000 });
      } catch (e) {
        opts.onError?.(e);
        await new Promise((r) => setTimeout(r, 1000));
        return undefined;
      }
      return m ? toDelivery(m) : undefined;
    });
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }
}

function toDelivery(m: JsMsg): Delivery | undefined {
  let request: RunRequest;
  try {
    request = m.json<RunRequest>();
    if (typeof request.runId !== 'string') throw new Error('no runId');
  } catch (e) {
    m.term(`not a run request: ${(e as Error).message}`);
    return undefined;
  }
  return {
    request,
    attempt: m.info.deliveryCount,
    async ack() {
      const ok = await m.ackAck({ timeout: 5000 }).catch(() => false);
      if (!ok) throw new VigilError('VIGIL_E_BUS_UNAVAILABLE', `ack of run ${request.runId} was not confirmed`, { fix: 'the run will be redelivered; its result is already stored, so the plane ignores the repeat' });
    },
    nak(delayMs) { m.nak(delayMs); },
    term(reason) { m.term(reason); },
    working() { m.working(); },
  };
}
