/** RTP (RFC 3550 §5.1) packets: encode and parse, with CSRCs, header extension and padding. */
import { VigilError } from '@vigil/errors';

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  /** Media clock, in units of the payload's clock rate. */
  timestamp: number;
  ssrc: number;
  csrc?: number[];
  extension?: { profile: number; data: Uint8Array };
  payload: Uint8Array;
  /** Padding bytes to append (encode) or that were present (parse). */
  paddingBytes?: number;
}

const bad = (why: string) => new VigilError('VIGIL_E_REQUEST_INVALID', `malformed RTP packet: ${why}`, { field: 'rtp', fix: 'the peer sends invalid RTP; capture it to see' });

export function encodeRtp(p: RtpPacket): Buffer {
  const csrc = p.csrc ?? [];
  if (csrc.length > 15) throw bad('more than 15 CSRCs');
  const ext = p.extension;
  if (ext && ext.data.length % 4 !== 0) throw bad('extension length must be a multiple of 4 bytes');
  const pad = p.paddingBytes ?? 0;
  const len = 12 + csrc.length * 4 + (ext ? 4 + ext.data.length : 0) + p.payload.length + pad;
  const b = Buffer.alloc(len);
  b[0] = 0x80 | (pad ? 0x20 : 0) | (ext ? 0x10 : 0) | csrc.length;
  b[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  b.writeUInt16BE(p.sequenceNumber & 0xffff, 2);
  b.writeUInt32BE(p.timestamp >>> 0, 4);
  b.writeUInt32BE(p.ssrc >>> 0, 8);
  let off = 12;
  for (const c of csrc) { b.writeUInt32BE(c >>> 0, off); off += 4; }
  if (ext) {
    b.writeUInt16BE(ext.profile, off);
    b.writeUInt16BE(ext.data.length / 4, off + 2);
    b.set(ext.data, off + 4);
    off += 4 + ext.data.length;
  }
  b.set(p.payload, off);
  if (pad) b[len - 1] = pad;
  return b;
}

export function parseRtp(buf: Uint8Array): RtpPacket {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 12) throw bad(`${b.length} bytes is shorter than the 12-byte header`);
  if (b[0]! >> 6 !== 2) throw bad(`version ${b[0]! >> 6}`);
  const cc = b[0]! & 0x0f;
  let off = 12 + cc * 4;
  if (b.length < off) throw bad('truncated CSRC list');
  const csrc: number[] = [];
  for (let i = 0; i < cc; i++) csrc.push(b.readUInt32BE(12 + i * 4));
  let extension: RtpPacket['extension'];
  if (b[0]! & 0x10) {
    if (b.length < off + 4) throw bad('truncated extension header');
    const words = b.readUInt16BE(off + 2);
    if (b.length < off + 4 + words * 4) throw bad('truncated extension');
    extension = { profile: b.readUInt16BE(off), data: new Uint8Array(b.subarray(off + 4, off + 4 + words * 4)) };
    off += 4 + words * 4;
  }
  let end = b.length;
  let paddingBytes = 0;
  if (b[0]! & 0x20) {
    paddingBytes = b[b.length - 1]!;
    if (paddingBytes === 0 || off + paddingBytes > b.length) throw bad('bad padding length');
    end -= paddingBytes;
  }
  const p: RtpPacket = {
    marker: (b[1]! & 0x80) !== 0, payloadType: b[1]! & 0x7f, sequenceNumber: b.readUInt16BE(2), timestamp: b.readUInt32BE(4), ssrc: b.readUInt32BE(8),
    payload: new Uint8Array(b.subarray(off, end)),
  };
  if (csrc.length) p.csrc = csrc;
  if (extension) p.extension = extension;
  if (paddingBytes) p.paddingBytes = paddingBytes;
  return p;
}

/** RFC 5761 demultiplexing: RTCP packet types 192–223 share the second byte's range with RTP marker+PT. */
export function isRtcp(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[1]! >= 192 && buf[1]! <= 223;
}

/** Signed distance from a to b in 16-bit sequence space (b - a), in -32768..32767. */
export function seqDelta(a: number, b: number): number {
  return ((b - a + 0x8000) & 0xffff) - 0x8000;
}

/** Signed distance in 32-bit timestamp space. */
export function tsDelta(a: number, b: number): number {
  return ((b - a + 0x80000000) >>> 0) - 0x80000000;
}
