import { describe, expect, it } from 'vitest';
import { buildOffer, parseAnswer } from './sdp.ts';

const answer = (extra: string[]) => ['v=0', 'o=- 1 1 IN IP4 10.0.0.2', 's=-', 'c=IN IP4 10.0.0.2', 't=0 0', 'm=audio 40000 RTP/AVP 8 101', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', ...extra, ''].join('\r\n');

describe('SDP', () => {
  it('offers our codecs, telephone-event and one port for RTP and RTCP', () => {
    const sdp = buildOffer({ address: '10.0.0.1', port: 30000, codecs: ['PCMU', 'PCMA'], sessionId: 7, version: 1 });
    expect(sdp).toContain('m=audio 30000 RTP/AVP 0 8 101\r\n');
    expect(sdp).toContain('a=rtcp-mux\r\na=rtcp:30000\r\n');
  });

  it('reads the codec, telephone-event and where the far end wants RTCP', () => {
    const a = parseAnswer(answer([]));
    expect(a).toMatchObject({ address: '10.0.0.2', port: 40000, codec: { name: 'PCMA', payloadType: 8 }, telephoneEventPayloadType: 101, rtcpPort: 40001 });
    expect(parseAnswer(answer(['a=rtcp-mux'])).rtcpPort).toBe(40000);
    expect(parseAnswer(answer(['a=rtcp:41000 IN IP4 10.0.0.2'])).rtcpPort).toBe(41000);
    expect(parseAnswer(answer(['a=sendonly'])).direction).toBe('sendonly');
  });

  it('names what is wrong with an unusable answer', () => {
    expect(() => parseAnswer(answer([]).replace('m=audio 40000 RTP/AVP 8 101', 'm=audio 40000 RTP/AVP 18'))).toThrow(/no codec we speak/);
    expect(() => parseAnswer('v=0\r\n')).toThrow(/no audio m-line/);
  });

  it('carries SDES keys (RFC 4568) on RTP/SAVP or, best effort, on RTP/AVP, and reads the answer\'s', () => {
    const key = Buffer.alloc(30, 7).toString('base64');
    const savp = buildOffer({ address: '10.0.0.1', port: 30000, codecs: ['PCMU'], sessionId: 7, version: 1, crypto: { savp: true, offers: [{ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', key }] } });
    expect(savp).toContain('m=audio 30000 RTP/SAVP 0 101\r\n');
    expect(savp).toContain(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key}\r\n`);
    expect(buildOffer({ address: '10.0.0.1', port: 30000, codecs: ['PCMU'], sessionId: 7, version: 1, crypto: { savp: false, offers: [{ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', key }] } })).toContain('RTP/AVP 0 101');
    const a = parseAnswer(answer([`a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${key}|2^20|1:4`]).replace('RTP/AVP', 'RTP/SAVP'));
    expect(a.profile).toBe('RTP/SAVP');
    expect(a.crypto).toEqual([{ tag: 2, suite: 'AES_CM_128_HMAC_SHA1_32', key }]);
  });
});
