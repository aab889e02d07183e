import { describe, expect, it } from 'vitest';
import { frameMessages } from './transport-tcp.ts';

describe('TCP framing', () => {
  it('splits by Content-Length, keeps partial messages, skips keep-alive CRLFs, reads the compact header', () => {
    const a = 'SIP/2.0 200 OK\r\nCall-ID: a\r\nContent-Length: 4\r\n\r\nabcd';
    const b = 'BYE sip:x SIP/2.0\r\nl: 0\r\n\r\n';
    const c = 'INVITE sip:x SIP/2.0\r\nContent-Length: 10\r\n\r\n0123';
    const r = frameMessages(Buffer.from(`\r\n\r\n${a}${b}${c}`));
    expect(r.messages).toEqual([a, b]);
    expect(r.rest.toString()).toBe(c);
    expect(frameMessages(Buffer.concat([r.rest, Buffer.from('456789')])).messages).toEqual([`${c}456789`]);
  });
});
