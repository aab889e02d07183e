/**
 * One bidirectional RTP media session (RTP and RTCP multiplexed on one port, RFC 5761): what a SIP or WebRTC
 * channel attaches to once SDP has been negotiated. It sends a continuous stream on the media clock (silence
 * when nothing is playing, as real endpoints do), plays audio and RFC 4733 digits, receives and rebuilds the
 * far end's audio with its statistics, exchanges RTCP SR/RR (round-trip time from LSR/DLSR), records the call,
 * and summarises quality with an E-model MOS.
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import type { Codec } from './codecs.ts';
import { TelephoneEventReceiver, planDigit } from './dtmf.ts';
import { mos, rFactor, type CodecName } from './emodel.ts';
import { RtpReceiveStats, TrackAssembler } from './receiver.ts';
import { CallRecorder, type CallRecording } from './recording.ts';
import { encodeRtcp, ntpMiddle, parseRtcp } from './rtcp.ts';
import { encodeRtp, isRtcp, parseRtp } from './rtp.ts';
import { Pacer } from './sender.ts';
import type { SrtpContext } from './srtp.ts';

export interface MediaSessionOptions {
  codec: Codec;
  /** @default 20 */
  ptimeMs?: number;
  /** @default 101 */
  telephoneEventPayloadType?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  remote?: { host: string; port: number };
  /** @default 5000 */
  rtcpIntervalMs?: number;
  /** Jitter buffer delay assumed in the MOS estimate. @default 60 */
  playoutDelayMs?: number;
  pacer?: Pacer;
}

export interface Played { startMs: number; endMs: number }

export interface MediaQuality {
  packetsSent: number;
  packetsReceived: number;
  lossPercent: number;
  jitterMs: number;
  /** From RTCP, when a report came back; null before that. */
  rttMs: number | null;
  rFactor: number;
  mos: number;
}

const wallMs = () => performance.timeOrigin + performance.now();
let sharedPacer: Pacer | undefined;

export class MediaSession {
  readonly port: number;
  readonly ssrc = randomInt(1, 2 ** 32 - 1);
  codec: Codec;
  readonly digits = new TelephoneEventReceiver();
  recorder: CallRecorder;
  stats: RtpReceiveStats;
  heard: TrackAssembler;
  readonly #sock: dgram.Socket;
  readonly #o: Required<Omit<MediaSessionOptions, 'remote' | 'pacer' | 'codec'>>;
  readonly #pacer: Pacer;
  #remote: { host: string; port: number } | undefined;
  /** Where RTCP goes: the RTP port when multiplexed (RFC 5761), else what the peer's SDP says (port+1). */
  #rtcpPort: number | undefined;
  #seq = randomInt(0, 0x10000);
  readonly #ts0 = randomInt(0, 2 ** 32 - 1);
  #n = 0;
  #t0Ms = 0; // wall clock of packet 0
  #queue: Array<{ pcm: Int16Array; pos: number; started: number | null; resolve: (p: Played) => void }> = [];
  #events: Array<{ packets: ReturnType<typeof planDigit>; i: number; ts: number | null; resolve: () => void }> = [];
  #running = true;
  #marker = true;
  #packetsSent = 0;
  #octetsSent = 0;
  #lastSr: { middle: number; atMs: number } | null = null;
  #rttMs: number | null = null;
  #rtcpTimer: NodeJS.Timeout | undefined;
  #byeReceived = false;
  #srtp: { out: SrtpContext; in: SrtpContext } | undefined;
  #lastDigitSentAtMs: number | null = null;
  /** Wall-clock ms at which the last digit's end packets were sent (the caller's input ends there). */
  get lastDigitSentAtMs(): number | null { return this.#lastDigitSentAtMs; }
  /** Called when an RFC 4733 digit completes (its end packet arrived), with the wall-clock ms it did. */
  onDigit: ((digit: string, atMs: number) => void) | undefined;

  private constructor(sock: dgram.Socket, o: MediaSessionOptions) {
    this.#sock = sock;
    this.port = sock.address().port;
    this.codec = o.codec;
    this.#o = { ptimeMs: 20, telephoneEventPayloadType: 101, host: '127.0.0.1', port: 0, rtcpIntervalMs: 5000, playoutDelayMs: 60, ...o };
    this.#remote = o.remote;
    this.#pacer = o.pacer ?? (sharedPacer ??= new Pacer(wallMs));
    this.recorder = new CallRecorder(o.codec.sampleRate);
    this.stats = new RtpReceiveStats(o.codec.clockRate);
    this.heard = new TrackAssembler(o.codec.sampleRate);
    sock.on('message', (m) => this.#receive(m));
  }

  static async open(o: MediaSessionOptions): Promise<MediaSession> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => { sock.once('error', reject); sock.bind(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve()); });
    const s = new MediaSession(sock, o);
    s.#start();
    return s;
  }

  /** Where to send (from the peer's SDP); until set, nothing is sent but the media clock runs. */
  setRemote(host: string, port: number, rtcpPort?: number): void { this.#remote = { host, port }; this.#rtcpPort = rtcpPort; }

  /**
   * Switches to the codec the offer/answer settled on (and its telephone-event payload type). Only before
   * any media was exchanged: recording and statistics start over at the new codec's rates.
   */
  negotiate(codec: Codec, telephoneEventPayloadType?: number): void {
    if (this.#packetsSent > 0 || this.stats.stats.received > 0) throw new Error('negotiate() must come before media flows');
    this.codec.close();
    this.codec = codec;
    if (telephoneEventPayloadType !== undefined) this.#o.telephoneEventPayloadType = telephoneEventPayloadType;
    this.recorder = new CallRecorder(codec.sampleRate);
    this.stats = new RtpReceiveStats(codec.clockRate);
    this.heard = new TrackAssembler(codec.sampleRate);
  }
  get byeReceived(): boolean { return this.#byeReceived; }
  /** Wall-clock ms (Unix) of the session's media time zero. */
  get startedAtMs(): number { return this.#t0Ms; }

  #start(): void {
    this.#t0Ms = wallMs();
    const frameMs = this.#o.ptimeMs;
    const run = (): number | null => {
      if (!this.#running) return null;
      const now = wallMs();
      while (this.#t0Ms + this.#n * frameMs <= now) this.#sendFrame(this.#t0Ms + this.#n * frameMs);
      return this.#t0Ms + this.#n * frameMs;
    };
    this.#pacer.schedule(this.#t0Ms, run);
    this.#rtcpTimer = setInterval(() => this.#sendRtcp(), this.#o.rtcpIntervalMs);
    this.#rtcpTimer.unref();
  }

  get #tsPerFrame(): number { return (this.codec.clockRate * this.#o.ptimeMs) / 1000; }

  /**
   * Encrypts and authenticates from now on (SRTP/SRTCP, RFC 3711): `out` holds our master key, `in` the far
   * end's; unauthenticated or replayed packets are dropped and counted.
   */
  setSrtp(out: SrtpContext, inbound: SrtpContext): void { this.#srtp = { out, in: inbound }; }
  get srtp(): { suite: string; authFailures: number; replays: number } | null {
    return this.#srtp ? { suite: this.#srtp.out.suite, authFailures: this.#srtp.in.authFailures, replays: this.#srtp.in.replays } : null;
  }

  #send(buf: Buffer, rtcp = false): void {
    if (!this.#remote) return;
    const wire = this.#srtp ? (rtcp ? this.#srtp.out.protectRtcp(buf) : this.#srtp.out.protectRtp(buf)) : buf;
    this.#sock.send(wire, rtcp ? this.#rtcpPort ?? this.#remote.port : this.#remote.port, this.#remote.host);
  }

  #sendFrame(dueMs: number): void {
    const ts = (this.#ts0 + this.#n * this.#tsPerFrame) >>> 0;
    this.#n++;
    // Until the far end's address is known the media clock runs, but nothing is consumed or sent.
    if (!this.#remote) return;
    const ev = this.#events[0];
    if (ev) {
      ev.ts ??= ts;
      // All packets of one ptime slot share the slot; the final end packet is repeated (three in the plan).
      const slot = ev.packets[ev.i]!;
      const batch = ev.packets.filter((p, k) => k >= ev.i && p.atMs === slot.atMs);
      for (const p of batch) this.#rtp(this.#o.telephoneEventPayloadType, ev.ts, p.payload, p.marker);
      ev.i += batch.length;
      // When the end packets were due on the media clock: what the far end reads from their RTP timestamp and
      // durations too, so neither side's event-loop delay moves it.
      if (ev.i >= ev.packets.length) { this.#events.shift(); this.#lastDigitSentAtMs = dueMs; ev.resolve(); this.#marker = true; }
      return;
    }
    const n = this.codec.frameSamples(this.#o.ptimeMs);
    const frame = new Int16Array(n);
    const q = this.#queue[0];
    if (q) {
      if (q.started === null) { q.started = dueMs; }
      frame.set(q.pcm.subarray(q.pos, q.pos + n));
      this.recorder.caller(dueMs - this.#t0Ms, frame);
      q.pos += n;
      if (q.pos >= q.pcm.length) {
        this.#queue.shift();
        q.resolve({ startMs: q.started, endMs: q.started + (q.pcm.length * 1000) / this.codec.sampleRate });
      }
    }
    this.#rtp(this.codec.payloadType, ts, this.codec.encode(frame), this.#marker);
    this.#marker = false;
  }

  #rtp(pt: number, ts: number, payload: Uint8Array, marker: boolean): void {
    this.#send(encodeRtp({ marker, payloadType: pt, sequenceNumber: this.#seq, timestamp: ts, ssrc: this.ssrc, payload }));
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#packetsSent++;
    this.#octetsSent += payload.length;
  }

  /** Plays audio at the codec's sample rate; resolves with the wall-clock times of its first and last sample. */
  play(pcm: Int16Array): Promise<Played> {
    // A closed session plays nothing: resolve at once rather than never.
    if (!this.#running) return Promise.resolve({ startMs: wallMs(), endMs: wallMs() });
    return new Promise((resolve) => this.#queue.push({ pcm, pos: 0, started: null, resolve }));
  }

  /**
   * Stops what is playing and drops what is queued (an IVR cut short by the caller's digit or speech); pending
   * play() promises resolve with the time playback stopped. Returns that time, or null if nothing played.
   */
  cancelPlayback(): number | null {
    if (this.#queue.length === 0) return null;
    const now = wallMs();
    for (const q of this.#queue.splice(0)) q.resolve({ startMs: q.started ?? now, endMs: now });
    return now;
  }

  /** Sends digits as RFC 4733 events, one after another with a 60 ms pause. */
  async sendDigits(digits: string, durationMs = 100): Promise<void> {
    for (const d of digits) {
      if (!this.#running) return;
      await new Promise<void>((resolve) => this.#events.push({ packets: planDigit(d, durationMs, this.codec.clockRate, this.#o.ptimeMs), i: 0, ts: null, resolve }));
      await this.play(new Int16Array((this.codec.sampleRate * 60) / 1000));
    }
  }

  #receive(wire: Buffer): void {
    const now = wallMs();
    const m = this.#srtp ? (isRtcp(wire) ? this.#srtp.in.unprotectRtcp(wire) : this.#srtp.in.unprotectRtp(wire)) : wire;
    if (!m) return;
    if (isRtcp(m)) {
      // Malformed RTCP (or SRTCP arriving before the keys) is dropped: nothing from the network may throw here.
      let packets;
      try { packets = parseRtcp(m); } catch { return; }
      for (const p of packets) {
        if (p.type === 'bye') this.#byeReceived = true;
        if (p.type === 'sr') this.#lastSr = { middle: ntpMiddle(p.ntpMs), atMs: now };
        if (p.type === 'sr' || p.type === 'rr') {
          const mine = p.reports.find((r) => r.ssrc === this.ssrc);
          if (mine && mine.lastSr !== 0) {
            // RTT = now − LSR − DLSR, in NTP middle-32 units (1/65536 s).
            const rtt = ((ntpMiddle(now) - mine.lastSr - mine.delaySinceLastSr) >>> 0) / 65.536;
            if (rtt < 60_000) this.#rttMs = rtt;
          }
        }
      }
      return;
    }
    let p;
    try { p = parseRtp(m); } catch { return; }
    if (p.payloadType === this.#o.telephoneEventPayloadType) {
      if (!this.stats.push(p, now, false)) return;
      const d = this.digits.push(p.timestamp, p.payload, p.marker);
      if (d) {
        // When the end packet left, on the sender's media clock (the event's RTP timestamp plus how far into the
        // event it was sent), mapped to local time through the audio track's least-delayed packet: unlike
        // `now`, not moved by a busy event loop here.
        const ev = this.digits.digits.at(-1)!;
        const endTs = Math.round(((ev.timestamp + ev.endSentSamples) * this.codec.sampleRate) / this.codec.clockRate) >>> 0;
        const atMs = this.heard.timestampToLocalMs(endTs, p.ssrc) ?? now;
        this.recorder.event(atMs - this.#t0Ms, 'dtmf_received', { digit: d });
        this.onDigit?.(d, atMs);
      }
      return;
    }
    if (p.payloadType !== this.codec.payloadType) return;
    if (!this.stats.push(p, now)) return;
    const pcm = this.codec.decode(p.payload);
    this.heard.push({ ...p, timestamp: Math.round((p.timestamp * this.codec.sampleRate) / this.codec.clockRate) >>> 0 }, pcm, now);
  }

  #sendRtcp(): void {
    const now = wallMs();
    const reports = this.stats.stats.ssrc === null ? [] : [this.stats.reportBlock(this.#lastSr?.middle ?? 0, this.#lastSr ? Math.round((now - this.#lastSr.atMs) * 65.536) : 0)];
    this.#send(encodeRtcp({ type: 'sr', ssrc: this.ssrc, ntpMs: now, rtpTimestamp: (this.#ts0 + this.#n * this.#tsPerFrame) >>> 0, packetCount: this.#packetsSent, octetCount: this.#octetsSent, reports }), true);
  }

  /** Forces an RTCP report now (also sent every rtcpIntervalMs). */
  sendReport(): void { this.#sendRtcp(); }

  quality(): MediaQuality {
    const s = this.stats.stats;
    const lossPercent = s.expected ? (100 * s.lost) / s.expected : 0;
    const oneWay = (this.#rttMs ?? 0) / 2 + this.#o.playoutDelayMs + this.#o.ptimeMs;
    const codec = (this.codec.name === 'opus' ? 'opus' : this.codec.name) as CodecName;
    const input = { codec, oneWayDelayMs: oneWay, packetLossPercent: lossPercent };
    return { packetsSent: this.#packetsSent, packetsReceived: s.received, lossPercent, jitterMs: s.jitterMs, rttMs: this.#rttMs, rFactor: rFactor(input), mos: mos(input) };
  }

  /** The call so far as stereo WAV (sent audio left, heard audio right) and its timeline. */
  recording(name = 'call'): CallRecording {
    const heard = this.heard.pcm;
    if (heard.length) this.recorder.bot(this.heard.sampleToLocalMs(0) - this.#t0Ms, heard);
    return this.recorder.finish(name);
  }

  /** Sends RTCP BYE and closes the socket. */
  async close(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    if (this.#rtcpTimer) clearInterval(this.#rtcpTimer);
    this.#send(Buffer.concat([encodeRtcp({ type: 'rr', ssrc: this.ssrc, reports: [] }), encodeRtcp({ type: 'bye', ssrcs: [this.ssrc] })]), true);
    for (const q of this.#queue.splice(0)) q.resolve({ startMs: q.started ?? wallMs(), endMs: wallMs() });
    for (const e of this.#events.splice(0)) e.resolve();
    await new Promise<void>((r) => setTimeout(r, 20));
    await new Promise<void>((r) => this.#sock.close(() => r()));
  }
}
