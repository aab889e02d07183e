/**
 * Paced RTP sending. Packet n carries timestamp ts0 + n·samplesPerPacket — the media clock — and is due at
 * t0 + n·ptime on the monotonic clock. The timer only wakes the loop; when the event loop was late, the packets
 * that fell due are sent at once (their timestamps stay exact), so the media clock never drifts. Send lateness
 * (actual − due) is recorded for the jitter figures.
 */
import { randomInt } from 'node:crypto';
import { encodeRtp } from './rtp.ts';

export interface PacedSenderOptions {
  payloadType: number;
  clockRate: number;
  ptimeMs: number;
  /** Called with each datagram. */
  send: (datagram: Buffer) => void;
  /** Next frame's payload, or null for end of media (a frame is ptime of audio). */
  nextFrame: () => Uint8Array | null;
  ssrc?: number;
  now?: () => number;
}

export class PacedSender {
  readonly ssrc: number;
  readonly #o: PacedSenderOptions;
  #seq = randomInt(0, 0x10000);
  readonly ts0 = randomInt(0, 2 ** 32 - 1);
  #n = 0;
  #t0 = 0;
  #timer: NodeJS.Timeout | undefined;
  #done!: Promise<void>;
  #resolve!: () => void;
  #marker = true;
  readonly lateness: number[] = [];
  packets = 0;
  octets = 0;

  constructor(o: PacedSenderOptions) {
    this.#o = o;
    this.ssrc = o.ssrc ?? randomInt(1, 2 ** 32 - 1);
  }

  get samplesPerPacket(): number { return Math.round((this.#o.clockRate * this.#o.ptimeMs) / 1000); }
  /** RTP timestamp of the next packet. */
  get nextTimestamp(): number { return (this.ts0 + this.#n * this.samplesPerPacket) >>> 0; }

  start(): Promise<void> {
    const now = this.#o.now ?? (() => performance.now());
    this.#t0 = now();
    this.#done = new Promise((r) => { this.#resolve = r; });
    const tick = () => {
      const t = now();
      while (this.#t0 + this.#n * this.#o.ptimeMs <= t) {
        const frame = this.#o.nextFrame();
        if (frame === null) { this.#resolve(); return; }
        this.lateness.push(t - (this.#t0 + this.#n * this.#o.ptimeMs));
        const pkt = encodeRtp({ marker: this.#marker, payloadType: this.#o.payloadType, sequenceNumber: this.#seq, timestamp: this.nextTimestamp, ssrc: this.ssrc, payload: frame });
        this.#marker = false;
        this.#seq = (this.#seq + 1) & 0xffff;
        this.#n++;
        this.packets++;
        this.octets += frame.length;
        this.#o.send(pkt);
      }
      this.#timer = setTimeout(tick, Math.max(0, this.#t0 + this.#n * this.#o.ptimeMs - now()));
    };
    tick();
    return this.#done;
  }

  /** Marks the next packet as the start of a talkspurt (after silence suppression). */
  markTalkspurt(): void { this.#marker = true; }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
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
