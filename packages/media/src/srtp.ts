/**
 * SRTP and SRTCP (RFC 3711) with the SDES suites trunks use (RFC 4568): AES_CM_128_HMAC_SHA1_80 and
 * AES_CM_128_HMAC_SHA1_32 — AES-128 in counter mode, HMAC-SHA1 authentication (80- or 32-bit tag on SRTP; SRTCP
 * always carries 80 bits), session keys derived from the master key and salt with key derivation rate 0.
 * One context per direction: `protect*` for what we send (our master key), `unprotect*` for what we receive
 * (the far end's). Receivers estimate the rollover counter (§3.3.1) and reject replays within a 64-packet window.
 */
import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';

export const SRTP_SUITES = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const;
export type SrtpSuite = (typeof SRTP_SUITES)[number];
/** 16-byte master key followed by the 14-byte master salt, as carried in `a=crypto ... inline:`. */
export const SRTP_MASTER_LENGTH = 30;

/** AES-128 counter-mode keystream from a 16-byte initial counter block. */
function keystream(key: Buffer, iv: Buffer, length: number): Buffer {
  const c = createCipheriv('aes-128-ctr', key, iv);
  return Buffer.concat([c.update(Buffer.alloc(length)), c.final()]);
}

function xorInto(data: Buffer, ks: Buffer): void {
  for (let i = 0; i < data.length; i++) data[i]! ^= ks[i]!;
}

/** RFC 3711 §4.3.1 key derivation, key_derivation_rate 0: label-specific session key material. */
export function deriveSessionKey(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const x = Buffer.alloc(16);
  masterSalt.copy(x, 0, 0, 14);
  x[7]! ^= label; // key_id = label || r (r = 0 with rate 0), aligned to the right of the 112-bit salt
  return keystream(masterKey, x, length);
}

interface SessionKeys { enc: Buffer; auth: Buffer; salt: Buffer }

function sessionKeys(master: Buffer, first: number): SessionKeys {
  if (master.length !== SRTP_MASTER_LENGTH) throw new Error(`SRTP master key and salt must be ${SRTP_MASTER_LENGTH} bytes, not ${master.length}`);
  const key = master.subarray(0, 16);
  const salt = master.subarray(16);
  return { enc: deriveSessionKey(key, salt, first, 16), auth: deriveSessionKey(key, salt, first + 1, 20), salt: deriveSessionKey(key, salt, first + 2, 14) };
}

/** IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (index · 2^16) (RFC 3711 §4.1.1). */
function counterBlock(salt: Buffer, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(16);
  salt.copy(iv, 0, 0, 14);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  // index is up to 48 bits: bytes 8..13.
  const hi = Math.floor(index / 2 ** 32);
  iv.writeUInt16BE((iv.readUInt16BE(8) ^ (hi & 0xffff)) & 0xffff, 8);
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ (index >>> 0)) >>> 0, 10);
  return iv;
}

function rtpHeaderLength(p: Buffer): number {
  if (p.length < 12) throw new Error('RTP packet shorter than its header');
  let n = 12 + 4 * (p[0]! & 0x0f);
  if (p[0]! & 0x10) {
    if (p.length < n + 4) throw new Error('RTP extension header truncated');
    n += 4 + 4 * p.readUInt16BE(n + 2);
  }
  if (p.length < n) throw new Error('RTP header longer than the packet');
  return n;
}

function tag(authKey: Buffer, data: Buffer[], length: number): Buffer {
  const h = createHmac('sha1', authKey);
  for (const d of data) h.update(d);
  return h.digest().subarray(0, length);
}

class ReplayWindow {
  #max = -1;
  #bits = 0n;
  /** True if `index` is new (and records it). */
  check(index: number): boolean {
    if (index > this.#max) {
      const shift = this.#max < 0 ? 64 : index - this.#max;
      this.#bits = shift >= 64 ? 1n : ((this.#bits << BigInt(shift)) | 1n) & 0xffffffffffffffffn;
      this.#max = index;
      return true;
    }
    const age = this.#max - index;
    if (age >= 64) return false;
    const bit = 1n << BigInt(age);
    if (this.#bits & bit) return false;
    this.#bits |= bit;
    return true;
  }
}

export class SrtpContext {
  readonly suite: SrtpSuite;
  readonly #rtp: SessionKeys;
  readonly #rtcp: SessionKeys;
  readonly #tagLength: number;
  /** Per SSRC: highest sequence number seen/sent, rollover counter, replay window. */
  readonly #streams = new Map<number, { s: number; roc: number; replay: ReplayWindow }>();
  readonly #rtcpReplay = new Map<number, ReplayWindow>();
  #rtcpIndex = 0;
  /** Packets dropped because their tag did not verify or they were replays. */
  authFailures = 0;
  replays = 0;

  constructor(suite: SrtpSuite, master: Buffer) {
    this.suite = suite;
    this.#rtp = sessionKeys(master, 0);
    this.#rtcp = sessionKeys(master, 3);
    this.#tagLength = suite === 'AES_CM_128_HMAC_SHA1_32' ? 4 : 10;
  }

  protectRtp(packet: Uint8Array): Buffer {
    const p = Buffer.from(packet);
    const ssrc = p.readUInt32BE(8);
    const seq = p.readUInt16BE(2);
    let st = this.#streams.get(ssrc);
    if (!st) { st = { s: seq, roc: 0, replay: new ReplayWindow() }; this.#streams.set(ssrc, st); }
    else if (seq < st.s && st.s - seq > 0x8000) st.roc = (st.roc + 1) >>> 0; // sequence number wrapped
    st.s = seq;
    const index = st.roc * 0x10000 + seq;
    const h = rtpHeaderLength(p);
    const payload = p.subarray(h);
    xorInto(payload, keystream(this.#rtp.enc, counterBlock(this.#rtp.salt, ssrc, index), payload.length));
    const roc = Buffer.alloc(4);
    roc.writeUInt32BE(st.roc);
    return Buffer.concat([p, tag(this.#rtp.auth, [p, roc], this.#tagLength)]);
  }

  /** The plain RTP packet, or null when authentication fails or it is a replay. */
  unprotectRtp(packet: Uint8Array): Buffer | null {
    const p = Buffer.from(packet);
    if (p.length < 12 + this.#tagLength) { this.authFailures++; return null; }
    const body = p.subarray(0, p.length - this.#tagLength);
    const got = p.subarray(p.length - this.#tagLength);
    const ssrc = body.readUInt32BE(8);
    const seq = body.readUInt16BE(2);
    const st = this.#streams.get(ssrc);
    // RFC 3711 §3.3.1: guess the rollover counter from the highest sequence number seen.
    let v = 0;
    if (st) {
      v = st.roc;
      if (st.s < 0x8000) { if (seq - st.s > 0x8000) v = st.roc - 1; }
      else if (st.s - 0x8000 > seq) v = st.roc + 1;
      if (v < 0) v = 0;
    }
    const roc = Buffer.alloc(4);
    roc.writeUInt32BE(v >>> 0);
    const want = tag(this.#rtp.auth, [body, roc], this.#tagLength);
    if (!timingSafeEqual(want, got)) { this.authFailures++; return null; }
    const index = v * 0x10000 + seq;
    const stream = st ?? { s: seq, roc: v, replay: new ReplayWindow() };
    if (!stream.replay.check(index)) { this.replays++; return null; }
    if (!st) this.#streams.set(ssrc, stream);
    else if (index > st.roc * 0x10000 + st.s) { st.roc = v; st.s = seq; }
    let h: number;
    try { h = rtpHeaderLength(body); } catch { this.authFailures++; return null; }
    const out = Buffer.from(body);
    const payload = out.subarray(h);
    xorInto(payload, keystream(this.#rtp.enc, counterBlock(this.#rtp.salt, ssrc, index), payload.length));
    return out;
  }

  /** SRTCP: the compound packet encrypted after its first 8 bytes, then E||index and an 80-bit tag. */
  protectRtcp(packet: Uint8Array): Buffer {
    const p = Buffer.from(packet);
    const ssrc = p.readUInt32BE(4);
    const index = this.#rtcpIndex;
    this.#rtcpIndex = (this.#rtcpIndex + 1) & 0x7fffffff;
    const body = p.subarray(8);
    xorInto(body, keystream(this.#rtcp.enc, counterBlock(this.#rtcp.salt, ssrc, index), body.length));
    const ei = Buffer.alloc(4);
    ei.writeUInt32BE((0x80000000 | index) >>> 0);
    return Buffer.concat([p, ei, tag(this.#rtcp.auth, [p, ei], 10)]);
  }

  unprotectRtcp(packet: Uint8Array): Buffer | null {
    const p = Buffer.from(packet);
    if (p.length < 8 + 4 + 10) { this.authFailures++; return null; }
    const signed = p.subarray(0, p.length - 10);
    if (!timingSafeEqual(tag(this.#rtcp.auth, [signed], 10), p.subarray(p.length - 10))) { this.authFailures++; return null; }
    const ei = signed.readUInt32BE(signed.length - 4);
    const index = ei & 0x7fffffff;
    const ssrc = signed.readUInt32BE(4);
    let w = this.#rtcpReplay.get(ssrc);
    if (!w) { w = new ReplayWindow(); this.#rtcpReplay.set(ssrc, w); }
    if (!w.check(index)) { this.replays++; return null; }
    const out = Buffer.from(signed.subarray(0, signed.length - 4));
    if (ei & 0x80000000) {
      const body = out.subarray(8);
      xorInto(body, keystream(this.#rtcp.enc, counterBlock(this.#rtcp.salt, ssrc, index), body.length));
    }
    return out;
  }
}
