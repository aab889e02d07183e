/**
 * The reference contact center end to end: `vigil run` navigates its SIP IVR by DTMF (greeting, billing,
 * back, agent), is transferred by REFER to the agent queue and hears its hold message; the agent desktop
 * shows the menu path; the turn latencies Vigil measured agree with the center's ground truth. Each fault
 * switch trips the journey assertion it must. Needs flite and pocketsphinx.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROMPTS, serveApi, startContactCenter, type CallTruth, type ContactCenter, type Faults } from '@vigil/refcc';
import { spawnVigil } from '../support/processes.ts';
import { freePort, waitFor } from '../support/services.ts';

const READY = existsSync('/usr/bin/flite') && existsSync('/usr/bin/pocketsphinx_batch');
const said = (p: keyof typeof PROMPTS) => PROMPTS[p].toLowerCase().replace(/[.,]/g, '').replace(/\b1\b/g, 'one').replace(/\b2\b/g, 'two').replace(/\b3\b/g, 'three').replace(/\b0\b/g, 'zero');

type Out = { runId: string; verdict: string; errorCode?: string; events: Array<{ kind: string; stepIndex: number; text?: string; speaker?: string; assertion?: string; verdict?: string; actual?: string; timing?: { layer: string } & Record<string, number> }> };

describe.skipIf(!READY)(`reference contact center${READY ? '' : ' (skipped: apt-get install flite pocketsphinx pocketsphinx-en-us)'}`, () => {
  let cc: ContactCenter;
  let api: { url: string; close: () => Promise<void> };
  const dir = mkdtempSync(join(tmpdir(), 'vigil-refcc-'));
  beforeAll(async () => {
    cc = await startContactCenter({ menuTimeoutMs: 8000 });
    api = await serveApi(cc);
  });
  afterAll(async () => { await api?.close(); await cc?.stop(); });

  async function run(name: string, steps: string[], faults: Faults = {}, stepTimeoutMs = 15_000, target?: string, extra: string[] = []): Promise<{ out: Out; code: number | null }> {
    const put = await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: JSON.stringify(faults) });
    expect(put.status).toBe(200);
    const f = join(dir, `${name}.yaml`);
    writeFileSync(f, ['version: 1', `name: ${name}`, 'channel: voice', `settings: { step_timeout_ms: ${stepTimeoutMs} }`, 'steps:', ...steps.map((s) => `  - ${s}`)].join('\n'));
    const p = spawnVigil(['run', f, '--target', target ?? cc.ivrUri, '--allow', cc.agentsUri, '--allow', cc.botUri, ...extra, '--json'], {}, `refcc-${name}`);
    const code = await p.exited;
    return { out: JSON.parse(p.output()) as Out, code };
  }

  it('navigates the IVR, is transferred to the agent queue, and agrees with the ground truth', async () => {
    const { out, code } = await run('ivr-tour', [
      'listen: {}', `expect: { contains: "${said('greeting')}" }`,
      'dtmf: "1"', 'listen: {}', `expect: { contains: "${said('billing')}" }`,
      'dtmf: "*"', 'listen: {}', `expect: { contains: "${said('greeting')}" }`,
      'dtmf: "0"', 'listen: {}', `expect: { contains: "${said('transfer')}" }`,
      'expect_transfer: { to: "sip:agents@" }', 'listen: {}', `expect: { contains: "${said('hold')}" }`,
      'hangup: {}',
    ]);
    expect(out.verdict, JSON.stringify(out.events.filter((e) => e.kind === 'assertion' || e.kind === 'transcript')).slice(0, 3000)).toBe('pass');
    expect(code).toBe(0);

    const res = await fetch(`${api.url}/v1/calls?runId=${out.runId}`);
    const calls = await res.json() as CallTruth[];
    const ivr = calls.find((c) => c.service === 'ivr')!;
    expect(calls.map((c) => c.service).sort()).toEqual(['agents', 'ivr']);
    const desk = await (await fetch(`${api.url}/v1/agent-desktop/events`)).json() as Array<{ callId: string; matchedBy: string; context: { menuPath: string[]; ivrCallId: string } }>;
    // The context came with the call (User-to-User token in the Refer-To, copied into the probe's INVITE).
    expect(desk.find((d) => d.context.ivrCallId === ivr.callId)).toMatchObject({ matchedBy: 'user-to-user', callId: calls.find((c) => c.service === 'agents')!.callId, context: { menuPath: ['1', '*', '0'], botCallId: null } });

    // Turn latency after each digit: measured by Vigil (last digit's end packets due on its media clock → first
    // speech sample heard) against the truth (the end packet's media-clock time from its RTP timestamp and
    // duration, mapped through the caller's audio → first speech sample of the answering prompt sent).
    // (The answering prompt is the next prompt event after the digit; its first frame's media-clock time can
    // be a fraction of a frame before the digit's arrival, its speech well after.)
    const truth = ivr.events.flatMap((d, i) => {
      if (d.kind !== 'dtmf') return [];
      const next = ivr.events.slice(i + 1).find((e): e is Extract<typeof e, { kind: 'prompt' }> => e.kind === 'prompt')!;
      return [next.speechStartMs! - d.atMs];
    });
    const measured = out.events.filter((e) => e.timing?.layer === 'voice_turn' && e.timing.turnLatencyMs > 0).map((e) => e.timing!.turnLatencyMs);
    expect(measured).toHaveLength(3);
    const errors = measured.map((m, i) => m - truth[i]!);
    console.log(`turn latency, measured vs truth (ms): ${measured.map((m, i) => `${m.toFixed(1)} vs ${truth[i]!.toFixed(1)}`).join(', ')}`);
    for (const e of errors) expect(Math.abs(e)).toBeLessThanOrEqual(5);
  });

  // A digit right after the answer cuts the greeting (DTMF barge-in), which keeps these short.
  it.each([
    ['promptDelayMs', { promptDelayMs: 1500 }, ['dtmf: "1"', 'listen: {}', 'expect: { max_first_token_ms: 1000 }'], 'fail'],
    ['deadAir', { deadAir: true }, ['listen: {}', `expect: { contains: "${said('greeting')}" }`], 'error'],
    ['dropAfterMs', { dropAfterMs: 1500 }, ['listen: {}', 'dtmf: "1"', 'listen: {}'], 'error'],
    ['transferTarget', { transferTarget: 'sip:wrong-queue@127.0.0.1:9' }, ['dtmf: "0"', 'expect_transfer: { to: "sip:agents@", follow: false }'], 'fail'],
    ['botDelayMs', { botDelayMs: 2000 }, ['listen: {}', 'say: "what is my balance"', 'expect: { max_first_token_ms: 2500 }'], 'fail'],
    ['asrDelayMs', { asrDelayMs: { min: 2000, max: 2200 } }, ['listen: {}', 'say: "what is my balance"', 'expect: { max_first_token_ms: 2500 }'], 'fail'],
    ['ttsDelayMs', { ttsDelayMs: 2000 }, ['listen: {}', 'say: "what is my balance"', 'expect: { max_first_token_ms: 2500 }'], 'fail'],
  ] as const)('fault %s trips the journey', async (name, faults, steps, verdict) => {
    const toBot = name === 'botDelayMs' || name === 'asrDelayMs' || name === 'ttsDelayMs';
    const { out } = await run(`fault-${name.toLowerCase()}`, [...steps], faults as Faults, name === 'deadAir' ? 5000 : 15_000, toBot ? cc.botUri : undefined);
    if (name === 'asrDelayMs' || name === 'ttsDelayMs') {
      // The truth names the layer that moved.
      const bot = (await (await fetch(`${api.url}/v1/calls?runId=${out.runId}`)).json() as CallTruth[]).find((c) => c.service === 'bot')!;
      const t = bot.events.find((e) => e.kind === 'caller_turn') as { endpointMs: number; asrFinalMs: number; decisionMs: number; ttsReadyMs: number };
      const [asrMs, ttsMs] = [t.asrFinalMs - t.endpointMs, t.ttsReadyMs - t.decisionMs];
      expect(name === 'asrDelayMs' ? asrMs : ttsMs).toBeGreaterThanOrEqual(2000);
      expect(name === 'asrDelayMs' ? ttsMs : asrMs).toBeLessThan(1500);
    }
    expect(out.verdict, JSON.stringify(out.events.filter((e) => e.kind !== 'timing')).slice(0, 2000)).toBe(verdict);
    if (name === 'transferTarget') expect(out.events.find((e) => e.kind === 'assertion')).toMatchObject({ verdict: 'fail', actual: 'sip:wrong-queue@127.0.0.1:9' });
    if (name === 'promptDelayMs') expect(out.events.find((e) => e.kind === 'assertion')?.actual).toMatch(/^1[5-9]\d\d\.\d ms$/);
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: '{}' });
  });

  it('checks the call\'s quality when it ends (journey-wide min_mos / max_loss_percent / max_jitter_ms)', async () => {
    const f = join(dir, 'quality.yaml');
    const verdicts: string[] = [];
    for (const mos of [4, 4.45]) {
      // The expect gives the recogniser its phrase set (open-vocabulary decoding of the 10 s greeting is slow under load).
      writeFileSync(f, ['version: 1', 'name: ivr-quality', 'channel: voice', 'settings: { step_timeout_ms: 30000 }', 'steps:', '  - listen: {}', `  - expect: { contains: "${said('greeting')}" }`, '  - hangup: {}',
        'assertions:', `  - min_mos: ${mos}`, '  - max_loss_percent: 1', '  - max_jitter_ms: 30'].join('\n'));
      const p = spawnVigil(['run', f, '--target', cc.ivrUri, '--json'], {}, `refcc-quality-${mos}`);
      await p.exited;
      const out = JSON.parse(p.output()) as Out;
      verdicts.push(out.verdict);
      const q = out.events.filter((e) => e.kind === 'assertion' && e.stepIndex === 2).map((e) => `${e.assertion}: ${e.verdict}`);
      // G.711 on loopback rates about 4.4 (the E-model's ceiling for it), no loss, little jitter.
      expect(q, JSON.stringify(out.events.filter((e) => e.kind === 'step_finished' || e.kind === 'run_finished'))).toEqual([`min_mos ${mos}: ${mos === 4 ? 'pass' : 'fail'}`, 'max_loss_percent 1: pass', 'max_jitter_ms 30: pass']);
    }
    expect(verdicts).toEqual(['pass', 'fail']);
  });

  it('refuses bad fault switches, naming the field', async () => {
    const r = await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: JSON.stringify({ promptDelayMs: { min: 900, max: 100 } }) });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ code: 'VIGIL_E_REQUEST_INVALID', field: 'promptDelayMs' });
    const u = await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: JSON.stringify({ latency: 5 }) });
    expect(await u.json()).toMatchObject({ field: 'latency' });
    expect(await (await fetch(`${api.url}/v1/faults`)).json()).toEqual({});
  });

  it('runs as its own command (vigil contact-center) and stops on SIGTERM', async () => {
    const http = await freePort();
    const p = spawnVigil(['contact-center', '--http-port', String(http), '--menu-timeout-ms', '3000'], {}, 'refcc-command');
    await waitFor('contact center up', async () => p.output().includes('contact center up'), 30_000);
    expect(p.output()).toMatch(/IVR {10}sip:ivr@127\.0\.0\.1:\d+/);
    expect(await (await fetch(`http://127.0.0.1:${http}/healthz`)).json()).toEqual({ ok: true });
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const bad = spawnVigil(['contact-center', '--sip-port', 'x'], {}, 'refcc-command-bad');
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain('--sip-port');
  });

  it('IVR → voice bot → agent: the desktop gets what the IVR and the bot collected, along the whole chain', async () => {
    const { out } = await run('ivr-bot-agent', [
      'listen: {}', 'dtmf: "3"', 'listen: {}', `expect: { contains: "${said('assistant')}" }`,
      'expect_transfer: { to: "sip:bot@" }', 'listen: {}', 'expect: { contains: "hello this is the vigil bank assistant how can i help you" }',
      'say: "i want to speak to an agent"', 'expect_transfer: { to: "sip:agents@" }', 'listen: {}', `expect: { contains: "${said('hold')}" }`, 'hangup: {}',
    ], {}, 20_000);
    expect(out.verdict, JSON.stringify(out.events.filter((e) => e.kind === 'assertion' || e.kind === 'transcript' || e.kind === 'step_finished')).slice(0, 3000)).toBe('pass');
    const calls = await (await fetch(`${api.url}/v1/calls?runId=${out.runId}`)).json() as CallTruth[];
    const id = (s: string) => calls.find((c) => c.service === s)!.callId;
    const desk = await (await fetch(`${api.url}/v1/agent-desktop/events`)).json() as Array<{ callId: string; matchedBy: string; context: unknown }>;
    expect(desk.find((d) => d.callId === id('agents'))).toMatchObject({
      matchedBy: 'user-to-user', context: { menuPath: ['3', 'bot', 'escalate'], ivrCallId: id('ivr'), botCallId: id('bot'), transcript: ['i want to speak to an agent'] },
    });
  });

  it('talks with the voice bot: its turn latency agrees with the bot\'s truth', async () => {
    const { out, code } = await run('bot', [
      'listen: {}', 'expect: { contains: "hello this is the vigil bank assistant how can i help you" }',
      'say: "what is my balance"', 'expect: { contains: "i can help with your balance what is your account number" }', 'hangup: {}',
    ], {}, 15_000, cc.botUri);
    expect(out.verdict, JSON.stringify(out.events.filter((e) => e.kind === 'assertion' || e.kind === 'transcript')).slice(0, 3000)).toBe('pass');
    expect(code).toBe(0);
    const bot = (await (await fetch(`${api.url}/v1/calls?runId=${out.runId}`)).json() as CallTruth[]).find((c) => c.service === 'bot')!;
    const turn = bot.events.find((e) => e.kind === 'caller_turn') as { speechEndMs: number; endpointMs: number; asrFinalMs: number; decisionMs: number; ttsReadyMs: number; intent: string };
    expect(turn.intent).toBe('ask_account');
    const reply = bot.events.filter((e) => e.kind === 'bot_reply')[1] as { speechStartMs: number };
    // Caller's last speech sample (as the bot heard it) → the reply's first speech sample (as it sent it).
    const truth = reply.speechStartMs - turn.speechEndMs;
    const measured = out.events.filter((e) => e.timing?.layer === 'voice_turn')[1]!.timing!.turnLatencyMs;
    console.log(`bot turn latency measured ${measured.toFixed(1)} vs truth ${truth.toFixed(1)} ms (endpoint ${(turn.endpointMs - turn.speechEndMs).toFixed(0)}, ASR ${(turn.asrFinalMs - turn.endpointMs).toFixed(0)}, dialogue ${(turn.decisionMs - turn.asrFinalMs).toFixed(1)}, TTS ${(turn.ttsReadyMs - turn.decisionMs).toFixed(0)} ms)`);
    expect(Math.abs(measured - truth)).toBeLessThanOrEqual(5);
  });

  it.each([[false, 'pass'], [true, 'fail']] as const)('barges in on the bot (ignoreBargeIn %s): stop time agrees with its truth, then escalates', async (ignore, verdict) => {
    const { out } = await run(`bot-barge-${ignore}`, [
      'barge_in: { say: "i want to speak to an agent", after_ms: 1000 }', // over its greeting
      'expect: [{ max_barge_in_ms: 600 }, { contains: "i\'m transferring you to an agent now please hold" }]',
      'expect_transfer: { to: "sip:agents@" }', 'hangup: {}',
    ], { ignoreBargeIn: ignore }, 15_000, cc.botUri);
    expect(out.verdict, JSON.stringify(out.events.filter((e) => e.kind === 'assertion' || e.kind === 'transcript' || e.kind === 'step_finished')).slice(0, 3000)).toBe(verdict);
    const measured = out.events.find((e) => e.timing?.layer === 'voice_turn')!.timing!.bargeInStopMs;
    const bot = (await (await fetch(`${api.url}/v1/calls?runId=${out.runId}`)).json() as CallTruth[]).find((c) => c.service === 'bot')!;
    if (!ignore) {
      const barge = bot.events.find((e) => e.kind === 'barge_in') as { callerOnsetMs: number; detectedMs: number; stoppedMs: number };
      const truth = barge.stoppedMs - barge.callerOnsetMs;
      console.log(`barge-in stop measured ${measured.toFixed(1)} vs truth ${truth.toFixed(1)} ms`);
      expect(Math.abs(measured - truth)).toBeLessThanOrEqual(30);
    } else {
      expect(bot.events.some((e) => e.kind === 'barge_in')).toBe(false);
      expect(measured).toBeGreaterThan(600);
    }
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: '{}' });
  });

  it.each([[false, 'pass'], [true, 'fail']] as const)('the voice bot opens a CRM case for a lost card (crmFail %s)', async (crmFail, verdict) => {
    const { out } = await run(`bot-crm-${crmFail}`, [
      'listen: {}', 'say: "i lost my card"',
      'expect: { contains: "i\'m sorry to hear that i have blocked your card and a replacement will arrive within five business days" }', 'hangup: {}',
    ], { crmFail }, 15_000, cc.botUri);
    expect(out.verdict, JSON.stringify(out.events.filter((e) => e.kind === 'assertion' || e.kind === 'transcript')).slice(0, 2000)).toBe(verdict);
    const bot = (await (await fetch(`${api.url}/v1/calls?runId=${out.runId}`)).json() as CallTruth[]).find((c) => c.service === 'bot')!;
    const cases = await (await fetch(`${api.url}/v1/crm/cases?reference=${encodeURIComponent(bot.callId)}`)).json() as Array<{ subject: string; channel: string }>;
    expect(cases).toEqual(crmFail ? [] : [expect.objectContaining({ subject: 'Lost card: card blocked, replacement ordered', channel: 'voice' })]);
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: '{}' });
  });

  it.each([[false, 'pass'], [true, 'fail']] as const)('cross-system check over voice: the CRM holds a case for the call (crmFail %s)', async (crmFail, verdict) => {
    // No check on what the bot says: only the CRM query decides.
    const { out } = await run(`crm-check-${crmFail}`, [
      'listen: {}', 'say: "i lost my card"', 'hangup: {}',
      'http: { url: "{{vars.cc}}/v1/crm/cases?reference={{call.id}}", until_ms: 2000, expect: [{ status: 200 }, { jsonpath: { path: "$[0].subject", contains: "Lost card" } }] }',
    ], { crmFail }, 15_000, cc.botUri, ['--var', `cc=${api.url}`, '--allow', api.url]);
    expect(out.verdict, JSON.stringify(out.events.filter((e) => e.kind === 'assertion')).slice(0, 2000)).toBe(verdict);
    const failed = out.events.filter((e) => e.kind === 'assertion' && e.verdict !== 'pass');
    if (crmFail) expect(failed.map((e) => e.assertion)).toEqual(['jsonpath $[0].subject contains "Lost card"']);
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: '{}' });
  });

  it.each([[false, 'pass'], [true, 'fail']] as const)('cross-system check over chat (webhook): the CRM case carries the chat session (crmFail %s)', async (crmFail, verdict) => {
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: JSON.stringify({ crmFail }) });
    const f = join(dir, `chat-crm-${crmFail}.yaml`);
    writeFileSync(f, ['version: 1', 'name: chat-crm', 'channel: chat', 'steps:', '  - say: "i lost my card"',
      '  - http: { url: "{{vars.cc}}/v1/crm/cases?reference={{session.id}}", until_ms: 2000, expect: { jsonpath: { path: "$[0].channel", equals: "chat" } } }'].join('\n'));
    const p = spawnVigil(['run', f, '--target', `${cc.chatUrl}/webhook`, '--reply-path', '$.reply', '--var', `cc=${api.url}`, '--allow', api.url, '--json'], {}, `refcc-chat-crm-${crmFail}`);
    await p.exited;
    const out = JSON.parse(p.output()) as Out;
    expect(out.verdict, p.output().slice(-1500)).toBe(verdict);
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: '{}' });
  });

  it.each([[false, 'pass'], [true, 'fail']] as const)('webhooks: the CRM calls the probe back when it opens the case (crmFail %s)', async (crmFail, verdict) => {
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: JSON.stringify({ crmFail }) });
    const f = join(dir, `webhook-${crmFail}.yaml`);
    writeFileSync(f, ['version: 1', 'name: crm-webhook', 'channel: chat', 'steps:',
      '  - http: { method: POST, url: "{{vars.cc}}/v1/crm/webhooks", body: { url: "{{webhook.url}}" }, expect: { status: 201 } }',
      '  - say: "i lost my card"',
      '  - wait_webhook: { timeout_ms: 3000, expect: [{ jsonpath: { path: "$.event", equals: "case.created" } }, { jsonpath: { path: "$.case.channel", equals: "chat" } }] }',
      '  - capture: { as: case_id, jsonpath: "$.case.id" }',
      '  - http: { url: "{{vars.cc}}/v1/crm/cases?reference={{session.id}}", expect: { jsonpath: { path: "$[0].id", exists: true } } }',
    ].join('\n'));
    const p = spawnVigil(['run', f, '--target', `${cc.chatUrl}/webhook`, '--var', `cc=${api.url}`, '--allow', api.url, '--json'], {}, `refcc-webhook-${crmFail}`);
    await p.exited;
    const out = JSON.parse(p.output()) as Out;
    expect(out.verdict, JSON.stringify(out.events.filter((e) => e.kind === 'assertion'))).toBe(verdict);
    const received = out.events.find((e) => e.kind === 'assertion' && e.assertion === 'webhook received')!;
    expect(received.verdict).toBe(crmFail ? 'fail' : 'pass');
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: '{}' });
    await fetch(`${api.url}/v1/crm/webhooks`, { method: 'DELETE' });
  });

  it('serves the same dialogue on its chat entrance, writing the same CRM case', async () => {
    const f = join(dir, 'chat.yaml');
    writeFileSync(f, ['version: 1', 'name: chat-lost-card', 'channel: chat', 'steps:', '  - say: I lost my card', '  - expect: { contains: blocked your card }'].join('\n'));
    const p = spawnVigil(['run', f, '--target', `${cc.chatUrl}/webhook`, '--json'], {}, 'refcc-chat');
    expect(await p.exited).toBe(0);
    const out = JSON.parse(p.output()) as Out;
    const cases = await (await fetch(`${api.url}/v1/crm/cases?reference=vigil-${out.runId}`)).json() as Array<{ channel: string }>;
    expect(cases).toEqual([expect.objectContaining({ channel: 'chat' })]);
    const bad = await fetch(`${api.url}/v1/crm/cases`, { method: 'POST', body: JSON.stringify({ subject: 'x', channel: 'fax', reference: 'r' }) });
    expect(await bad.json()).toMatchObject({ code: 'VIGIL_E_REQUEST_INVALID', field: 'channel' });
  });

  it('policy drift: after two conversations the bot quotes a fee that does not exist, and the journey catches it', async () => {
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: JSON.stringify({ policyDrift: { afterCalls: 2 } }) });
    const f = join(dir, 'fees.yaml');
    writeFileSync(f, ['version: 1', 'name: chat-fees', 'channel: chat', 'steps:', '  - say: What are the fees?', '  - expect: [{ contains: no monthly fee }, { not_contains: monthly fee of }]'].join('\n'));
    const verdicts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = spawnVigil(['run', f, '--target', `${cc.chatUrl}/webhook`, '--json'], {}, `refcc-drift-${i}`);
      await p.exited;
      verdicts.push((JSON.parse(p.output()) as Out).verdict);
    }
    expect(verdicts).toEqual(['pass', 'pass', 'fail']);
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: '{}' });
  });

  it('slow CRM writes (crmDelayMs) hold the bot\'s answer back, and a latency assertion trips', async () => {
    const f = join(dir, 'crm-slow.yaml');
    writeFileSync(f, ['version: 1', 'name: chat-crm-slow', 'channel: chat', 'steps:', '  - say: i lost my card', '  - expect: [{ contains: blocked your card }, { max_latency_ms: 1000 }]'].join('\n'));
    const verdicts: string[] = [];
    for (const faults of [{}, { crmDelayMs: 1500 }]) {
      await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: JSON.stringify(faults) });
      const p = spawnVigil(['run', f, '--target', `${cc.chatUrl}/webhook`, '--json'], {}, `refcc-crm-slow-${verdicts.length}`);
      await p.exited;
      const out = JSON.parse(p.output()) as Out;
      verdicts.push(out.verdict);
      if (verdicts.length === 2) expect(out.events.filter((e) => e.kind === 'assertion' && e.verdict === 'fail').map((e) => e.assertion)).toEqual(['max_latency_ms 1000']);
    }
    expect(verdicts).toEqual(['pass', 'fail']);
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: '{}' });
  });

  it('policy drift, disclosure variant: from the first conversation the bot leaves out the transfer fee it must state', async () => {
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: JSON.stringify({ policyDrift: { afterCalls: 0, variant: 'disclosure' } }) });
    const f = join(dir, 'disclosure.yaml');
    writeFileSync(f, ['version: 1', 'name: chat-disclosure', 'channel: chat', 'steps:', '  - say: What are the fees?', '  - expect: [{ contains: no monthly fee }, { name: required disclosure, contains: international transfers cost }]'].join('\n'));
    const p = spawnVigil(['run', f, '--target', `${cc.chatUrl}/webhook`, '--json'], {}, 'refcc-drift-disclosure');
    await p.exited;
    const out = JSON.parse(p.output()) as Out;
    expect(out.verdict).toBe('fail');
    expect(out.events.filter((e) => e.kind === 'assertion' && e.verdict === 'fail').map((e) => e.assertion)).toEqual(['required disclosure']);
    const bad = await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: JSON.stringify({ policyDrift: { afterCalls: 0, variant: 'rude' } }) });
    expect(await bad.json()).toMatchObject({ field: 'policyDrift' });
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: '{}' });
  });

  it('ASR degradation: with the caller buried in noise the voice bot misunderstands, and the journey fails', async () => {
    const { out } = await run('bot-asr-noise', [
      'listen: {}', 'say: "i lost my card"',
      'expect: { contains: "i\'m sorry to hear that i have blocked your card and a replacement will arrive within five business days" }', 'hangup: {}',
    ], { asrNoiseSnrDb: -6 }, 15_000, cc.botUri);
    expect(out.verdict).toBe('fail');
    const bot = (await (await fetch(`${api.url}/v1/calls?runId=${out.runId}`)).json() as CallTruth[]).find((c) => c.service === 'bot')!;
    expect((bot.events.find((e) => e.kind === 'caller_turn') as { intent: string }).intent).not.toBe('card_lost');
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: '{}' });
  });

  it('lets any OpenAI-compatible endpoint write the answers when configured (temperature 0, the conversation so far)', async () => {
    // A local OpenAI-compatible server that records what it is asked (no real LLM is reachable here).
    const asked: Array<{ model: string; temperature: number; messages: Array<{ role: string; content: string }> }> = [];
    const llm = createServer(async (req, res) => {
      let body = '';
      for await (const c of req) body += c;
      asked.push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: `LLM answer ${asked.length}: I can help with that.` } }] }));
    });
    await new Promise<void>((r) => llm.listen(0, '127.0.0.1', () => r()));
    const center = await startContactCenter({ llm: { baseUrl: `http://127.0.0.1:${(llm.address() as AddressInfo).port}/v1`, model: 'test-model' } });
    try {
      const say = async (message: string): Promise<{ reply: string; intent: string }> => {
        const r = await fetch(`${center.chatUrl}/webhook`, { method: 'POST', body: JSON.stringify({ session_id: 's-llm', message }) });
        return await r.json() as { reply: string; intent: string };
      };
      expect(await say('what is my balance')).toMatchObject({ reply: 'LLM answer 1: I can help with that.', intent: 'ask_account' });
      expect(await say('I lost my card')).toMatchObject({ reply: 'LLM answer 2: I can help with that.', intent: 'card_lost' });
      expect(asked[1]).toMatchObject({ model: 'test-model', temperature: 0 });
      expect(asked[1]!.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
      expect(center.crm.cases.filter((c) => c.reference === 's-llm')).toHaveLength(1); // the rule intent still writes the CRM
    } finally {
      await center.stop();
      llm.close();
    }
  });

  it('greets as early media (183 with SDP) before answering when asked to', async () => {
    const early = await startContactCenter({ earlyMediaGreeting: true, menuTimeoutMs: 8000 });
    try {
      const f = join(dir, 'early.yaml');
      writeFileSync(f, ['version: 1', 'name: early-greeting', 'channel: voice', 'settings: { step_timeout_ms: 20000 }', 'steps:',
        '  - listen: {}', `  - expect: { contains: "${said('greeting')}" }`, '  - dtmf: "2"', '  - listen: {}', `  - expect: { contains: "${said('cards')}" }`, '  - hangup: {}'].join('\n'));
      const p = spawnVigil(['run', f, '--target', early.ivrUri, '--json'], {}, 'refcc-early');
      const code = await p.exited;
      const out = JSON.parse(p.output()) as Out;
      expect(out.verdict, p.output().slice(-1500)).toBe('pass');
      expect(code).toBe(0);
      const setup = out.events.find((e) => e.timing?.layer === 'call_setup')!.timing!;
      expect(setup.earlyMedia).toBe(true);
      expect(setup.answerMs).toBeGreaterThan(7000); // answered after the 8 s greeting
      const truth = early.calls.get([...early.calls.keys()][0]!)!;
      const greeting = truth.events.find((e) => e.kind === 'prompt') as { sentAtMs: number };
      const answered = truth.events.find((e) => e.kind === 'answered')!;
      expect(greeting.sentAtMs).toBeLessThan(answered.atMs);
    } finally {
      await early.stop();
    }
  });

  it.skipIf(!existsSync('/usr/share/asterisk/sounds/en/basic-pbx-ivr-main.wav'))('speaks with Asterisk\'s recorded human prompts instead of TTS, and the turn latencies still agree with the truth', { timeout: 150_000 }, async () => {
    const center = await startContactCenter({ prompts: 'asterisk', menuTimeoutMs: 15_000 });
    try {
      const words = (t: string) => t.toLowerCase().replace(/[.,!]/g, '').replace(/\b1\b/g, 'one').replace(/\b2\b/g, 'two').replace(/\b3\b/g, 'three').replace(/\b4\b/g, 'four').replace(/\b5\b/g, 'five');
      const f = join(dir, 'asterisk.yaml');
      writeFileSync(f, ['version: 1', 'name: asterisk-prompts', 'channel: voice', 'settings: { step_timeout_ms: 30000 }', 'steps:',
        '  - wait: 1000', '  - dtmf: "1"', '  - listen: {}', `  - expect: { contains: "${words(center.promptTexts.billing)}" }`,
        '  - dtmf: "*"', '  - listen: {}', '  - dtmf: "2"', '  - listen: {}', `  - expect: { contains: "${words(center.promptTexts.cards)}" }`, '  - hangup: {}'].join('\n'));
      const p = spawnVigil(['run', f, '--target', center.ivrUri, '--json'], {}, 'refcc-asterisk');
      await p.exited;
      const out = JSON.parse(p.output()) as Out;
      expect(out.verdict, JSON.stringify(out.events.filter((e) => e.kind === 'assertion' || e.kind === 'transcript')).slice(0, 3000)).toBe('pass');
      const ivr = [...center.calls.values()].find((c) => c.runId === out.runId)!;
      expect(ivr.events.filter((e) => e.kind === 'prompt').map((e) => (e as { text: string }).text)).toEqual([
        center.promptTexts.greeting, center.promptTexts.billing, center.promptTexts.greeting, center.promptTexts.cards,
      ]);
      const truth = ivr.events.flatMap((d, i) => {
        if (d.kind !== 'dtmf') return [];
        const next = ivr.events.slice(i + 1).find((e): e is Extract<typeof e, { kind: 'prompt' }> => e.kind === 'prompt')!;
        return [next.speechStartMs! - d.atMs];
      });
      const measured = out.events.filter((e) => e.timing?.layer === 'voice_turn' && e.timing.turnLatencyMs > 0).map((e) => e.timing!.turnLatencyMs);
      console.log(`Asterisk prompts: turn latency, measured vs truth (ms): ${measured.map((m, i) => `${m.toFixed(1)} vs ${truth[i]!.toFixed(1)}`).join(', ')}`);
      expect(measured).toHaveLength(3);
      measured.forEach((m, i) => expect(Math.abs(m - truth[i]!)).toBeLessThanOrEqual(5));
    } finally {
      await center.stop();
    }
  });

  it('refuses an unknown prompt set, naming the field', async () => {
    await expect(startContactCenter({ prompts: 'opera' as 'tts' })).rejects.toMatchObject({ code: 'VIGIL_E_REQUEST_INVALID', field: 'prompts' });
  });
});
