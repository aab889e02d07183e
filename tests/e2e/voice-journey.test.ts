/**
 * A voice journey end to end, standalone: `vigil run ivr.yaml --target sip:…` dials SIPp, which answers and
 * plays a recorded IVR prompt (an Asterisk recording, sent as RTP from a pcap); the probe listens, transcribes
 * with the journey's expected phrase, checks it, keys digits as RFC 4733, hangs up, and reports call setup,
 * voice turn and ASR timings with --json. A greeting that does not match is reported as a failure.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readWav } from '@vigil/media';
import { spawnVigil } from '../support/processes.ts';
import { SIPP, startSippUas, type SippPeer } from '../support/sipp.ts';
import { ivrScenario, writeRtpPcap } from '../support/pcap.ts';

const PROMPT = '/usr/share/asterisk/sounds/en/agent-pass.wav';
const READY = Boolean(SIPP) && existsSync(PROMPT) && existsSync('/usr/bin/pocketsphinx_batch');
const peers: SippPeer[] = [];
afterEach(() => { for (const p of peers.splice(0)) p.kill(); });

async function ivr(dir: string, early = false): Promise<SippPeer> {
  const pcap = join(dir, 'greeting.pcap');
  writeRtpPcap(pcap, readWav(readFileSync(PROMPT)).samples);
  writeFileSync(join(dir, 'ivr.xml'), ivrScenario(pcap, { early }));
  const peer = await startSippUas(join(dir, 'ivr.xml'));
  peers.push(peer);
  return peer;
}

function journey(dir: string, expected: string): string {
  const f = join(dir, 'ivr.yaml');
  writeFileSync(f, ['version: 1', 'name: ivr-greeting', 'channel: voice', 'settings: { step_timeout_ms: 20000 }', 'steps:', '  - listen: {}', `  - expect: { contains: "${expected}", ignore_case: true }`, '  - dtmf: "1234#"', '  - hangup: {}'].join('\n'));
  return f;
}

describe.skipIf(!READY)(`voice journey over SIP${READY ? '' : ' (skipped: needs sip-tester, pocketsphinx and the Asterisk prompts)'}`, () => {
  it('passes when the IVR says the expected prompt, with setup, turn and ASR timings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-voice-'));
    const peer = await ivr(dir);
    const p = spawnVigil(['run', journey(dir, 'please enter your password followed by the pound key'), '--target', `sip:ivr@127.0.0.1:${peer.port}`, '--json'], {}, 'voice-journey-pass');
    const code = await p.exited;
    const out = JSON.parse(p.output()) as { verdict: string; events: Array<{ kind: string; timing?: { layer: string } & Record<string, number>; text?: string; speaker?: string }> };
    expect(out.verdict, p.output().slice(-2000)).toBe('pass');
    expect(code).toBe(0);
    const timings = out.events.filter((e) => e.kind === 'timing').map((e) => e.timing!);
    const setup = timings.find((t) => t.layer === 'call_setup')!;
    expect(setup.answerMs).toBeGreaterThanOrEqual(100); // the scenario rings for 100 ms
    expect(setup.postDialDelayMs).toBeLessThan(setup.answerMs);
    const turn = timings.find((t) => t.layer === 'voice_turn')!;
    expect(turn.timeToFirstAudioMs).toBeGreaterThan(0);
    expect(turn.timeToFirstAudioMs).toBeLessThan(1000);
    expect(timings.some((t) => t.layer === 'asr')).toBe(true);
    expect(out.events.find((e) => e.kind === 'transcript' && e.speaker === 'bot')?.text).toBe('please enter your password followed by the pound key');
    expect(out.events.some((e) => e.kind === 'transcript' && e.text === '[DTMF 1234#]')).toBe(true);
    expect(await peer.exited).toBe(0); // SIPp got its BYE
  });

  it('fails when the IVR says something else, instead of forcing the transcript onto the expectation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-voice-'));
    const peer = await ivr(dir);
    const p = spawnVigil(['run', journey(dir, 'thank you for calling please hold for the next available agent'), '--target', `sip:ivr@127.0.0.1:${peer.port}`, '--json'], {}, 'voice-journey-fail');
    expect(await p.exited).toBe(1);
    const out = JSON.parse(p.output()) as { verdict: string };
    expect(out.verdict).toBe('fail');
  });

  it('hears a greeting played as early media (183 with SDP) before the answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-voice-'));
    const peer = await ivr(dir, true);
    const p = spawnVigil(['run', journey(dir, 'please enter your password followed by the pound key'), '--target', `sip:ivr@127.0.0.1:${peer.port}`, '--json'], {}, 'voice-journey-early');
    const code = await p.exited;
    const out = JSON.parse(p.output()) as { verdict: string; events: Array<{ kind: string; timing?: { layer: string } & Record<string, number> }> };
    expect(out.verdict, p.output().slice(-1500)).toBe('pass');
    expect(code).toBe(0);
    const setup = out.events.find((e) => e.timing?.layer === 'call_setup')!.timing!;
    expect(setup.answerMs).toBeGreaterThanOrEqual(4000); // answered after the early-media greeting
    const turn = out.events.find((e) => e.timing?.layer === 'voice_turn')!.timing!;
    expect(turn.timeToFirstAudioMs).toBeLessThan(1000); // heard from the INVITE on, long before the answer
    expect(await peer.exited).toBe(0);
  });
});
