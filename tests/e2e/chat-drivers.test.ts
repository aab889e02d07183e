/**
 * Channel-driver conformance: every chat driver against the reference bot over real sockets, plus the
 * failure modes a probe must classify (unreachable, protocol, timeout, missing credentials).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatDrivers, validateTarget } from '@vigil/chat';
import type { TargetSpec } from '@vigil/contract';
import { VigilError } from '@vigil/errors';
import { parseJourney, runJourney } from '@vigil/journey';
import { startRefBot, type RefBot } from '@vigil/refbot';

const journey = parseJourney([
  'version: 1', 'name: conformance', 'channel: chat', 'settings: { step_timeout_ms: 2000 }', 'steps:',
  '  - say: What is my balance?', '  - expect: account number',
  '  - say: "11112222"', '  - expect: { regex: "ending 2222 is \\\\$[0-9,]+\\\\.[0-9]{2}" }',
].join('\n')).journey;

async function run(target: TargetSpec, env: NodeJS.ProcessEnv = {}) {
  const driver = chatDrivers().find((d) => d.channel === target.channel)!;
  const events: Array<{ kind: string } & Record<string, unknown>> = [];
  const runId = randomUUID();
  const summary = await runJourney({
    journey, emit: (e) => { events.push(e as never); },
    meta: { journeyVersionId: 'v', targetId: target.id, region: 'local', channel: target.channel },
    open: (signal) => driver.open(target, { runId, sessionId: `s-${runId}`, signal, env }),
  });
  return { summary, events };
}

describe('chat drivers against the reference bot', () => {
  let bot: RefBot;
  beforeAll(async () => { bot = await startRefBot({ latencyMs: 30, chunkDelayMs: 10 }); });
  afterAll(async () => { await bot.close(); });

  const cases: Array<[string, () => Parameters<typeof validateTarget>[0], boolean]> = [
    ['chat.openai streaming', () => ({ name: 'o', channel: 'chat.openai', endpoint: `${bot.url}/v1`, config: { model: 'm' } }), true],
    ['chat.openai non-streaming', () => ({ name: 'o', channel: 'chat.openai', endpoint: `${bot.url}/v1`, config: { model: 'm', stream: false } }), false],
    ['chat.http with a bot-assigned session', () => ({ name: 'h', channel: 'chat.http', endpoint: `${bot.url}/webhook`, config: { bodyTemplate: { message: '{{message}}', session_id: '{{session_id}}' }, replyPath: '$.reply', sessionPath: '$.session_id' } }), false],
    ['chat.websocket with a reply filter', () => ({ name: 'w', channel: 'chat.websocket', endpoint: `${bot.url.replace('http', 'ws')}/ws`, config: { filter: { path: '$.type', equals: 'reply' } } }), false],
  ];
  for (const [name, spec, streamed] of cases) {
    it(`${name}: passes and measures first token and full reply`, async () => {
      const { summary, events } = await run(validateTarget(spec()));
      expect(summary).toMatchObject({ verdict: 'pass', stepsPassed: 4, stepsFailed: 0 });
      const timings = events.filter((e) => e.kind === 'timing').map((e) => (e as unknown as { timing: { timeToFirstTokenMs: number; timeToFullReplyMs: number; streamed: boolean } }).timing);
      expect(timings).toHaveLength(2);
      for (const t of timings) {
        expect(t.streamed).toBe(streamed);
        // The bot waits 30 ms before its first byte: a timing below that is a measurement error.
        expect(t.timeToFirstTokenMs).toBeGreaterThanOrEqual(29);
        expect(t.timeToFullReplyMs).toBeGreaterThanOrEqual(t.timeToFirstTokenMs);
        if (streamed) expect(t.timeToFullReplyMs - t.timeToFirstTokenMs).toBeGreaterThanOrEqual(50); // >= 6 chunks 10 ms apart
      }
    });
  }

  it('moves the measured latency when the bot slows down', async () => {
    bot.setLatencyMs(400);
    try {
      const { events } = await run(validateTarget({ name: 'h', channel: 'chat.http', endpoint: `${bot.url}/webhook` }));
      const t = events.find((e) => e.kind === 'timing') as unknown as { timing: { timeToFirstTokenMs: number } };
      expect(t.timing.timeToFirstTokenMs).toBeGreaterThanOrEqual(399);
    } finally {
      bot.setLatencyMs(30);
    }
  });

  it('classifies an unreachable bot as a retryable VIGIL_E_CHANNEL_UNREACHABLE error', async () => {
    const { summary } = await run(validateTarget({ name: 'x', channel: 'chat.http', endpoint: 'http://127.0.0.1:9/webhook' }));
    expect(summary).toMatchObject({ verdict: 'error', errorCode: 'VIGIL_E_CHANNEL_UNREACHABLE' });
    expect(new VigilError(summary.errorCode as 'VIGIL_E_CHANNEL_UNREACHABLE', '').retryable).toBe(true);
    const ws = await run(validateTarget({ name: 'x', channel: 'chat.websocket', endpoint: 'ws://127.0.0.1:9/ws' }));
    expect(ws.summary.errorCode).toBe('VIGIL_E_CHANNEL_UNREACHABLE');
  });

  it('classifies a 404 and a missing reply path as VIGIL_E_CHANNEL_PROTOCOL', async () => {
    const notFound = await run(validateTarget({ name: 'x', channel: 'chat.http', endpoint: `${bot.url}/nope` }));
    expect(notFound.summary.errorCode).toBe('VIGIL_E_CHANNEL_PROTOCOL');
    const path = await run(validateTarget({ name: 'x', channel: 'chat.http', endpoint: `${bot.url}/webhook`, config: { replyPath: '$.answer.text' } }));
    expect(path.summary).toMatchObject({ verdict: 'error', errorCode: 'VIGIL_E_CHANNEL_PROTOCOL' });
    expect(path.summary.errorMessage).toMatch(/\$\.answer\.text/);
  });

  it('stops waiting at the step timeout with VIGIL_E_CHANNEL_TIMEOUT', async () => {
    bot.setLatencyMs(5000);
    try {
      const t0 = Date.now();
      const { summary } = await run(validateTarget({ name: 'o', channel: 'chat.openai', endpoint: `${bot.url}/v1`, config: { model: 'm' } }));
      expect(summary).toMatchObject({ verdict: 'error', errorCode: 'VIGIL_E_CHANNEL_TIMEOUT' });
      expect(Date.now() - t0).toBeLessThan(4500);
    } finally {
      bot.setLatencyMs(30);
    }
  });

  it('needs the credentials a target names, and sends them as a bearer token', async () => {
    const spec = validateTarget({ name: 'o', channel: 'chat.openai', endpoint: `${bot.url}/v1`, credentialsRef: 'env:VIGIL_TEST_BOT_KEY', config: { model: 'm' } });
    const missing = await run(spec, {});
    expect(missing.summary).toMatchObject({ verdict: 'error', errorCode: 'VIGIL_E_CREDENTIALS_MISSING' });
    const ok = await run(spec, { VIGIL_TEST_BOT_KEY: 'k' });
    expect(ok.summary.verdict).toBe('pass');
  });
});
