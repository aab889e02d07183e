/**
 * A voice journey end to end, standalone: `vigil run ivr.yaml --target sip:…` dials SIPp, which answers and
 * plays a recorded IVR prompt (an Asterisk recording, sent as RTP from a pcap); the probe listens, transcribes
 * with the journey's expected phrase, checks it, keys digits as RFC 4733, hangs up, and reports call setup,
 * voice turn and ASR timings with --json. A greeting that does not match is reported as a failure.
 */
import { execFileSync } from 'node:child_process';
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

async function ivr(dir: string, early = false, transport: 'udp' | 'tcp' = 'udp'): Promise<SippPeer> {
  const pcap = join(dir, 'greeting.pcap');
  writeRtpPcap(pcap, readWav(readFileSync(PROMPT)).samples);
  writeFileSync(join(dir, 'ivr.xml'), ivrScenario(pcap, { early }));
  const peer = await startSippUas(join(dir, 'ivr.xml'), 1, transport);
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
    // The probe's own transcription time is measuring cost, not a target layer (that comes from target telemetry).
    expect(timings.some((t) => t.layer === 'asr')).toBe(false);
    expect(setup.finalStatus).toBe(200);
    const end = timings.find((t) => t.layer === 'call_end') as unknown as { durationMs: number; endedBy: string; packetsReceived: number; mos: number; lossPercent: number };
    expect(end).toMatchObject({ endedBy: 'local', lossPercent: 0 });
    expect(end.durationMs).toBeGreaterThan(3000); // the 3.3 s prompt, the silence after it, the digits
    expect(end.packetsReceived).toBeGreaterThan(100);
    expect(end.mos).toBeGreaterThan(4);
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

  it.each(['udp', 'tcp'] as const)('hears a greeting played as early media (183 with SDP) before the answer (over %s)', async (transport) => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-voice-'));
    const peer = await ivr(dir, true, transport);
    const p = spawnVigil(['run', journey(dir, 'please enter your password followed by the pound key'), '--target', `sip:ivr@127.0.0.1:${peer.port}`, '--transport', transport, '--json'], {}, `voice-journey-early-${transport}`);
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

  it('follows the IVR\'s transfer (expect_transfer) and hears the agent queue it lands in; refuses one off the allowlist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-voice-'));
    const pcap = join(dir, 'queue.pcap');
    writeRtpPcap(pcap, readWav(readFileSync('/usr/share/asterisk/sounds/en/pls-hold-while-try.wav')).samples);
    writeFileSync(join(dir, 'queue.xml'), ivrScenario(pcap));
    const queue = await startSippUas(join(dir, 'queue.xml'));
    peers.push(queue);
    const ivrPeer = await startSippUas('uas-refer-follow.xml', 1, 'udp', ['-key', 'target', `sip:agents@127.0.0.1:${queue.port}`]);
    peers.push(ivrPeer);
    const f = join(dir, 'transfer.yaml');
    writeFileSync(f, ['version: 1', 'name: ivr-transfer', 'channel: voice', 'settings: { step_timeout_ms: 20000 }', 'steps:',
      '  - expect_transfer: { to: "sip:agents@" }', '  - listen: {}', '  - expect: { contains: "please hold while we try to connect you", ignore_case: true }', '  - hangup: {}'].join('\n'));
    const p = spawnVigil(['run', f, '--target', `sip:ivr@127.0.0.1:${ivrPeer.port}`, '--allow', `sip:agents@127.0.0.1:${queue.port}`, '--json'], {}, 'voice-journey-transfer');
    const code = await p.exited;
    const out = JSON.parse(p.output()) as { verdict: string; events: Array<{ kind: string; text?: string; assertion?: string; verdict?: string; actual?: string }> };
    expect(out.verdict, p.output().slice(-2000)).toBe('pass');
    expect(code).toBe(0);
    expect(out.events.find((e) => e.kind === 'assertion' && e.assertion?.startsWith('transfer'))).toMatchObject({ verdict: 'pass', actual: `sip:agents@127.0.0.1:${queue.port}` });
    expect(out.events.some((e) => e.kind === 'transcript' && e.text === `[TRANSFER sip:agents@127.0.0.1:${queue.port}, followed]`)).toBe(true);
    expect(await ivrPeer.exited, ivrPeer.output().slice(0, 2000)).toBe(0); // NOTIFYs checked, then it hung up
    expect(await queue.exited).toBe(0);

    // Without --allow the transfer target is off the allowlist: the run errors with the dial guard's code.
    const ivr2 = await startSippUas('uas-refer-follow.xml', 1, 'udp', ['-key', 'target', `sip:agents@127.0.0.1:${queue.port}`]);
    peers.push(ivr2);
    const q = spawnVigil(['run', f, '--target', `sip:ivr@127.0.0.1:${ivr2.port}`, '--json'], {}, 'voice-journey-transfer-guard');
    expect(await q.exited).toBe(2);
    expect(q.output()).toContain('VIGIL_E_DIAL_NOT_ALLOWED');
  });

  it('measures a barge-in against an IVR that keeps talking, and fails max_barge_in_ms on it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-voice-'));
    // "Thank you for calling Super Awesome Company, Waldo's premier provider of perfect products." — one
    // 6.2 s stretch of speech (VAD: 125 ms to 6332 ms of the recording), then silence.
    const wav = join(dir, 'menu.wav');
    execFileSync('sox', ['/usr/share/asterisk/sounds/en/basic-pbx-ivr-main.wav', wav, 'trim', '0', '7']);
    const pcap = join(dir, 'menu.pcap');
    writeRtpPcap(pcap, readWav(readFileSync(wav)).samples);
    writeFileSync(join(dir, 'menu.xml'), ivrScenario(pcap));
    const peer = await startSippUas(join(dir, 'menu.xml'));
    peers.push(peer);
    const f = join(dir, 'barge.yaml');
    writeFileSync(f, ['version: 1', 'name: barge-in', 'channel: voice', 'settings: { step_timeout_ms: 20000, stop_on_failure: false }', 'steps:',
      '  - barge_in: { say: "agent", after_ms: 1000 }', '  - expect: { max_barge_in_ms: 800 }', '  - hangup: {}'].join('\n'));
    const p = spawnVigil(['run', f, '--target', `sip:ivr@127.0.0.1:${peer.port}`, '--json'], {}, 'voice-journey-barge-in');
    expect(await p.exited).toBe(1);
    const out = JSON.parse(p.output()) as { verdict: string; events: Array<{ kind: string; assertion?: string; verdict?: string; message?: string; timing?: { layer: string } & Record<string, number> }> };
    expect(out.verdict).toBe('fail');
    const turn = out.events.find((e) => e.timing?.layer === 'voice_turn')!.timing!;
    // We spoke ~1 s into the prompt (plus flite's leading silence); it went on to the end of its sentence.
    expect(turn.bargeInStopMs).toBeGreaterThan(6207 - 1000 - 500);
    expect(turn.bargeInStopMs).toBeLessThan(6207 - 1000 + 100);
    expect(out.events.find((e) => e.kind === 'assertion' && e.assertion === 'max_barge_in_ms 800')).toMatchObject({ verdict: 'fail', message: expect.stringContaining('over the 800 ms limit') });
  });

  it('says a recorded WAV (say.wav) and times the IVR\'s answer from the end of our speech', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-voice-'));
    const pcap = join(dir, 'answer.pcap');
    writeRtpPcap(pcap, readWav(readFileSync('/usr/share/asterisk/sounds/en/pls-hold-while-try.wav')).samples);
    // Answers 2.6 s after the ACK: our 1.9 s recording ("please enter the number you wish to call") ends first.
    writeFileSync(join(dir, 'answer.xml'), ivrScenario(pcap, { playAfterMs: 2600 }));
    const peer = await startSippUas(join(dir, 'answer.xml'));
    peers.push(peer);
    const f = join(dir, 'say-wav.yaml');
    writeFileSync(f, ['version: 1', 'name: say-wav', 'channel: voice', 'settings: { step_timeout_ms: 20000 }', 'steps:',
      '  - say: { wav: /usr/share/asterisk/sounds/en/vm-enter-num-to-call.wav }', '  - expect: { contains: "please hold while we try to connect you", ignore_case: true }', '  - hangup: {}'].join('\n'));
    const p = spawnVigil(['run', f, '--target', `sip:ivr@127.0.0.1:${peer.port}`, '--json'], {}, 'voice-journey-say-wav');
    const code = await p.exited;
    const out = JSON.parse(p.output()) as { verdict: string; events: Array<{ kind: string; text?: string; speaker?: string; timing?: { layer: string } & Record<string, number> }> };
    expect(out.verdict, p.output().slice(-1500)).toBe('pass');
    expect(code).toBe(0);
    expect(out.events.find((e) => e.kind === 'transcript' && e.speaker === 'caller')?.text).toBe('[audio vm-enter-num-to-call.wav]');
    const turn = out.events.find((e) => e.timing?.layer === 'voice_turn')!.timing!;
    // 2.6 s after the ACK minus our ~1.9 s of speech (from about the ACK on), plus the prompt's lead-in.
    expect(turn.turnLatencyMs).toBeGreaterThan(300);
    expect(turn.turnLatencyMs).toBeLessThan(1500);
    expect(await peer.exited).toBe(0);
  });
});
