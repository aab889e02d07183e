/** RTCP (RFC 3550 §6.4): sender and receiver reports with report blocks, in compound packets. */
import { VigilError } from '@vigil/errors';

export interface ReportBlock {
  ssrc: number;
  /** Fraction of packets lost since the previous report, 0..1 (sent as an 8-bit fixed-point number). */
  fractionLost: number;
  /** Cumulative packets lost (signed 24 bits: duplicates can make it negative). */
  cumulativeLost: number;
  extendedHighestSeq: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received. */
  lastSr: number;
  /** Delay since that SR, in units of 1/65536 s. */
  delaySinceLastSr: number;
}

export type RtcpPacket =
  | { type: 'sr'; ssrc: number; ntpMs: number; rtpTimestamp: number; packetCount: number; octetCount: number; reports: ReportBlock[] }
  | { type: 'rr'; ssrc: number; reports: ReportBlock[] }
  | { type: 'bye'; ssrcs: number[] }
  | { type: 'other'; packetType: number };

const NTP_EPOCH_OFFSET_S = 2_208_988_800;

/** Unix milliseconds → 64-bit NTP [seconds, fraction]. */
export function toNtp(ms: number): [number, number] {
  const s = Math.floor(ms / 1000) + NTP_EPOCH_OFFSET_S;
  const frac = Math.floor(((ms % 1000) / 1000) * 2 ** 32);
  return [s >>> 0, frac >>> 0];
}

export function fromNtp(sec: number, frac: number): number {
  return (sec - NTP_EPOCH_OFFSET_S) * 1000 + (frac / 2 ** 32) * 1000;
}

/** The middle 32 bits of an NTP time (the LSR field). */
export function ntpMiddle(ms: number): number {
  const [s, f] = toNtp(ms);
  return (((s & 0xffff) << 16) | (f >>> 16)) >>> 0;
}

function writeBlock(b: Buffer, off: number, r: ReportBlock): void {
  b.writeUInt32BE(r.ssrc >>> 0, off);
  b[off + 4] = Math.max(0, Math.min(255, Math.floor(r.fractionLost * 256)));
  const lost = Math.max(-0x800000, Math.min(0x7fffff, r.cumulativeLost));
  b.writeIntBE(lost, off + 5, 3);
  b.writeUInt32BE(r.extendedHighestSeq >>> 0, off + 8);
  b.writeUInt32BE(Math.round(r.jitter) >>> 0, off + 12);
  b.writeUInt32BE(r.lastSr >>> 0, off + 16);
  b.writeUInt32BE(r.delaySinceLastSr >>> 0, off + 20);
}

function readBlock(b: Buffer, off: number): ReportBlock {
  return {
    ssrc: b.readUInt32BE(off), fractionLost: b[off + 4]! / 256, cumulativeLost: b.readIntBE(off + 5, 3), extendedHighestSeq: b.readUInt32BE(off + 8),
    jitter: b.readUInt32BE(off + 12), lastSr: b.readUInt32BE(off + 16), delaySinceLastSr: b.readUInt32BE(off + 20),
  };
}

export function encodeRtcp(p: Exclude<RtcpPacket, { type: 'other' }>): Buffer {
  if (p.type === 'bye') {
    const b = Buffer.alloc(4 + 4 * p.ssrcs.length);
    b[0] = 0x80 | p.ssrcs.length;
    b[1] = 203;
    b.writeUInt16BE(p.ssrcs.length, 2);
    p.ssrcs.forEach((s, i) => b.writeUInt32BE(s >>> 0, 4 + 4 * i));
    return b;
  }
  if (p.reports.length > 31) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'at most 31 report blocks per RTCP packet', { field: 'reports' });
  const head = p.type === 'sr' ? 28 : 8;
  const b = Buffer.alloc(head + 24 * p.reports.length);
  b[0] = 0x80 | p.reports.length;
  b[1] = p.type === 'sr' ? 200 : 201;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  b.writeUInt32BE(p.ssrc >>> 0, 4);
  if (p.type === 'sr') {
    const [s, f] = toNtp(p.ntpMs);
    b.writeUInt32BE(s, 8);
    b.writeUInt32BE(f, 12);
    b.writeUInt32BE(p.rtpTimestamp >>> 0, 16);
    b.writeUInt32BE(p.packetCount >>> 0, 20);
    b.writeUInt32BE(p.octetCount >>> 0, 24);
  }
  p.reports.forEach((r, i) => writeBlock(b, head + 24 * i, r));
  return b;
}

/** Parses a compound RTCP packet into its parts. */
export function parseRtcp(buf: Uint8Array): RtcpPacket[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: RtcpPacket[] = [];
  let off = 0;
  while (off + 4 <= b.length) {
    if (b[off]! >> 6 !== 2) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'malformed RTCP: version is not 2', { field: 'rtcp' });
    const count = b[off]! & 0x1f;
    const pt = b[off + 1]!;
    const len = (b.readUInt16BE(off + 2) + 1) * 4;
    if (off + len > b.length) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'malformed RTCP: length beyond the datagram', { field: 'rtcp' });
    if (pt === 200) {
      const reports = Array.from({ length: count }, (_, i) => readBlock(b, off + 28 + 24 * i));
      out.push({ type: 'sr', ssrc: b.readUInt32BE(off + 4), ntpMs: fromNtp(b.readUInt32BE(off + 8), b.readUInt32BE(off + 12)), rtpTimestamp: b.readUInt32BE(off + 16), packetCount: b.readUInt32BE(off + 20), octetCount: b.readUInt32BE(off + 24), reports });
    } else if (pt === 201) {
      out.push({ type: 'rr', ssrc: b.readUInt32BE(off + 4), reports: Array.from({ length: count }, (_, i) => readBlock(b, off + 8 + 24 * i)) });
    } else if (pt === 203) {
      out.push({ type: 'bye', ssrcs: Array.from({ length: count }, (_, i) => b.readUInt32BE(off + 4 + 4 * i)) });
    } else {
      out.push({ type: 'other', packetType: pt });
    }
    off += len;
  }
  return out;
}
