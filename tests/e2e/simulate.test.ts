/**
 * Simulated callers against the reference contact center, over chat and over voice (TTS → SIP → the voice bot
 * → ASR): a local OpenAI-compatible stand-in plays the caller (seeded: the same seed gives the same conversation)
 * and the judge (scope: the whole conversation). The goal judgement fails when the CRM write fault keeps the bot
 * from blocking the card.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveApi, startContactCenter, type ContactCenter } from '@vigil/refcc';
import { startTestJudgeServer, type RecordedRequest } from '../support/judge-server.ts';
import { spawnVigil } from '../support/processes.ts';

const READY = existsSync('/usr/bin/flite') && existsSync('/usr/bin/pocketsphinx_batch');

/** The caller: opens by seed, reports the lost card, asks for an agent if that fails, stops when served. */
function caller(r: RecordedRequest): string {
  const bot = r.messages.filter((m) => m.role === 'user' && !m.content.startsWith('(')).map((m) => m.content.toLowerCase());
  const said = r.messages.filter((m) => m.role === 'assistant').length;
  const last = bot.at(-1) ?? '';
  const say = (s: string | null) => JSON.stringify({ say: s, done: s === null });
  if (/have blocked your card|transferring you/.test(last)) return say(null);
  if (/could not block/.test(last)) return say('agent please');
  if (said === 0 && bot.length === 0) return say(r.seed === 2 ? 'my card was stolen' : 'hello');
  if (said >= 4) return say(null);
  return say('i lost my card');
}

function judge(r: RecordedRequest): string {
  const user = r.messages.find((m) => m.role === 'user')!.content;
  const ok = /^BOT: .*have blocked your card/im.test(user);
  return JSON.stringify({ verdict: ok ? 'pass' : 'fail', score: ok ? 1 : 0, rationale: ok ? 'the card was blocked' : 'the card was never blocked' });
}

type Out = { verdict: string; events: Array<{ kind: string; speaker?: string; text?: string; assertion?: string; verdict?: string; evidence?: { simulator?: Record<string, unknown>; model?: string } }> };

describe.skipIf(!READY)('simulated callers', () => {
  let llm: Awaited<ReturnType<typeof startTestJudgeServer>>;
  let cc: ContactCenter;
  let api: { url: string; close: () => Promise<void> };
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sim-'));
  beforeAll(async () => {
    llm = await startTestJudgeServer((r) => (r.messages[0]!.content.startsWith('You play a CALLER') ? caller(r) : judge(r)));
    cc = await startContactCenter({ menuTimeoutMs: 8000 });
    api = await serveApi(cc);
  });
  afterAll(async () => { await api?.close(); await cc?.stop(); await llm?.close(); });
  const env = () => ({ VIGIL_JUDGE_BASE_URL: llm.baseUrl, VIGIL_JUDGE_MODEL: 'stand-in', VIGIL_JUDGE_SAMPLES: '1' });

  const journey = (name: string, channel: 'chat' | 'voice', seed: number, extra: string[] = []) => {
    const f = join(dir, `${name}.yaml`);
    writeFileSync(f, ['version: 1', `name: ${name}`, `channel: ${channel}`, 'settings: { step_timeout_ms: 20000 }', 'steps:', ...extra,
      '  - simulate:', '      persona: "Maria, 67, anxious, speaks in short sentences"', '      goal: "get her lost card blocked"',
      '      constraints: ["never read out the card number"]', '      max_turns: 4', `      seed: ${seed}`,
      '      phrases: ["hello this is the vigil bank assistant how can i help you", "i\'m sorry to hear that i have blocked your card and a replacement will arrive within five business days", "i\'m sorry i could not block your card right now please call back in a few minutes", "i\'m transferring you to an agent now please hold", "hello this is vigil bank\'s assistant how can i help you today"]',
    ].join('\n'));
    return f;
  };
  const callerLines = (o: Out) => o.events.filter((e) => e.kind === 'transcript' && e.speaker === 'caller').map((e) => e.text);

  it('over chat: the persona reaches its goal, the judge says so, and the seed repeats the conversation', async () => {
    const outs: Out[] = [];
    for (const seed of [1, 1, 2]) {
      const p = spawnVigil(['run', journey(`sim-chat-${seed}`, 'chat', seed), '--target', `${cc.chatUrl}/webhook`, '--json'], env(), `sim-chat-${seed}`);
      await p.exited;
      outs.push(JSON.parse(p.output()) as Out);
    }
    expect(outs.map((o) => o.verdict)).toEqual(['pass', 'pass', 'pass']);
    expect(callerLines(outs[0]!)).toEqual(['hello', 'i lost my card']);
    expect(callerLines(outs[1]!)).toEqual(callerLines(outs[0]!));
    expect(callerLines(outs[2]!)).toEqual(['my card was stolen']);
    const goal = outs[0]!.events.find((e) => e.kind === 'assertion' && e.assertion?.startsWith('goal:'))!;
    expect(goal).toMatchObject({ verdict: 'pass', evidence: { model: 'stand-in', simulator: { model: 'stand-in', seed: 1, turns: 2, endedByCaller: true } } });
    expect(llm.asked.find((r) => r.messages[0]!.content.startsWith('You play a CALLER'))).toMatchObject({ seed: 1, temperature: 0.7 });
  });

  it('over voice: the caller speaks through TTS to the voice bot; with the CRM failing, the goal is judged unmet', async () => {
    const ok = spawnVigil(['run', journey('sim-voice', 'voice', 2, ['  - listen: {}']), '--target', cc.botUri, '--allow', cc.agentsUri, '--json'], env(), 'sim-voice');
    await ok.exited;
    const out = JSON.parse(ok.output()) as Out;
    expect(out.verdict, JSON.stringify(out.events.filter((e) => e.kind === 'transcript' || e.kind === 'assertion'))).toBe('pass');
    expect(callerLines(out)).toEqual(['i lost my card']); // the greeting came first, so no opening line

    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: JSON.stringify({ crmFail: true }) });
    const bad = spawnVigil(['run', journey('sim-voice-crm', 'voice', 2, ['  - listen: {}']), '--target', cc.botUri, '--allow', cc.agentsUri, '--json'], env(), 'sim-voice-crm');
    await bad.exited;
    const failed = JSON.parse(bad.output()) as Out;
    expect(failed.verdict).toBe('fail');
    expect(callerLines(failed)).toEqual(['i lost my card', 'agent please']);
    expect(failed.events.find((e) => e.assertion?.startsWith('goal:'))).toMatchObject({ verdict: 'fail' });
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: '{}' });
  });

  it('says which setting is missing when no simulator is configured', async () => {
    const p = spawnVigil(['run', journey('sim-none', 'chat', 1), '--target', `${cc.chatUrl}/webhook`, '--json'], {}, 'sim-none');
    await p.exited;
    const out = JSON.parse(p.output()) as { verdict: string; errorCode: string; errorMessage: string };
    expect(out).toMatchObject({ verdict: 'error', errorCode: 'VIGIL_E_CONFIG_INVALID' });
  });
});
