import { describe, expect, it } from 'vitest';
import { fillTemplate } from './drivers.ts';
import { validateTarget } from './target.ts';

describe('validateTarget', () => {
  it('accepts each channel with its settings', () => {
    expect(validateTarget({ name: 'a', channel: 'chat.openai', endpoint: 'https://api.example/v1', credentialsRef: 'env:KEY', config: { model: 'm', stream: false } })).toMatchObject({ id: 'a', credentialsRef: 'env:KEY' });
    expect(validateTarget({ name: 'b', channel: 'chat.http', endpoint: 'http://bot/hook', config: { replyPath: '$.r', bodyTemplate: { q: '{{message}}' } } }).channel).toBe('chat.http');
    expect(validateTarget({ name: 'c', channel: 'chat.websocket', endpoint: 'wss://bot/ws', config: { done: { path: '$.done', equals: true } } }).channel).toBe('chat.websocket');
    expect(validateTarget({ name: 'd', channel: 'voice.sip', endpoint: 'sip:+15551234567@sbc.example:5060', credentialsRef: 'env:SIP_PW', config: { server: 'sbc.example:5060', transport: 'tcp', authUsername: 'probe', allowlist: ['+15551234567'] } }).channel).toBe('voice.sip');
    expect(validateTarget({ name: 'w', channel: 'voice.sip', endpoint: 'sip:ivr@sbc.example', config: { transport: 'wss', server: 'wss://sbc.example:8443/sip', tlsCaFile: '/etc/vigil/ca.pem', register: true, domain: 'trunk.example', sessionExpiresS: 1800, srtp: 'required' } }).config).toMatchObject({ transport: 'wss' });
  });

  it.each([
    [{ name: 'A', channel: 'chat.http', endpoint: 'http://x' }, 'name'],
    [{ name: 'a', channel: 'sms', endpoint: 'http://x' }, 'channel'],
    [{ name: 'a', channel: 'chat.http', endpoint: 'not a url' }, 'endpoint'],
    [{ name: 'a', channel: 'chat.http', endpoint: 'http://user:pw@x' }, 'endpoint'],
    [{ name: 'a', channel: 'chat.http', endpoint: 'http://x', credentialsRef: 'sk-live-123' }, 'credentialsRef'],
    [{ name: 'a', channel: 'chat.http', endpoint: 'http://x', config: { bodyTemplate: { q: 'static' } } }, 'config.bodyTemplate'],
    [{ name: 'a', channel: 'chat.http', endpoint: 'http://x', config: { replyPath: 'reply' } }, 'config.replyPath'],
    [{ name: 'a', channel: 'chat.http', endpoint: 'http://x', config: { model: 'm' } }, 'config.model'],
    [{ name: 'a', channel: 'chat.websocket', endpoint: 'ws://x', config: { filter: { path: '$.t' } } }, 'config.filter'],
    [{ name: 'a', channel: 'chat.openai', endpoint: 'http://x/v1', config: { model: 'm', temperature: 3 } }, 'config.temperature'],
    [{ name: 'a', channel: 'voice.sip', endpoint: 'http://x' }, 'endpoint'],
    [{ name: 'a', channel: 'voice.sip', endpoint: 'sip:ivr@x', config: { transport: 'sctp' } }, 'config.transport'],
    [{ name: 'a', channel: 'voice.sip', endpoint: 'sip:ivr@x', config: { authUsername: 'u' } }, 'config.authUsername'],
    [{ name: 'a', channel: 'voice.sip', endpoint: 'sip:ivr@x', config: { codecs: ['G729'] } }, 'config.codecs'],
    [{ name: 'a', channel: 'voice.sip', endpoint: 'sip:ivr@x', config: { transport: 'ws', server: 'sbc.example:8080' } }, 'config.server'],
    [{ name: 'a', channel: 'voice.sip', endpoint: 'sip:ivr@x', config: { transport: 'tls', server: 'wss://sbc.example/sip' } }, 'config.server'],
    [{ name: 'a', channel: 'voice.sip', endpoint: 'sip:ivr@x', config: { transport: 'tls', tlsCaFile: 'ca.pem' } }, 'config.tlsCaFile'],
    [{ name: 'a', channel: 'voice.sip', endpoint: 'sip:ivr@x', config: { register: 'yes' } }, 'config.register'],
    [{ name: 'a', channel: 'voice.sip', endpoint: 'sip:ivr@x', config: { sessionExpiresS: 30 } }, 'config.sessionExpiresS'],
    [{ name: 'a', channel: 'voice.sip', endpoint: 'sip:ivr@x', config: { srtp: 'mandatory' } }, 'config.srtp'],
  ])('refuses %j naming %s', (input, field) => {
    expect(() => validateTarget(input)).toThrow(expect.objectContaining({ code: 'VIGIL_E_TARGET_INVALID', field, fix: expect.any(String) }));
  });
});

describe('fillTemplate', () => {
  it('fills placeholders in nested templates without re-parsing JSON', () => {
    const msg = 'say "hi" {{session_id}}';
    expect(fillTemplate({ a: ['{{message}}', { s: 'id={{session_id}}' }], n: 1 }, { message: msg, session_id: 's1' })).toEqual({ a: [msg, { s: 'id=s1' }], n: 1 });
  });
});
