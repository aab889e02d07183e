import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriftNotifier, parseWebhooks, type Delivery } from './notify.ts';

describe('drift notifications', () => {
  let server: Server;
  let url = '';
  const got: Array<{ path: string; body: Record<string, unknown> }> = [];
  let failNext = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let b = '';
      req.on('data', (c) => { b += c; });
      req.on('end', () => {
        if (failNext > 0) { failNext--; res.writeHead(503).end(); return; }
        if (req.url === '/gone') { res.writeHead(404).end(); return; }
        got.push({ path: req.url!, body: JSON.parse(b) as Record<string, unknown> });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const alarm = (detector: string, ratio: number | null) => ({ detector, layer: detector.startsWith('latency:') ? detector.slice(8).split('.')[0]! : null, direction: 'up', ratio, pValue: null, changeRunId: 'run-1', changeAt: '2026-11-26T10:00:00.000Z', alarmRunId: 'run-9' });
  const labels = { journey: 'balance-inquiry', target: 'refbot', region: 'eu-west' };

  it('groups a series\' alarms into one message per webhook, dedupes repeats, retries 5xx, and resolves under the same key', async () => {
    const deliveries: Delivery[] = [];
    const n = new DriftNotifier({ hooks: parseWebhooks(JSON.stringify([{ kind: 'json', url: `${url}/json` }, { kind: 'slack', url: `${url}/slack` }, { kind: 'teams', url: `${url}/teams` }, { kind: 'pagerduty', url: `${url}/pd`, routingKey: 'R0UT1NG' }])), baseUrl: 'https://vigil.example', groupMs: 100, logger: pino({ level: 'silent' }), record: async (d) => { deliveries.push(d); } });
    failNext = 1; // the first post gets a 503 and is retried
    n.alarm(labels, 'b1', alarm('latency:llm.total', 1.5));
    n.alarm(labels, 'b1', alarm('latency:chat_turn.time_to_first_token', 1.4));
    await new Promise((r) => setTimeout(r, 300));
    n.alarm(labels, 'b1', alarm('latency:llm.total', 1.6)); // already notified: dropped
    await n.flush();
    await new Promise((r) => setTimeout(r, 800)); // the retried post
    expect(got.map((g) => g.path).sort()).toEqual(['/json', '/pd', '/slack', '/teams']);
    const json = got.find((g) => g.path === '/json')!.body;
    expect(json).toMatchObject({ version: 1, status: 'firing', series: labels, links: { drift: 'https://vigil.example/v1/drift?journey=balance-inquiry&target=refbot&region=eu-west', run: 'https://vigil.example/v1/runs/run-9' } });
    expect((json.alarms as unknown[]).length).toBe(2);
    const pd = got.find((g) => g.path === '/pd')!.body;
    expect(pd).toMatchObject({ routing_key: 'R0UT1NG', event_action: 'trigger', dedup_key: 'vigil-drift:balance-inquiry:refbot:eu-west:b1', payload: { severity: 'warning', component: 'balance-inquiry', class: 'drift' } });
    expect(got.find((g) => g.path === '/slack')!.body.text).toMatch(/drifted — latency:llm\.total ×1\.50, latency:chat_turn\.time_to_first_token ×1\.40/);
    expect(got.find((g) => g.path === '/teams')!.body).toMatchObject({ '@type': 'MessageCard', potentialAction: expect.arrayContaining([expect.objectContaining({ name: 'evidence' })]) });

    // Every delivery is recorded for the alert history, the retried one with its attempts.
    expect(deliveries).toHaveLength(4);
    expect(deliveries.every((d) => d.delivered && d.status === 'firing' && d.baselineId === 'b1')).toBe(true);
    expect(deliveries.some((d) => d.attempts === 2)).toBe(true);

    got.length = 0;
    n.resolve(labels, 'b1', []);
    await n.flush();
    expect(got.find((g) => g.path === '/pd')!.body).toMatchObject({ event_action: 'resolve', dedup_key: 'vigil-drift:balance-inquiry:refbot:eu-west:b1' });
    expect(got.find((g) => g.path === '/json')!.body).toMatchObject({ status: 'resolved' });
  });

  it('resolves alarms raised before a restart (from the store), and records a refused delivery', async () => {
    const deliveries: Delivery[] = [];
    const n = new DriftNotifier({ hooks: parseWebhooks(JSON.stringify([{ kind: 'pagerduty', url: `${url}/pd`, routingKey: 'R0UT1NG' }, { kind: 'json', url: `${url}/gone` }])), baseUrl: 'https://vigil.example', groupMs: 100, logger: pino({ level: 'silent' }), record: async (d) => { deliveries.push(d); } });
    got.length = 0;
    n.resolve(labels, 'b0', [alarm('pass_rate', null)]);
    await n.flush();
    expect(got.find((g) => g.path === '/pd')!.body).toMatchObject({ event_action: 'resolve', dedup_key: 'vigil-drift:balance-inquiry:refbot:eu-west:b0' });
    expect(deliveries.find((d) => d.webhook === 'json')).toMatchObject({ delivered: false, httpStatus: 404, attempts: 1, status: 'resolved', detectors: ['pass_rate'] });
  });

  it('refuses a bad webhook list, naming the entry and field', () => {
    expect(() => parseWebhooks('[{"kind":"email","url":"x"}]')).toThrow(/VIGIL_NOTIFY_WEBHOOKS\[0\]\.kind/);
    expect(() => parseWebhooks('[{"kind":"pagerduty","url":"https://events.pagerduty.com/v2/enqueue"}]')).toThrow(/routingKey is required/);
    expect(() => parseWebhooks('{')).toThrow(/not JSON/);
  });
});
