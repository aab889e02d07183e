import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeRtcp } from './rtcp.ts';
import { encodeRtp } from './rtp.ts';
import { SrtpContext, deriveSessionKey } from './srtp.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('SRTP (RFC 3711)', () => {
  it('derives the session keys of the RFC 3711 B.3 test vectors', () => {
    const key = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
    const salt = hex('0EC675AD498AFEEBB6960B3AABE6');
    expect(deriveSessionKey(key, salt, 0, 16).toString('hex').toUpperCase()).toBe('C61E7A93744F39EE10734AFE3FF7A087');
    expect(deriveSessionKey(key, salt, 2, 14).toString('hex').toUpperCase()).toBe('30CBBC08863D8C85D49DB34A9AE1');
    expect(deriveSessionKey(key, salt, 1, 20).toString('hex').toUpperCase()).toBe('CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
  });

  it('produces the AES-CM keystream of the RFC 3711 B.2 test vector', () => {
    const c = createCipheriv('aes-128-ctr', hex('2B7E151628AED2A6ABF7158809CF4F3C'), hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000'));
    const ks = c.update(Buffer.alloc(48));
    expect(ks.toString('hex').toUpperCase()).toBe('E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB41E95B3BB0A2E8DD477901E4FCA894C0');
  });

  const master = hex('E1F97A0D3E018BE0D64FA32C06DE41390EC675AD498AFEEBB6960B3AABE6');
  const rtp = (seq: number, payload = Buffer.from('hello, far end; this is audio')) => encodeRtp({ marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc: 0xdecafbad, payload });

  it.each(['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const)('%s: round trip, tag length, tamper and replay rejected', (suite) => {
    const tx = new SrtpContext(suite, master);
    const rx = new SrtpContext(suite, master);
    const plain = rtp(1);
    const sealed = tx.protectRtp(plain);
    expect(sealed.length).toBe(plain.length + (suite.endsWith('80') ? 10 : 4));
    expect(sealed.subarray(0, 12)).toEqual(Buffer.from(plain.subarray(0, 12))); // header stays clear
    expect(sealed.subarray(12, plain.length).equals(Buffer.from(plain.subarray(12)))).toBe(false); // payload does not
    expect(rx.unprotectRtp(sealed)).toEqual(Buffer.from(plain));
    expect(rx.unprotectRtp(sealed)).toBeNull(); // replay
    const bad = Buffer.from(tx.protectRtp(rtp(2)));
    bad[20]! ^= 1;
    expect(rx.unprotectRtp(bad)).toBeNull();
    expect(rx.authFailures).toBe(1);
    expect(rx.replays).toBe(1);
  });

  it('keeps the rollover counter across a sequence-number wrap on both sides', () => {
    const tx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', master);
    const rx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', master);
    for (const seq of [65533, 65534, 65535, 0, 1, 2]) expect(rx.unprotectRtp(tx.protectRtp(rtp(seq)))?.readUInt16BE(2)).toBe(seq);
    // A late packet from before the wrap still decrypts (the receiver guesses ROC - 1).
    const tx2 = new SrtpContext('AES_CM_128_HMAC_SHA1_80', master);
    const rx2 = new SrtpContext('AES_CM_128_HMAC_SHA1_80', master);
    const first = tx2.protectRtp(rtp(65534));
    const late = tx2.protectRtp(rtp(65535));
    const after = tx2.protectRtp(rtp(0));
    expect(rx2.unprotectRtp(first)).not.toBeNull();
    expect(rx2.unprotectRtp(after)?.readUInt16BE(2)).toBe(0); // ROC + 1 guessed
    expect(rx2.unprotectRtp(late)?.readUInt16BE(2)).toBe(65535); // ROC kept for the reordered one
  });

  it('protects RTCP (SRTCP): encrypted after the first 8 bytes, E flag and index, 80-bit tag', () => {
    const tx = new SrtpContext('AES_CM_128_HMAC_SHA1_32', master);
    const rx = new SrtpContext('AES_CM_128_HMAC_SHA1_32', master);
    const plain = Buffer.concat([encodeRtcp({ type: 'rr', ssrc: 7, reports: [] }), encodeRtcp({ type: 'bye', ssrcs: [7] })]);
    const sealed = tx.protectRtcp(plain);
    expect(sealed.length).toBe(plain.length + 4 + 10);
    expect(sealed.readUInt32BE(plain.length) >>> 31).toBe(1);
    expect(rx.unprotectRtcp(sealed)).toEqual(plain);
    expect(rx.unprotectRtcp(sealed)).toBeNull();
  });
});
