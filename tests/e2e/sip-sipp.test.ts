/**
 * SIP calls against SIPp (a peer nobody here wrote), over UDP on loopback: answer with RTP echo, rejections,
 * and RFC 3261 retransmission of a lost INVITE and a lost BYE. Skipped, with the reason, without sip-tester.
 */
import dgram from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { detectSpeech, readWav } from '@vigil/media';
import { SipAgent } from '@vigil/sip';
import { SIPP, startSippUas, type SippPeer } from '../support/sipp.ts';

const PROMPT = '/usr/share/asterisk/sounds/en/agent-pass.wav';
const clip = existsSync(PROMPT) ? readWav(readFileSync(PROMPT)).samples : Int16Array.from({ length: 16000 }, (_, i) => (i > 2000 && i < 12000 ? Math.round(6000 * Math.sin(i / 4)) : 0));

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

async function agentFor(peer: SippPeer, o: Partial<Parameters<typeof SipAgent.start>[0]> = {}): Promise<{ agent: SipAgent; sent: string[] }> {
  const sent: string[] = [];
  const agent = await SipAgent.start({ server: `127.0.0.1:${peer.port}`, allowlist: [`sip:ivr@127.0.0.1:${peer.port}`], headers: { 'X-Vigil-Test-Call': 'true' }, onTrace: (dir, m) => { if (dir === 'out') sent.push(m.split('\r\n')[0]!); }, ...o });
  cleanup.push(() => agent.stop());
  return { agent, sent };
}

describe('toll-fraud guard', () => {
  it('never sends an INVITE for a number outside the allowlist or a dial string with injected parameters', async () => {
    const peer = dgram.createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
    let datagrams = 0;
    peer.on('message', () => { datagrams++; });
    const port = peer.address().port;
    const agent = await SipAgent.start({ server: `127.0.0.1:${port}`, allowlist: ['+442071234567', `sip:ivr@127.0.0.1:${port}`] });
    cleanup.push(() => agent.stop(), () => new Promise<void>((r) => peer.close(() => r())));
    for (const target of [`sip:+442079999999@127.0.0.1:${port}`, `sip:+4420712345678@127.0.0.1:${port}`, `sip:ivr@127.0.0.1:${port};maddr=evil.example`, `sip:ivr@127.0.0.1:${port}?Route=%3Csip:evil%3E`, `sip:+442071234567,,900@127.0.0.1:${port}`, 'sip:ivr@127.0.0.1:5061']) {
      await expect(agent.call(target, { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'VIGIL_E_DIAL_NOT_ALLOWED', field: 'target' });
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(datagrams).toBe(0);
  });
});

describe.skipIf(!SIPP)(`SIP over UDP against SIPp${SIPP ? '' : ' (skipped: apt-get install sip-tester)'}`, () => {
  it('calls, times the setup, exchanges real RTP (SIPp echoes it), and hangs up with BYE', async () => {
    const peer = await startSippUas('uas');
    cleanup.push(() => peer.kill());
    const { agent, sent } = await agentFor(peer);
    const call = await agent.call(`sip:ivr@127.0.0.1:${peer.port}`, { timeoutMs: 5000 });
    cleanup.push(() => call.media.close());
    expect(call.setup.finalStatus).toBe(200);
    expect(call.setup.postDialDelayMs).not.toBeNull();
    expect(call.setup.postDialDelayMs!).toBeLessThanOrEqual(call.setup.answerMs!);
    expect(call.setup.answerMs!).toBeLessThanOrEqual(call.setup.setupMs!);
    expect(call.media.codec.name).toBe('PCMU');

    const played = await call.media.play(clip);
    await new Promise((r) => setTimeout(r, 300));
    const heard = detectSpeech(call.media.heard.pcm, 8000);
    expect(heard.length).toBeGreaterThan(0);
    const spoken = detectSpeech(clip, 8000);
    // The echo of our own speech comes back as long as we said it.
    expect(Math.abs((heard.at(-1)!.endMs - heard[0]!.startMs) - (spoken.at(-1)!.endMs - spoken[0]!.startMs))).toBeLessThan(40);
    expect(call.media.heard.sampleToLocalMs(heard[0]!.startSample)).toBeGreaterThanOrEqual(played.startMs);
    expect(call.media.stats.stats.lost).toBe(0);

    await call.hangup();
    expect(sent.filter((l) => l.startsWith('BYE '))).toHaveLength(1);
    expect(await peer.exited).toBe(0); // SIPp counted one successful call
  });

  it('calls over TCP (Content-Length framing) and hangs up', async () => {
    const peer = await startSippUas('uas', 1, 'tcp');
    cleanup.push(() => peer.kill());
    const { agent, sent } = await agentFor(peer, { transport: 'tcp' });
    const call = await agent.call(`sip:ivr@127.0.0.1:${peer.port}`, { timeoutMs: 5000 });
    cleanup.push(() => call.media.close());
    expect(call.setup.finalStatus).toBe(200);
    await call.media.play(clip.subarray(0, 8000));
    await new Promise((r) => setTimeout(r, 200));
    expect(call.media.stats.stats.received).toBeGreaterThan(40);
    await call.hangup();
    expect(sent.filter((l) => l.startsWith('INVITE '))).toHaveLength(1); // reliable transport: no retransmission
    expect(await peer.exited).toBe(0);
  });

  it('refuses a plain-RTP answer when the target requires SRTP, naming config.srtp, and sends BYE', async () => {
    const peer = await startSippUas('uas');
    cleanup.push(() => peer.kill());
    const { agent, sent } = await agentFor(peer, { srtp: 'required' });
    await expect(agent.call(`sip:ivr@127.0.0.1:${peer.port}`, { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'VIGIL_E_CHANNEL_PROTOCOL', field: 'config.srtp' });
    expect(sent.find((l) => l.startsWith('INVITE '))).toBeDefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(sent.filter((l) => l.startsWith('BYE '))).toHaveLength(1); // answered 2xx: ACK, then BYE
  });

  it.each([[486, 'VIGIL_E_CHANNEL_PROTOCOL', 'udp'], [503, 'VIGIL_E_CHANNEL_UNREACHABLE', 'udp'], [486, 'VIGIL_E_CHANNEL_PROTOCOL', 'tcp'], [503, 'VIGIL_E_CHANNEL_UNREACHABLE', 'tcp']] as const)('reports a %i rejection with its status and code (%s, over %s)', async (status, code, transport) => {
    const peer = await startSippUas(`uas-${status}.xml`, 1, transport);
    cleanup.push(() => peer.kill());
    const { agent, sent } = await agentFor(peer, { transport });
    await expect(agent.call(`sip:ivr@127.0.0.1:${peer.port}`, { timeoutMs: 5000 })).rejects.toMatchObject({ code, details: { status } });
    await new Promise((r) => setTimeout(r, 200));
    expect(sent.filter((l) => l.startsWith('ACK '))).toHaveLength(1); // the non-2xx final response is acknowledged
    expect(await peer.exited).toBe(0);
  });

  it('receives the RFC 2833 digits SIPp replays from its packet captures (recordings of real equipment)', async () => {
    const peer = await startSippUas('uas-dtmf-2833.xml');
    cleanup.push(() => peer.kill());
    const { agent } = await agentFor(peer);
    const call = await agent.call(`sip:ivr@127.0.0.1:${peer.port}`, { timeoutMs: 5000 });
    cleanup.push(() => call.media.close());
    const want = '123456789*0#';
    const deadline = Date.now() + 15_000;
    while (call.media.digits.digits.length < want.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(call.media.digits.digits.map((d) => d.digit).join('')).toBe(want);
    await new Promise((r) => setTimeout(r, 700)); // let SIPp finish its last pause before the BYE
    await call.hangup();
    expect(await peer.exited).toBe(0);
  });

  it('answers a digest challenge with the right credentials, and reports 403 with wrong ones', async () => {
    const good = await startSippUas('uas-auth.xml');
    cleanup.push(() => good.kill());
    const { agent, sent } = await agentFor(good, { auth: { username: 'probe', password: 's3cret' } });
    const call = await agent.call(`sip:ivr@127.0.0.1:${good.port}`, { timeoutMs: 5000 });
    cleanup.push(() => call.media.close());
    expect(call.setup.finalStatus).toBe(200);
    expect(sent.filter((l) => l.startsWith('INVITE '))).toHaveLength(2); // challenged, then authenticated
    await call.hangup();
    expect(await good.exited).toBe(0);

    const bad = await startSippUas('uas-auth.xml');
    cleanup.push(() => bad.kill());
    const wrong = await agentFor(bad, { auth: { username: 'probe', password: 'wrong' } });
    await expect(wrong.agent.call(`sip:ivr@127.0.0.1:${bad.port}`, { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'VIGIL_E_CHANNEL_PROTOCOL', details: { status: 403 } });
  });

  it('sends DTMF as SIP INFO and routes in-dialog requests through the Record-Route set', async () => {
    const peer = await startSippUas('uas-info-dtmf.xml');
    cleanup.push(() => peer.kill());
    const { agent } = await agentFor(peer);
    const call = await agent.call(`sip:ivr@127.0.0.1:${peer.port}`, { timeoutMs: 5000 });
    cleanup.push(() => call.media.close());
    await call.sendInfoDtmf('12#*');
    await call.hangup();
    expect(await peer.exited, peer.output().slice(-1500)).toBe(0); // SIPp checked each Signal= and the BYE's Route
  });

  it.each(['udp', 'tcp'] as const)('detects a blind transfer (REFER), accepts it with 202 and reports the Refer-To target (over %s)', async (transport) => {
    const peer = await startSippUas('uas-refer.xml', 1, transport);
    cleanup.push(() => peer.kill());
    const { agent } = await agentFor(peer, { transport });
    const call = await agent.call(`sip:ivr@127.0.0.1:${peer.port}`, { timeoutMs: 5000 });
    cleanup.push(() => call.media.close());
    const t = await Promise.race([call.transferred, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no REFER')), 5000))]);
    expect(t.referTo).toBe('sip:agent-queue@127.0.0.1:5099');
    expect(call.transfers).toHaveLength(1);
    await call.hangup();
    expect(await peer.exited, peer.output().slice(-1500)).toBe(0);
  });

  it('follows a 302 redirect to an allowed target, and refuses one that leaves the allowlist', async () => {
    const b = await startSippUas('uas');
    cleanup.push(() => b.kill());
    const a = await startSippUas('uas-302.xml', 1, 'udp', ['-key', 'target', `sip:ivr@127.0.0.1:${b.port}`]);
    cleanup.push(() => a.kill());
    const ok = await SipAgent.start({ server: `127.0.0.1:${a.port}`, direct: true, allowlist: [`sip:ivr@127.0.0.1:${a.port}`, `sip:ivr@127.0.0.1:${b.port}`] });
    cleanup.push(() => ok.stop());
    const call = await ok.call(`sip:ivr@127.0.0.1:${a.port}`, { timeoutMs: 5000 });
    cleanup.push(() => call.media.close());
    expect(call.setup.finalStatus).toBe(200);
    await call.hangup();
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);

    const c = await startSippUas('uas-302.xml', 1, 'udp', ['-key', 'target', 'sip:ivr@127.0.0.1:5999']);
    cleanup.push(() => c.kill());
    const guarded = await SipAgent.start({ server: `127.0.0.1:${c.port}`, direct: true, allowlist: [`sip:ivr@127.0.0.1:${c.port}`] });
    cleanup.push(() => guarded.stop());
    await expect(guarded.call(`sip:ivr@127.0.0.1:${c.port}`, { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'VIGIL_E_DIAL_NOT_ALLOWED' });
  });

  it('retransmits a lost INVITE (timer A) and a lost BYE (timer E)', async () => {
    const peer = await startSippUas('uas');
    cleanup.push(() => peer.kill());
    const dropped = new Set<string>();
    const { agent, sent } = await agentFor(peer, {
      drop: (m) => {
        const method = /^([A-Z]+) /.exec(m)?.[1];
        if ((method === 'INVITE' || method === 'BYE') && !dropped.has(method)) { dropped.add(method); return true; }
        return false;
      },
    });
    const call = await agent.call(`sip:ivr@127.0.0.1:${peer.port}`, { timeoutMs: 10_000 });
    cleanup.push(() => call.media.close());
    expect(call.setup.answerMs!).toBeGreaterThanOrEqual(500); // answered after the first retransmission, T1 later
    await call.hangup();
    expect(sent.filter((l) => l.startsWith('INVITE '))).toHaveLength(2);
    expect(sent.filter((l) => l.startsWith('BYE '))).toHaveLength(2);
    expect(await peer.exited).toBe(0);
  });
});
