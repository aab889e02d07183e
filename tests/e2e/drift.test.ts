/**
 * Baselines and drift on real services: 24 runs of a chat journey against the reference bot become the
 * baseline (with who and why); steady runs after it raise nothing; then the bot answers 400 ms later under a new
 * model name and the time-to-first-token detector alarms, names the chat_turn layer, the run it moved at, how
 * many times slower and the model change it lines up with, in the API, in `vigil_drift_alarms` and in one grouped webhook message (JSON, PagerDuty Events v2);
 * re-baselining clears it and resolves the notification under the same dedup key.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_JOURNEYS_DIR } from '@vigil/refbot';
import { CHAT_TARGET, startStack, type Stack } from '../support/stack.ts';
import { waitFor } from '../support/services.ts';

type Drift = { series: Array<{ state: string; firstMoved: string | null; baseline: { version: number; createdBy: string; reason: string; runs: number; latency: Record<string, { medianMs: number }>; versions: Record<string, string> }; alarms: Array<{ detector: string; layer: string | null; direction: string; ratio: number | null; changeRunId: string; runs: string; evidence: string; detail: { versionChange?: { runId: string; runsBeforeChange: number; before: Record<string, string>; after: Record<string, string> } } | null }> }> };

describe('baselines and drift', () => {
  let s: Stack;
  let hooks: Server;
  const received: Array<{ path: string; body: { status?: string; dedupKey?: string; event_action?: string; dedup_key?: string; alarms?: Array<{ detector: string; layer: string }> } }> = [];
  beforeAll(async () => {
    hooks = createServer((req, res) => {
      let b = '';
      req.on('data', (c) => { b += c; });
      req.on('end', () => { received.push({ path: req.url!, body: JSON.parse(b) }); res.writeHead(202).end(); });
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    const at = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
    s = await startStack({
      probeMaxConcurrency: 4, notifyGroupMs: 200,
      notifyWebhooks: JSON.stringify([{ kind: 'json', url: `${at}/json` }, { kind: 'pagerduty', url: `${at}/pd`, routingKey: 'test-routing-key' }]),
    });
    await s.spawnProbe('probe-drift-1', 'eu-test');
    expect((await s.api('POST', '/v1/targets', CHAT_TARGET(s.bot))).status).toBe(201);
    expect((await s.api('POST', '/v1/journeys?file=balance.yaml', readFileSync(`${EXAMPLE_JOURNEYS_DIR}/balance.yaml`, 'utf8'), 'application/yaml')).status).toBe(201);
  }, 120_000);
  afterAll(async () => { await s?.close(); await new Promise<void>((r) => hooks.close(() => r())); });

  const runMany = async (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await s.api<{ id: string }>('POST', '/v1/runs', { journey: 'balance-inquiry', target: 'refbot-openai', region: 'eu-test' });
      ids.push(r.body.id);
      // One at a time, so finish order is run order.
      expect((await s.waitForRun(r.body.id)).run.verdict).toBe('pass');
    }
    return ids;
  };
  const drift = async () => (await s.api<Drift>('GET', '/v1/drift?journey=balance-inquiry')).body.series[0]!;

  it('refuses a baseline with too few runs, naming the field', async () => {
    await runMany(3);
    const r = await s.api<{ code: string; field: string }>('POST', '/v1/baselines', { journey: 'balance-inquiry', target: 'refbot-openai', region: 'eu-test', by: 'qa@example.com', reason: 'launch' });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('since');
  }, 60_000);

  it('keeps steady runs steady, then finds the slower bot in the chat_turn layer and says when and by how much', async () => {
    await runMany(21);
    const b = await s.api<{ version: number; runs: number; latency: Record<string, { medianMs: number }> }>('POST', '/v1/baselines', { journey: 'balance-inquiry', target: 'refbot-openai', region: 'eu-test', by: 'qa@example.com', reason: 'accepted at launch' });
    expect(b.status).toBe(201);
    expect(b.body).toMatchObject({ version: 1, runs: 24 });
    expect(b.body.latency['chat_turn.time_to_first_token']!.medianMs).toBeGreaterThan(5);

    const steady = await runMany(8);
    expect((await drift()).state).toBe('steady');

    // The vendor ships a new model behind the same name: slower, and it says so in the responses' model field.
    s.bot.setLatencyMs(400);
    s.bot.setServedModel('vigil-refbot-2026-11-26');
    const slow = await runMany(12);
    const d = await drift();
    expect(d.state).toBe('drift');
    expect(d.firstMoved).toBe('chat_turn');
    const ttft = d.alarms.find((a) => a.detector === 'latency:chat_turn.time_to_first_token')!;
    expect(ttft).toMatchObject({ direction: 'up', layer: 'chat_turn' });
    // The change point is an estimate (the CUSUM's last zero): within a few runs of the first slow one.
    const order = [...steady, ...slow];
    expect(Math.abs(order.indexOf(ttft.changeRunId) - steady.length)).toBeLessThanOrEqual(3);
    expect(ttft.ratio!).toBeGreaterThan(5);
    expect(ttft.evidence).toMatch(/^\/v1\/evidence\/records\?runId=/);
    // Lined up with the version change the target reported, at the first slow run.
    expect(d.baseline.versions).toEqual({ 'openai.model': 'vigil-refbot' });
    expect(ttft.detail!.versionChange).toMatchObject({ runId: slow[0], before: { 'openai.model': 'vigil-refbot' }, after: { 'openai.model': 'vigil-refbot-2026-11-26' } });
    expect(Math.abs(ttft.detail!.versionChange!.runsBeforeChange)).toBeLessThanOrEqual(3);
    expect(d.alarms.some((a) => a.detector === 'pass_rate')).toBe(false);
    expect(await s.metric('vigil_drift_alarms', { journey: 'balance-inquiry', region: 'eu-test', detector: 'latency:chat_turn.time_to_first_token' })).toBe(1);
    // One grouped notification per webhook, naming the detector; PagerDuty gets a trigger with a dedup key.
    // Alarms of other detectors (time to full reply) may have gone out in an earlier group.
    const firing = await waitFor('the drift notification', async () => received.find((r) => r.path === '/json' && r.body.status === 'firing' && r.body.alarms!.some((a) => a.detector === 'latency:chat_turn.time_to_first_token')));
    expect(firing.body.alarms!.map((a) => a.detector)).toContain('latency:chat_turn.time_to_first_token');
    expect((firing.body.alarms as Array<{ versionChange?: Record<string, string> }>).find((a) => a.versionChange)?.versionChange).toEqual({ 'openai.model': 'vigil-refbot-2026-11-26' });
    const pd = await waitFor('the PagerDuty trigger', async () => received.find((r) => r.path === '/pd' && r.body.event_action === 'trigger'));

    // Accepting the new behaviour is a new baseline version, with who and why; the alarm is cleared.
    s.bot.setServedModel(null);
    const again = await s.api<{ version: number }>('POST', '/v1/baselines', { journey: 'balance-inquiry', target: 'refbot-openai', region: 'eu-test', since: new Date(Date.now() - 3_600_000).toISOString(), by: 'sre@example.com', reason: 'slower model accepted' });
    expect(again.body.version).toBe(2);
    const after = await drift();
    expect(after).toMatchObject({ state: 'steady', baseline: { version: 2, createdBy: 'sre@example.com', reason: 'slower model accepted' } });
    expect(await s.metric('vigil_drift_alarms', { detector: 'latency:chat_turn.time_to_first_token' })).toBeUndefined();
    const resolved = await waitFor('the resolve', async () => received.find((r) => r.path === '/pd' && r.body.event_action === 'resolve'));
    expect(resolved.body.dedup_key).toBe(pd.body.dedup_key);
    const statuses = received.filter((r) => r.path === '/json').map((r) => r.body.status);
    expect(statuses.at(-1)).toBe('resolved');
    expect(statuses.slice(0, -1).every((x) => x === 'firing')).toBe(true);
  }, 240_000);

  it('takes a marked golden run as the accepted content; refuses one that is not of the series or did not pass', async () => {
    const since = new Date(Date.now() - 1).toISOString();
    const [golden] = await runMany(1);
    const bad = await s.api<{ code: string; field: string }>('POST', '/v1/baselines', { journey: 'balance-inquiry', target: 'refbot-openai', region: 'eu-test', since, goldenRunId: 'no-such-run', by: 'qa@example.com', reason: 'golden' });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('goldenRunId');
    const b = await s.api<{ version: number; runs: number; goldenRunId: string; latency: Record<string, unknown>; content: Record<string, { step: string; reply?: { threshold: number; mostCommon: string } }> }>('POST', '/v1/baselines', { journey: 'balance-inquiry', target: 'refbot-openai', region: 'eu-test', since, goldenRunId: golden, by: 'qa@example.com', reason: 'golden answers signed off by compliance' });
    expect(b.status, JSON.stringify(b.body)).toBe(201);
    // One run in the window, too few for latency: the golden run's content alone, at the margin's threshold.
    expect(b.body).toMatchObject({ version: 3, runs: 0, goldenRunId: golden, latency: {} });
    const replies = Object.values(b.body.content).filter((c) => c.reply);
    expect(replies.length).toBeGreaterThan(0);
    expect(replies.every((c) => c.reply!.threshold === 0.05)).toBe(true);
    const detail = await s.waitForRun(golden!);
    expect(replies.map((c) => c.reply!.mostCommon)).toContain(detail.turns.find((t) => t.bot)!.bot);
    await runMany(3);
    expect((await drift()).state).toBe('steady');
  }, 120_000);
});
