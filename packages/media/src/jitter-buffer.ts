/**
 * Playout jitter buffer for real-time consumers (live VAD for barge-in, live ASR): frames come out in media
 * order, one per ptime, `delayMs` after their media time (anchored at the first packet's arrival). A frame
 * missing at its playout time is concealed with silence and flagged; a packet arriving after its slot was
 * played is dropped as late; duplicates are ignored; an SSRC change re-anchors. With `adaptive`, the delay
 * follows 3 × the RFC 3550 jitter estimate (within min/max), changed only at talkspurt starts (marker bit).
 */
import { tsDelta, type RtpPacket } from './rtp.ts';

export interface JitterBufferOptions {
  clockRate: number;
  /** Samples per frame (ptime). */
  frameSamples: number;
  /** @default 60 */
  delayMs?: number;
  /** @default false */
  adaptive?: boolean;
  /** @default 20 */
  minDelayMs?: number;
  /** @default 300 */
  maxDelayMs?: number;
}

export interface PlayoutFrame { timestamp: number; pcm: Int16Array; concealed: boolean }

export class JitterBuffer {
  readonly #o: Required<JitterBufferOptions>;
  #delayMs: number;
  #ssrc: number | null = null;
  #ts0 = 0;
  #anchorMs = 0;
  #next = 0; // media offset (samples) of the next frame to play
  readonly #frames = new Map<number, Int16Array>();
  #jitter = 0;
  #lastTransit: number | null = null;
  readonly stats = { played: 0, concealed: 0, late: 0, duplicates: 0, resyncs: 0 };

  constructor(o: JitterBufferOptions) {
    this.#o = { delayMs: 60, adaptive: false, minDelayMs: 20, maxDelayMs: 300, ...o };
    this.#delayMs = this.#o.delayMs;
  }

  get delayMs(): number { return this.#delayMs; }

  push(p: RtpPacket, pcm: Int16Array, arrivalMs: number): void {
    if (this.#ssrc !== p.ssrc) {
      if (this.#ssrc !== null) this.stats.resyncs++;
      this.#ssrc = p.ssrc;
      this.#ts0 = p.timestamp;
      this.#anchorMs = arrivalMs;
      this.#next = 0;
      this.#frames.clear();
      this.#lastTransit = null;
    }
    const offset = tsDelta(this.#ts0, p.timestamp);
    const transit = arrivalMs - (offset * 1000) / this.#o.clockRate;
    if (this.#lastTransit !== null) this.#jitter += (Math.abs(transit - this.#lastTransit) - this.#jitter) / 16;
    this.#lastTransit = transit;
    if (this.#o.adaptive && p.marker) {
      this.#delayMs = Math.min(this.#o.maxDelayMs, Math.max(this.#o.minDelayMs, 3 * this.#jitter + (this.#o.frameSamples * 1000) / this.#o.clockRate));
    }
    if (offset < this.#next) { this.stats.late++; return; }
    if (this.#frames.has(offset)) { this.stats.duplicates++; return; }
    this.#frames.set(offset, pcm);
  }

  /** Frames whose playout time has come, in order (call every ptime, or whenever convenient). */
  pop(nowMs: number): PlayoutFrame[] {
    const out: PlayoutFrame[] = [];
    if (this.#ssrc === null) return out;
    const frameMs = (this.#o.frameSamples * 1000) / this.#o.clockRate;
    while (this.#anchorMs + (this.#next * 1000) / this.#o.clockRate + this.#delayMs <= nowMs) {
      const pcm = this.#frames.get(this.#next);
      const timestamp = (this.#ts0 + this.#next) >>> 0;
      if (pcm) { this.#frames.delete(this.#next); out.push({ timestamp, pcm, concealed: false }); this.stats.played++; }
      else { out.push({ timestamp, pcm: new Int16Array(this.#o.frameSamples), concealed: true }); this.stats.concealed++; }
      this.#next += this.#o.frameSamples;
      if (out.length > 1000 / frameMs) break; // never emit more than a second at once
    }
    return out;
  }
}
