/**
 * The answering side (SipServer, for the reference contact center): SIPp as the caller (its built-in uac, a
 * peer nobody here wrote) gets a 180 and a 200 with a usable SDP answer and its BYE answered; our probe calls it
 * with media both ways, its RFC 4733 digits arrive with their times, and it transfers the probe (REFER) to a
 * second SipServer that the probe follows. Skipped without sip-tester.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { detectSpeech } from '@vigil/media';
import { SipAgent, SipServer, type IncomingCall } from '@vigil/sip';
import { freePort } from '../support/services.ts';
import { SIPP } from '../support/sipp.ts';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });
const tone = Int16Array.from({ length: 8000 }, (_, i) => (i > 800 && i < 7200 ? Math.round(8000 * Math.sin(i / 3)) : 0));

describe.skipIf(!SIPP)(`answering calls (SipServer)${SIPP ? '' : ' (skipped: apt-get install sip-tester)'}`, () => {
  it('answers SIPp\'s calls (180, 200 with SDP) and its BYEs', async () => {
    const calls: IncomingCall[] = [];
    const server = await SipServer.start({ user: 'ivr', ringMs: 50, onCall: (c) => calls.push(c) });
    cleanup.push(() => server.stop());
    const child = spawn(SIPP!, ['-sn', 'uac', '-s', 'ivr', `127.0.0.1:${server.port}`, '-i', '127.0.0.1', '-p', String(await freePort()), '-m', '3', '-r', '5', '-d', '500', '-nostdin', '-timeout', '20s', '-timeout_error'], { stdio: 'ignore' });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(0); // SIPp counted three good calls
    expect(calls).toHaveLength(3);
    expect(await Promise.all(calls.map((c) => c.ended))).toEqual(['remote', 'remote', 'remote']);
  });

  it('plays to the probe, hears its digits with their times, and transfers it to an agent queue', async () => {
    const queue = await SipServer.start({ user: 'agents', onCall: (c) => { void c.media.play(tone); } });
    cleanup.push(() => queue.stop());
    const digits: Array<{ digit: string; atMs: number }> = [];
    let ivrCall!: IncomingCall;
    const ivr = await SipServer.start({
      user: 'ivr',
      onCall: (c) => {
        ivrCall = c;
        c.media.onDigit = (digit, atMs) => {
          digits.push({ digit, atMs });
          if (digit === '0') void c.refer(queue.uri);
        };
        void c.media.play(tone);
      },
    });
    cleanup.push(() => ivr.stop());
    const probe = await SipAgent.start({ server: `127.0.0.1:${ivr.port}`, direct: true, allowlist: [ivr.uri, queue.uri] });
    cleanup.push(() => probe.stop());
    const call = await probe.call(ivr.uri, { timeoutMs: 5000 });
    cleanup.push(() => call.media.close());
    await new Promise((r) => setTimeout(r, 1300));
    expect(detectSpeech(call.media.heard.pcm, 8000).length).toBe(1); // the IVR's tone, heard once
    expect(ivrCall.headers['user-agent']).toMatch(/SIP\.js/);
    const before = performance.timeOrigin + performance.now();
    await call.media.sendDigits('120');
    const t = await call.transferred;
    expect(digits.map((d) => d.digit).join('')).toBe('120');
    expect(digits[0]!.atMs).toBeGreaterThan(before);
    expect(t.referTo).toBe(queue.uri);
    const agent = await call.followTransfer(t);
    cleanup.push(() => agent.media.close());
    await new Promise((r) => setTimeout(r, 1300));
    expect(detectSpeech(agent.media.heard.pcm, 8000).length).toBe(1); // the queue's tone
    await agent.hangup();
    expect(await call.ended).toBe('local'); // the IVR did not hang up after NOTIFY: we did, after 2 s
  });
});
