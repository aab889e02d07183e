/**
 * Paced RTP sending. Packet n carries timestamp ts0 + n·samplesPerPacket — the media clock — and is due at
 * t0 + n·ptime on the monotonic clock. A shared Pacer only wakes the senders; when the event loop was late,
 * the packets that fell due are sent at once (their timestamps stay exact), so the media clock never drifts.
 * Send lateness (actual − due) is recorded for the jitter figures.
 */
import { randomInt } from 'node:crypto';
import { encodeRtp } from './rtp.ts';

/**
 * One timer for many streams: senders register their next deadline; the pacer sleeps until the earliest one
 * and then runs every sender that is due. Hundreds of streams cost one timer instead of hundreds.
 */
export class Pacer {
  readonly #heap: Array<{ at: number; run: () => number | null }> = [];
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Infinity;
  readonly now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.now = now;
  }

  /** `run` returns its next deadline, or null when done. */
  schedule(at: number, run: () => number | null): void {
    this.#push({ at, run });
    this.#arm();
  }

  #push(e: { at: number; run: () => number | null }): void {
    const h = this.#heap;
    h.push(e);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= h[i]!.at) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  #pop(): { at: number; run: () => number | null } {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.at < h[m]!.at) m = l;
        if (r < h.length && h[r]!.at < h[m]!.at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }

  #arm(): void {
    const next = this.#heap[0]?.at;
    if (next === undefined || next >= this.#armedFor) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#armedFor = next;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, next - this.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const t = this.now();
    while (this.#heap.length && this.#heap[0]!.at <= t) {
      const e = this.#pop();
      const next = e.run();
      if (next !== null) this.#push({ at: next, run: e.run });
    }
    this.#arm();
  }
}

let defaultPacer: Pacer | undefined;

export interface PacedSenderOptions {
  payloadType: number;
  clockRate: number;
  ptimeMs: number;
  /** Called with each datagram. */
  send: (datagram: Buffer) => void;
  /** Next frame's payload, or null for end of media (a frame is ptime of audio). */
  nextFrame: () => Uint8Array | null;
  ssrc?: number;
  /** Shared pacer; by default one per process. */
  pacer?: Pacer;
}

export class PacedSender {
  readonly ssrc: number;
  readonly #o: PacedSenderOptions;
  readonly #pacer: Pacer;
  #seq = randomInt(0, 0x10000);
  readonly ts0 = randomInt(0, 2 ** 32 - 1);
  #n = 0;
  #t0 = 0;
  #stopped = false;
  #done!: Promise<void>;
  #resolve!: () => void;
  #marker = true;
  readonly lateness: number[] = [];
  packets = 0;
  octets = 0;

  constructor(o: PacedSenderOptions) {
    this.#o = o;
    this.#pacer = o.pacer ?? (defaultPacer ??= new Pacer());
    this.ssrc = o.ssrc ?? randomInt(1, 2 ** 32 - 1);
  }

  get samplesPerPacket(): number { return Math.round((this.#o.clockRate * this.#o.ptimeMs) / 1000); }
  /** RTP timestamp of the next packet. */
  get nextTimestamp(): number { return (this.ts0 + this.#n * this.samplesPerPacket) >>> 0; }

  start(): Promise<void> {
    this.#t0 = this.#pacer.now();
    this.#done = new Promise((r) => { this.#resolve = r; });
    const run = (): number | null => {
      if (this.#stopped) return null;
      const t = this.#pacer.now();
      while (this.#t0 + this.#n * this.#o.ptimeMs <= t) {
        const frame = this.#o.nextFrame();
        if (frame === null) { this.#resolve(); return null; }
        this.lateness.push(t - (this.#t0 + this.#n * this.#o.ptimeMs));
        const pkt = encodeRtp({ marker: this.#marker, payloadType: this.#o.payloadType, sequenceNumber: this.#seq, timestamp: this.nextTimestamp, ssrc: this.ssrc, payload: frame });
        this.#marker = false;
        this.#seq = (this.#seq + 1) & 0xffff;
        this.#n++;
        this.packets++;
        this.octets += frame.length;
        this.#o.send(pkt);
      }
      return this.#t0 + this.#n * this.#o.ptimeMs;
    };
    this.#pacer.schedule(this.#t0, run);
    return this.#done;
  }

  stop(): void {
    this.#stopped = true;
    this.#resolve?.();
  }
}

/** Splits PCM into ptime frames and encodes each (e.g. G.711), for PacedSender.nextFrame. */
export function frameSource(pcm: Int16Array, samplesPerFrame: number, encode: (f: Int16Array) => Uint8Array): () => Uint8Array | null {
  let pos = 0;
  return () => {
    if (pos >= pcm.length) return null;
    const f = new Int16Array(samplesPerFrame);
    f.set(pcm.subarray(pos, pos + samplesPerFrame));
    pos += samplesPerFrame;
    return encode(f);
  };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
