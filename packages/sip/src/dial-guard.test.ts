import { describe, expect, it } from 'vitest';
import { assertDialAllowed, parseDialTarget } from './dial-guard.ts';

describe('dial guard', () => {
  it('normalises allowed targets', () => {
    expect(parseDialTarget('sip:+15551234567@Trunk.Example.com')).toEqual({ user: '+15551234567', host: 'trunk.example.com', port: 5060, uri: 'sip:+15551234567@trunk.example.com:5060' });
    expect(assertDialAllowed('sip:+15551234567@trunk.example.com:5060', ['+15551234567']).user).toBe('+15551234567');
    expect(assertDialAllowed('sip:ivr@10.0.0.5', ['sip:ivr@10.0.0.5:5060']).port).toBe(5060);
  });
  it.each([
    'sip:+15551234567@trunk;user=phone', 'sip:ivr@host?X=1', 'sip:ivr@host\r\nVia: x', 'sip:+1555123456789012@host', 'sip:%2B1@host', 'tel:+15551234567', 'sip:ivr@host:99999', 'sip:1#2@host',
  ])('refuses %j', (t) => {
    expect(() => parseDialTarget(t)).toThrow(expect.objectContaining({ code: 'VIGIL_E_DIAL_NOT_ALLOWED' }));
  });
  it('refuses numbers and URIs not on the allowlist', () => {
    expect(() => assertDialAllowed('sip:+15550000000@trunk', ['+15551234567'])).toThrow(/not on this target's allowlist/);
    expect(() => assertDialAllowed('sip:ivr@10.0.0.6', ['sip:ivr@10.0.0.5'])).toThrow(/allowlist/);
  });
});
