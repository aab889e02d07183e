/**
 * SIP through Kamailio (a proxy nobody here wrote) to a SIPp UAS that echoes RTP, on loopback: digest auth
 * demanded by the proxy (407), REGISTER with a registrar that only lets registered callers through, TLS with
 * certificate verification, and SIP over WebSocket (RFC 7118) as WebRTC gateways take it. Skipped, with the
 * reason, without kamailio, its websocket/tls modules or SIPp.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { detectSpeech } from '@vigil/media';
import { SipAgent, type SipAgentOptions } from '@vigil/sip';
import { KAMAILIO_READY, startKamailio, type KamailioProxy } from '../support/kamailio.ts';
import { SIPP, startSippUas, type SippPeer } from '../support/sipp.ts';

const tone = Int16Array.from({ length: 8000 }, (_, i) => (i > 800 && i < 7200 ? Math.round(8000 * Math.sin(i / 3)) : 0));
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

async function setup(calls = 1): Promise<{ uas: SippPeer; proxy: KamailioProxy }> {
  // SIPp's built-in uas does not copy Record-Route; this scenario does (else ACK and BYE cannot be routed).
  const uas = await startSippUas('uas-rr.xml', calls, 'udp', ['-rtp_echo']);
  cleanup.push(() => uas.kill());
  const proxy = await startKamailio(uas.port);
  cleanup.push(() => proxy.stop());
  return { uas, proxy };
}

async function agent(proxy: KamailioProxy, o: Partial<SipAgentOptions>): Promise<{ agent: SipAgent; trace: string[] }> {
  const trace: string[] = [];
  const a = await SipAgent.start({
    server: `127.0.0.1:${proxy.sipPort}`, user: proxy.user, auth: { username: proxy.user, password: proxy.password },
    allowlist: [`sip:ivr@127.0.0.1:${proxy.sipPort}`, `sip:members@127.0.0.1:${proxy.sipPort}`],
    onTrace: (dir, m) => trace.push(`${dir} ${m.split('\r\n')[0]}`), ...o,
  });
  cleanup.push(() => a.stop());
  return { agent: a, trace };
}

/** Answered, media both ways (the UAS echoes our tone), BYE answered, SIPp counted a good call. */
async function callAndCheck(a: SipAgent, target: string, uas: SippPeer): Promise<void> {
  const call = await a.call(target, { timeoutMs: 8000 });
  cleanup.push(() => call.media.close());
  expect(call.setup.finalStatus).toBe(200);
  await call.media.play(tone);
  await new Promise((r) => setTimeout(r, 300));
  expect(detectSpeech(call.media.heard.pcm, 8000).length).toBeGreaterThan(0);
  await call.hangup();
  expect(await uas.exited, uas.output().slice(-2000)).toBe(0); // SIPp counted one good call
}

describe.skipIf(!KAMAILIO_READY || !SIPP)(`SIP through Kamailio${KAMAILIO_READY && SIPP ? '' : ' (skipped: apt-get install kamailio kamailio-websocket-modules kamailio-tls-modules sip-tester)'}`, () => {
  it.each(['udp', 'tcp'] as const)('answers the proxy\'s 407 digest challenge over %s and keeps the call on its Record-Route path', async (transport) => {
    const { uas, proxy } = await setup();
    const { agent: a, trace } = await agent(proxy, { transport });
    await callAndCheck(a, `sip:ivr@127.0.0.1:${proxy.sipPort}`, uas);
    const invites = trace.filter((l) => l.startsWith('out INVITE '));
    expect(invites).toHaveLength(2); // challenged, then with Proxy-Authorization
    expect(trace).toContain('in SIP/2.0 407 Proxy Authentication Required');
    expect(proxy.output()).toMatch(/vigil-test: BYE sip:[^ ]+ from 127\.0\.0\.1/); // BYE went through the proxy
  });

  it('reports a wrong password as VIGIL_E_CHANNEL_AUTH', async () => {
    const { proxy } = await setup();
    const { agent: a } = await agent(proxy, { auth: { username: 'probe-eu1', password: 'wrong' } });
    await expect(a.call(`sip:ivr@127.0.0.1:${proxy.sipPort}`, { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'VIGIL_E_CHANNEL_AUTH', details: { status: 407 } });
  });

  it('registers (401 challenge answered) before calling a trunk that takes calls from registered users only', async () => {
    const { uas, proxy } = await setup();
    const first = await agent(proxy, {});
    await expect(first.agent.call(`sip:members@127.0.0.1:${proxy.sipPort}`, { timeoutMs: 5000 })).rejects.toMatchObject({ details: { status: 403 } });
    const { agent: a, trace } = await agent(proxy, {});
    const reg = await a.register({ expiresS: 120 });
    expect(reg.registerMs).toBeGreaterThan(0);
    expect(trace.filter((l) => l.startsWith('out REGISTER '))).toHaveLength(2);
    expect(trace).toContain('in SIP/2.0 401 Unauthorized');
    await callAndCheck(a, `sip:members@127.0.0.1:${proxy.sipPort}`, uas);
    await a.stop(); // unregisters: the next call from this address-of-record is refused again
    const after = await agent(proxy, {});
    await expect(after.agent.call(`sip:members@127.0.0.1:${proxy.sipPort}`, { timeoutMs: 5000 })).rejects.toMatchObject({ details: { status: 403 } });
  });

  it('calls over TLS, verifying the proxy\'s certificate, and refuses an unverifiable one', async () => {
    const { uas, proxy } = await setup();
    const { agent: a } = await agent(proxy, { transport: 'tls', server: `127.0.0.1:${proxy.tlsPort}`, tls: { ca: proxy.ca } });
    await callAndCheck(a, `sip:ivr@127.0.0.1:${proxy.sipPort}`, uas);
    await expect(agent(proxy, { transport: 'tls', server: `127.0.0.1:${proxy.tlsPort}` })).rejects.toThrow(/self-signed certificate/);
    await expect(agent(proxy, { transport: 'tls', server: `127.0.0.1:${proxy.tlsPort}`, tls: { ca: proxy.ca, servername: 'other.example' } })).rejects.toThrow(/other\.example/);
  });

  it('calls over WebSocket (subprotocol sip) and over secure WebSocket', async () => {
    const { uas, proxy } = await setup(2);
    const ws = await agent(proxy, { transport: 'ws', server: `ws://127.0.0.1:${proxy.wsPort}/` });
    const call = await ws.agent.call(`sip:ivr@127.0.0.1:${proxy.sipPort}`, { timeoutMs: 8000 });
    cleanup.push(() => call.media.close());
    expect(ws.trace.find((l) => l.startsWith('out INVITE '))).toBeDefined();
    await call.media.play(tone);
    await new Promise((r) => setTimeout(r, 300));
    expect(detectSpeech(call.media.heard.pcm, 8000).length).toBeGreaterThan(0);
    await call.hangup();
    expect(proxy.output()).toMatch(/vigil-test: INVITE \S+ from 127\.0\.0\.1:\d+ over ws/);
    const wss = await agent(proxy, { transport: 'wss', server: `wss://127.0.0.1:${proxy.tlsPort}/`, tls: { ca: proxy.ca } });
    await callAndCheck(wss.agent, `sip:ivr@127.0.0.1:${proxy.sipPort}`, uas);
    expect(proxy.output()).toMatch(/vigil-test: INVITE \S+ from 127\.0\.0\.1:\d+ over wss/);
  });
});
