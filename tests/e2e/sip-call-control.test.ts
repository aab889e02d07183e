/**
 * Call control against SIPp on loopback: RFC 4028 session timers (we refresh; the far end should refresh and
 * does not; 422 with Min-SE), hold and resume in both directions (re-INVITE with sendonly/recvonly), and
 * transfers followed — blind (REFER to another SIPp, NOTIFY sipfrag back to the transferor, which then hangs
 * up) and attended (Refer-To with Replaces). Each SIPp scenario checks what it receives and exits non-zero
 * otherwise. Skipped, with the reason, without sip-tester.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { detectSpeech } from '@vigil/media';
import { SipAgent, type SipAgentOptions } from '@vigil/sip';
import { SIPP, startSippUas, type SippPeer } from '../support/sipp.ts';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tone = Int16Array.from({ length: 8000 }, (_, i) => (i > 800 && i < 7200 ? Math.round(8000 * Math.sin(i / 3)) : 0));

async function peer(scenario: string, calls = 1, extra: string[] = []): Promise<SippPeer> {
  const p = await startSippUas(scenario, calls, 'udp', extra);
  cleanup.push(() => p.kill());
  return p;
}

async function agent(p: SippPeer, o: Partial<SipAgentOptions> = {}): Promise<{ agent: SipAgent; trace: string[] }> {
  const trace: string[] = [];
  const a = await SipAgent.start({ server: `127.0.0.1:${p.port}`, allowlist: [`sip:ivr@127.0.0.1:${p.port}`], onTrace: (dir, m) => trace.push(`${dir} ${m}`), ...o });
  cleanup.push(() => a.stop());
  return { agent: a, trace };
}

describe.skipIf(!SIPP)(`SIP call control against SIPp${SIPP ? '' : ' (skipped: apt-get install sip-tester)'}`, () => {
  it('asks for a session timer and, as the refresher, refreshes it with re-INVITEs at half the interval', async () => {
    const p = await peer('uas-timer-uac.xml');
    const { agent: a, trace } = await agent(p, { sessionExpiresS: 1800 });
    const call = await a.call(`sip:ivr@127.0.0.1:${p.port}`, { timeoutMs: 5000 });
    cleanup.push(() => call.media.close());
    const invite = trace.find((m) => m.startsWith('out INVITE '))!;
    expect(invite).toMatch(/^Session-Expires: 1800\r$/m);
    expect(invite).toMatch(/^Supported: timer\r$/m);
    expect(call.sessionTimer).toMatchObject({ expiresS: 2, refresher: 'uac' });
    await sleep(2400); // refreshes at ~1 s and ~2 s
    expect(call.sessionTimer!.refreshes).toBe(2);
    await call.hangup();
    expect(await p.exited, p.output().slice(-1500)).toBe(0);
  });

  it('hangs up before the session expires when the far end is the refresher and does not refresh', async () => {
    const p = await peer('uas-timer-uas.xml');
    const { agent: a } = await agent(p, { sessionExpiresS: 90 });
    const call = await a.call(`sip:ivr@127.0.0.1:${p.port}`, { timeoutMs: 5000 });
    cleanup.push(() => call.media.close());
    const t0 = performance.now();
    expect(await call.ended).toBe('local');
    // RFC 4028 §10: BYE at interval - min(32 s, interval / 3) = 2 s for a 3 s interval.
    expect(performance.now() - t0).toBeGreaterThan(1800);
    expect(performance.now() - t0).toBeLessThan(2600);
    expect(await p.exited, p.output().slice(-1500)).toBe(0);
  });

  it('answers 422 Session Interval Too Small by calling again with the Min-SE it asks for', async () => {
    const p = await peer('uas-422.xml', 2);
    const { agent: a, trace } = await agent(p, { sessionExpiresS: 120 });
    const call = await a.call(`sip:ivr@127.0.0.1:${p.port}`, { timeoutMs: 5000 });
    cleanup.push(() => call.media.close());
    expect(trace.some((m) => m.startsWith('in SIP/2.0 422 '))).toBe(true);
    expect(call.sessionTimer).toMatchObject({ expiresS: 1800, refresher: 'uac' });
    await call.hangup();
    expect(await p.exited, p.output().slice(-1500)).toBe(0);
  });

  it('holds and resumes the far end, and follows the far end holding us', async () => {
    const p = await peer('uas-hold.xml');
    const { agent: a, trace } = await agent(p);
    const call = await a.call(`sip:ivr@127.0.0.1:${p.port}`, { timeoutMs: 5000 });
    cleanup.push(() => call.media.close());
    await call.hold(true);
    await call.hold(false);
    for (let i = 0; i < 50 && !call.heldByRemote; i++) await sleep(50);
    expect(call.heldByRemote).toBe(true);
    const ourAnswer = trace.filter((m) => m.startsWith('out SIP/2.0 200 OK') && /CSeq: 1 INVITE/.test(m)).at(-1)!;
    expect(ourAnswer).toMatch(/^a=recvonly\r$/m);
    expect(ourAnswer).toMatch(/^m=audio \d+ RTP\/AVP 0 101\r$/m); // the codec in use, not a new offer
    await call.hangup();
    expect(await p.exited, p.output().slice(-1500)).toBe(0);
  });

  it('follows a blind transfer: INVITE to the Refer-To, NOTIFY 200 to the transferor, which hangs up', async () => {
    const agentPeer = await peer('uas', 1);
    const ivr = await peer('uas-refer-follow.xml', 1, ['-key', 'target', `sip:agent@127.0.0.1:${agentPeer.port}`]);
    const { agent: a, trace } = await agent(ivr, { direct: true, allowlist: [`sip:ivr@127.0.0.1:${ivr.port}`, `sip:agent@127.0.0.1:${agentPeer.port}`] });
    const first = await a.call(`sip:ivr@127.0.0.1:${ivr.port}`, { timeoutMs: 5000 });
    cleanup.push(() => first.media.close());
    const t = await first.transferred;
    expect(t).toMatchObject({ referTo: `sip:agent@127.0.0.1:${agentPeer.port}`, replaces: null });
    const second = await first.followTransfer();
    cleanup.push(() => second.media.close());
    expect(second.setup.finalStatus).toBe(200);
    expect(await first.ended, ivr.output().slice(0, 2500)).toBe('remote'); // the transferor hung up on our NOTIFY 200
    expect(await ivr.exited, ivr.output().slice(-1500)).toBe(0);
    expect(trace.some((m) => m.startsWith('out NOTIFY ') && m.includes('message/sipfrag') && m.endsWith('SIP/2.0 200 OK'))).toBe(true);
    expect(trace.find((m) => m.startsWith(`out INVITE sip:agent@127.0.0.1:${agentPeer.port}`))).toMatch(/^Referred-By: <sip:ivr@/m);
    await second.media.play(tone);
    await sleep(300);
    expect(detectSpeech(second.media.heard.pcm, 8000).length).toBeGreaterThan(0); // media with the new party
    await second.hangup();
    expect(await agentPeer.exited).toBe(0);
  });

  it('follows an attended transfer with the Replaces header, and refuses a transfer target off the allowlist', async () => {
    const agentPeer = await peer('uas-replaces.xml', 1, ['-rtp_echo']);
    const target = `sip:agent@127.0.0.1:${agentPeer.port}?Replaces=consult-1%3Bto-tag%3Dagent-1%3Bfrom-tag%3Divr-1`;
    const ivr = await peer('uas-refer-follow.xml', 1, ['-key', 'target', target]);
    const { agent: a } = await agent(ivr, { direct: true, allowlist: [`sip:ivr@127.0.0.1:${ivr.port}`, `sip:agent@127.0.0.1:${agentPeer.port}`] });
    const first = await a.call(`sip:ivr@127.0.0.1:${ivr.port}`, { timeoutMs: 5000 });
    cleanup.push(() => first.media.close());
    const t = await first.transferred;
    expect(t.replaces).toBe('consult-1;to-tag=agent-1;from-tag=ivr-1');
    const second = await first.followTransfer();
    cleanup.push(() => second.media.close());
    await second.hangup();
    expect(await agentPeer.exited, agentPeer.output().slice(0, 1500)).toBe(0); // it checked Replaces and Referred-By
    expect(await ivr.exited).toBe(0);

    const ivr2 = await peer('uas-refer-follow.xml', 1, ['-key', 'target', 'sip:+19005550100@127.0.0.1:5999']);
    const { agent: guarded } = await agent(ivr2, { direct: true });
    const c = await guarded.call(`sip:ivr@127.0.0.1:${ivr2.port}`, { timeoutMs: 5000 });
    cleanup.push(() => c.media.close());
    await c.transferred;
    await expect(c.followTransfer()).rejects.toMatchObject({ code: 'VIGIL_E_DIAL_NOT_ALLOWED' });
    await c.hangup();
  });
});
