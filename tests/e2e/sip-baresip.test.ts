/**
 * A voice journey against baresip (a SIP user agent nobody here wrote) that auto-answers and plays an
 * Asterisk IVR prompt followed by silence, then hangs up: `vigil run` hears and transcribes the prompt, keys
 * digits as RFC 4733 events (baresip logs each one), and answers baresip's BYE with 200 (its SIP trace shows
 * it). Skipped, with the reason, without baresip, sox, pocketsphinx or the Asterisk prompts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BARESIP, startBaresip, type BaresipPeer } from '../support/baresip.ts';
import { spawnVigil } from '../support/processes.ts';

const PROMPT = '/usr/share/asterisk/sounds/en/agent-pass.wav';
const READY = Boolean(BARESIP) && existsSync(PROMPT) && existsSync('/usr/bin/sox') && existsSync('/usr/bin/pocketsphinx_batch');
const peers: BaresipPeer[] = [];
afterEach(async () => { for (const p of peers.splice(0)) await p.stop(); });

describe.skipIf(!READY)(`voice journey against baresip${READY ? '' : ' (skipped: apt-get install baresip sox pocketsphinx asterisk-core-sounds-en-wav)'}`, () => {
  it('hears the prompt, its log shows our RFC 4733 digits, and its BYE is answered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-baresip-'));
    const wav = join(dir, 'ivr.wav');
    // "Please enter your password followed by the pound key." then 10 s of silence (time to transcribe and key
    // digits on a loaded machine); baresip hangs up at the end of the file.
    execFileSync('sox', [PROMPT, '-r', '8000', '-c', '1', '-b', '16', wav, 'pad', '0', '10']);
    const peer = await startBaresip({ wav });
    peers.push(peer);
    const journey = join(dir, 'baresip.yaml');
    writeFileSync(journey, [
      'version: 1', 'name: baresip-ivr', 'channel: voice', 'settings: { step_timeout_ms: 20000 }', 'steps:',
      '  - listen: {}',
      '  - expect: { contains: "please enter your password followed by the pound key", ignore_case: true }',
      '  - dtmf: "1234#"',
      '  - expect_hangup: {}',
    ].join('\n'));
    const p = spawnVigil(['run', journey, '--target', `sip:ivr@127.0.0.1:${peer.port}`, '--json'], {}, 'baresip-journey');
    const code = await p.exited;
    const out = JSON.parse(p.output()) as { verdict: string; events: Array<{ kind: string; text?: string; speaker?: string; timing?: { layer: string } & Record<string, number> }> };
    expect(out.verdict, p.output().slice(-2000)).toBe('pass');
    expect(code).toBe(0);
    expect(out.events.find((e) => e.kind === 'transcript' && e.speaker === 'bot')?.text).toBe('please enter your password followed by the pound key');
    expect(out.events.some((e) => e.kind === 'transcript' && e.text === '[HANGUP]')).toBe(true);
    const turn = out.events.find((e) => e.timing?.layer === 'voice_turn')!.timing!;
    expect(turn.timeToFirstAudioMs).toBeLessThan(500);
    expect(out.events.find((e) => e.timing?.layer === 'call_end')?.timing).toMatchObject({ endedBy: 'remote', srtpSuite: '' });
    const log = peer.output();
    expect([...log.matchAll(/received event: '(.)' \(end=1\)/g)].map((m) => m[1]).join('')).toBe('1234#');
    // baresip's own SIP trace: it sent BYE and received our 200 for it.
    expect(log).toMatch(/BYE sip:vigil-probe@[\s\S]*SIP\/2\.0 200 OK[^\n]*\n(?:[^\n]*\n)*?CSeq: \d+ BYE/);
  });

  it('talks SRTP (SDES, RTP/SAVP) with baresip when the target requires it; a peer without SRTP refuses the call (488)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-baresip-'));
    const wav = join(dir, 'ivr.wav');
    execFileSync('sox', [PROMPT, '-r', '8000', '-c', '1', '-b', '16', wav, 'pad', '0', '10']);
    const peer = await startBaresip({ wav, srtp: 'srtp-mand' });
    peers.push(peer);
    const { SipAgent } = await import('@vigil/sip');
    const { PocketsphinxTranscriber } = await import('@vigil/speech');
    const { detectSpeech } = await import('@vigil/media');
    const agent = await SipAgent.start({ server: `127.0.0.1:${peer.port}`, allowlist: [`sip:ivr@127.0.0.1:${peer.port}`], srtp: 'required' });
    try {
      const call = await agent.call(`sip:ivr@127.0.0.1:${peer.port}`, { timeoutMs: 5000 });
      expect(call.media.srtp?.suite).toMatch(/^AES_CM_128_HMAC_SHA1_(80|32)$/);
      await new Promise((r) => setTimeout(r, 4000));
      const seg = detectSpeech(call.media.heard.pcm, 8000);
      expect(seg.length).toBeGreaterThan(0);
      const audio = { sampleRate: 8000, channels: 1 as const, samples: call.media.heard.pcm.slice(seg[0]!.startSample, seg.at(-1)!.endSample) };
      const heard = await new PocketsphinxTranscriber().transcribe(audio, { phrases: ['please enter your password followed by the pound key'] });
      expect(heard.matchedPhrase).toBe('please enter your password followed by the pound key'); // decrypted right
      // baresip also sends a few plain RTCP packets (an RTCP BYE+SDES when it restarts its stream): dropped
      // and counted as unauthenticated, never taken as media.
      expect(call.media.srtp!.replays).toBe(0);
      expect(call.media.srtp!.authFailures).toBeLessThan(call.media.quality().packetsReceived / 50);
      await call.media.sendDigits('42#');
      await call.hangup();
      await call.media.close();
      // baresip authenticated and decrypted our SRTP: it logs the digits.
      expect([...peer.output().matchAll(/received event: '(.)' \(end=1\)/g)].map((m) => m[1]).join('')).toBe('42#');
      expect(peer.output()).toMatch(/m=audio \d+ RTP\/SAVP/);
    } finally {
      await agent.stop();
    }

    const plain = await startBaresip({ wav });
    peers.push(plain);
    const strict = await SipAgent.start({ server: `127.0.0.1:${plain.port}`, allowlist: [`sip:ivr@127.0.0.1:${plain.port}`], srtp: 'required' });
    try {
      await expect(strict.call(`sip:ivr@127.0.0.1:${plain.port}`, { timeoutMs: 5000 })).rejects.toMatchObject({ field: 'config.srtp', details: { status: 488 } });
    } finally {
      await strict.stop();
    }
  });
});
