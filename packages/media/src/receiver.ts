/**
 * Receive side of one RTP stream: RFC 3550 Appendix A statistics (extended sequence numbers, loss, interarrival
 * jitter), duplicate and reorder counting, SSRC changes, and the reconstruction of the far end's audio on its
 * own media clock (TrackAssembler), so timings come from RTP timestamps, never from arrival times.
 */
import { seqDelta, tsDelta, type RtpPacket } from './rtp.ts';
import type { ReportBlock } from './rtcp.ts';

export interface ReceiveStats {
  ssrc: number | null;
  received: number;
  duplicates: number;
  reordered: number;
  /** Packets expected from the sequence numbers minus packets received (never negative here). */
  lost: number;
  expected: number;
  /** RFC 3550 interarrival jitter, in milliseconds. */
  jitterMs: number;
  ssrcChanges: number;
}

export class RtpReceiveStats {
  readonly clockRate: number;
  #ssrc: number | null = null;
  #baseSeq = 0;
  #maxSeq = 0;
  #cycles = 0;
  #received = 0;
  #duplicates = 0;
  #reordered = 0;
  #ssrcChanges = 0;
  #jitter = 0; // timestamp units, scaled as RFC 3550 A.8 (float here)
  #lastTransit: number | null = null;
  readonly #recent = new Set<number>();
  #priorExpected = 0;
  #priorReceived = 0;

  constructor(clockRate: number) {
    this.clockRate = clockRate;
  }

  /**
   * Feeds one packet with its arrival time (ms, any monotonic clock). Returns false for a duplicate.
   * `timing: false` counts the packet without using its timestamp for jitter (RFC 4733 events repeat theirs).
   */
  push(p: RtpPacket, arrivalMs: number, timing = true): boolean {
    if (this.#ssrc !== p.ssrc) {
      if (this.#ssrc !== null) this.#ssrcChanges++;
      this.#ssrc = p.ssrc;
      this.#baseSeq = p.sequenceNumber;
      this.#maxSeq = p.sequenceNumber;
      this.#cycles = 0;
      this.#received = 0;
      this.#lastTransit = null;
      this.#recent.clear();
      this.#priorExpected = 0;
      this.#priorReceived = 0;
    }
    const ext = this.#extend(p.sequenceNumber);
    if (this.#recent.has(ext)) { this.#duplicates++; return false; }
    this.#recent.add(ext);
    if (this.#recent.size > 1024) this.#recent.delete(this.#recent.values().next().value as number);
    this.#received++;
    if (!timing) return true;
    const transit = (arrivalMs * this.clockRate) / 1000 - p.timestamp;
    if (this.#lastTransit !== null) {
      // Transit difference modulo 2^32 timestamps (wrap-safe through tsDelta on the timestamp part).
      const d = Math.abs(transit - this.#lastTransit);
      this.#jitter += (d - this.#jitter) / 16;
    }
    this.#lastTransit = transit;
    return true;
  }

  #extend(seq: number): number {
    const highest = this.#cycles + this.#maxSeq;
    const delta = seqDelta(this.#maxSeq, seq);
    if (delta > 0) {
      if (seq < this.#maxSeq) this.#cycles += 0x10000;
      this.#maxSeq = seq;
      return this.#cycles + seq;
    }
    if (delta < 0) this.#reordered++;
    return highest + delta;
  }

  get stats(): ReceiveStats {
    const expected = this.#ssrc === null ? 0 : this.#cycles + this.#maxSeq - this.#baseSeq + 1;
    return {
      ssrc: this.#ssrc, received: this.#received, duplicates: this.#duplicates, reordered: this.#reordered,
      lost: Math.max(0, expected - this.#received), expected, jitterMs: (this.#jitter * 1000) / this.clockRate, ssrcChanges: this.#ssrcChanges,
    };
  }

  /** An RTCP report block for this stream; fraction lost covers the interval since the previous call. */
  reportBlock(lastSr = 0, delaySinceLastSr = 0): ReportBlock {
    const s = this.stats;
    const expectedInterval = s.expected - this.#priorExpected;
    const receivedInterval = s.received - this.#priorReceived;
    this.#priorExpected = s.expected;
    this.#priorReceived = s.received;
    const lostInterval = expectedInterval - receivedInterval;
    return {
      ssrc: s.ssrc ?? 0, fractionLost: expectedInterval <= 0 || lostInterval <= 0 ? 0 : lostInterval / expectedInterval,
      cumulativeLost: s.expected - s.received, extendedHighestSeq: (this.#cycles + this.#maxSeq) >>> 0, jitter: this.#jitter, lastSr, delaySinceLastSr,
    };
  }
}

/**
 * Rebuilds the far end's audio on its media clock: each packet's samples land at (timestamp − first
 * timestamp); lost packets leave silence and are listed; late and duplicate packets fill their slot if still
 * empty. Used for recording and for timing analysis.
 */
export class TrackAssembler {
  readonly sampleRate: number;
  #ts0: number | null = null;
  #ssrc: number | null = null;
  #offset = 0; // samples added on SSRC change, so a new stream continues the track
  #samples = new Int16Array(0);
  #filled = new Uint8Array(0);
  #length = 0;
  /** Arrival time (ms) minus media time (ms) per packet; the minimum is the least-delayed packet. */
  #minTransitMs = Infinity;

  constructor(sampleRate: number) {
    this.sampleRate = sampleRate;
  }

  push(p: RtpPacket, pcm: Int16Array, arrivalMs?: number): void {
    if (this.#ssrc !== p.ssrc) {
      if (this.#ssrc !== null) { this.#offset = this.#length; }
      this.#ssrc = p.ssrc;
      this.#ts0 = p.timestamp;
    }
    const at = this.#offset + tsDelta(this.#ts0!, p.timestamp);
    if (at < 0) return;
    this.#ensure(at + pcm.length);
    for (let i = 0; i < pcm.length; i++) {
      if (!this.#filled[at + i]) { this.#samples[at + i] = pcm[i]!; this.#filled[at + i] = 1; }
    }
    this.#length = Math.max(this.#length, at + pcm.length);
    if (arrivalMs !== undefined) this.#minTransitMs = Math.min(this.#minTransitMs, arrivalMs - (at * 1000) / this.sampleRate);
  }

  #ensure(n: number): void {
    if (n <= this.#samples.length) return;
    const cap = Math.max(n, this.#samples.length * 2, 8000);
    const s = new Int16Array(cap); s.set(this.#samples);
    const f = new Uint8Array(cap); f.set(this.#filled);
    this.#samples = s;
    this.#filled = f;
  }

  /** The audio so far, silence where packets never arrived. */
  get pcm(): Int16Array { return this.#samples.slice(0, this.#length); }

  /** Sample ranges that no packet filled. */
  gaps(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let start = -1;
    for (let i = 0; i < this.#length; i++) {
      if (!this.#filled[i] && start < 0) start = i;
      if (this.#filled[i] && start >= 0) { out.push([start, i]); start = -1; }
    }
    if (start >= 0) out.push([start, this.#length]);
    return out;
  }

  /**
   * Maps a sample index of this track to the local clock: media time plus the smallest observed transit
   * (network delay of the least-jittered packet), i.e. when the caller could first have heard it.
   */
  sampleToLocalMs(sample: number): number {
    return (sample * 1000) / this.sampleRate + this.#minTransitMs;
  }

  /**
   * Maps an RTP timestamp of the current stream (in this track's sample rate) to the local clock, as
   * sampleToLocalMs does; undefined before any audio of that SSRC arrived.
   */
  timestampToLocalMs(timestamp: number, ssrc: number): number | undefined {
    if (this.#ssrc !== ssrc || this.#ts0 === null || !Number.isFinite(this.#minTransitMs)) return undefined;
    return this.sampleToLocalMs(this.#offset + tsDelta(this.#ts0, timestamp));
  }
}
