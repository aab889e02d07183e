/**
 * The spine, end to end on real services: API creates a target, a journey and a schedule → the scheduler
 * publishes on JetStream → a probe (separate process) consumes, runs the journey against the reference bot and
 * streams over gRPC → rows in Postgres → /metrics counts the run → the API returns it with per-turn timings.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_JOURNEYS_DIR } from '@vigil/refbot';
import { CHAT_TARGET, startStack, type Stack } from '../support/stack.ts';
import { waitFor } from '../support/services.ts';
import { spawnVigil } from '../support/processes.ts';
import { startTestJudgeServer } from '../support/judge-server.ts';

describe('plane → NATS → probe → chat journey → gRPC → Postgres', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
    await s.spawnProbe('probe-spine-1', 'eu-test');
  });
  afterAll(async () => { await s?.close(); });

  it('runs a scheduled journey and reports it through the API and /metrics', async () => {
    const target = await s.api<{ id: string }>('POST', '/v1/targets', CHAT_TARGET(s.bot));
    expect(target.status).toBe(201);
    const yaml = readFileSync(`${EXAMPLE_JOURNEYS_DIR}/balance.yaml`, 'utf8');
    const pushed = await s.api<{ journey: { name: string }; version: { version: number; id: string }; created: boolean }>('POST', '/v1/journeys?file=balance.yaml', yaml, 'application/yaml');
    expect(pushed.status).toBe(201);
    expect(pushed.body.version.version).toBe(1);

    const sched = await s.api<{ id: string }>('POST', '/v1/schedules', { journey: 'balance-inquiry', target: 'refbot-openai', regions: ['eu-test'], intervalMs: 3_600_000, jitterMaxMs: 500 });
    expect(sched.status).toBe(201);

    const runId = await waitFor('a scheduled run', async () => {
      const r = await s.api<{ runs: Array<{ id: string }> }>('GET', '/v1/runs?journey=balance-inquiry');
      return r.body.runs[0]?.id;
    });
    const detail = await s.waitForRun(runId);
    expect(detail.run.verdict).toBe('pass');
    expect(detail.run.probeId).toBe('probe-spine-1');
    expect(detail.run.attempt).toBe(1);
    expect(detail.run.region).toBe('eu-test');

    // Per-turn timings, measured by the probe, stored, and served back.
    expect(detail.turns).toHaveLength(3);
    for (const t of detail.turns) {
      expect(t.caller).toBeTruthy();
      expect(t.bot).toBeTruthy();
      expect(t.timeToFirstTokenMs).toBeGreaterThan(0);
      expect(t.timeToFullReplyMs).toBeGreaterThanOrEqual(t.timeToFirstTokenMs);
    }
    expect(detail.turns[2]!.bot).toMatch(/ending 5678/);
    // Events are gap-free and end with exactly one final result.
    const seqs = detail.events.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(detail.events.filter((e) => e.kind === 'run_finished')).toHaveLength(1);
    expect(detail.events.filter((e) => e.kind === 'assertion').every((e) => e.body.verdict === 'pass')).toBe(true);

    const labels = { journey: 'balance-inquiry', target: 'refbot-openai', region: 'eu-test' };
    expect(await s.metric('vigil_runs_total', { ...labels, verdict: 'pass' })).toBe(1);
    expect(await s.metric('vigil_layer_duration_seconds_count', { ...labels, layer: 'chat_turn', metric: 'time_to_first_token' })).toBe(3);
    expect(await s.metric('vigil_fleet_probes', { region: 'eu-test', status: 'online' })).toBe(1);

    const probes = await s.api<{ probes: Array<{ id: string; status: string; capabilities: string[] }> }>('GET', '/v1/probes');
    expect(probes.body.probes).toEqual([expect.objectContaining({ id: 'probe-spine-1', status: 'online', capabilities: ['chat.http', 'chat.openai', 'chat.websocket', 'voice.sip'] })]);

    // The API documents itself.
    const openapi = await s.api<{ openapi: string; paths: Record<string, unknown> }>('GET', '/openapi.json');
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/v1/targets', '/v1/journeys', '/v1/schedules', '/v1/runs', '/v1/runs/{id}', '/v1/probes']));
    expect((await fetch(`http://127.0.0.1:${s.httpPort}/docs/`)).status).toBe(200);

    // Filters.
    expect((await s.api<{ runs: unknown[] }>('GET', '/v1/runs?verdict=fail')).body.runs).toHaveLength(0);
    expect((await s.api<{ runs: unknown[] }>('GET', '/v1/runs?region=eu-test&verdict=pass&target=refbot-openai')).body.runs).toHaveLength(1);
  });

  it('keeps journey versions immutable and identified by content', async () => {
    const yaml = readFileSync(`${EXAMPLE_JOURNEYS_DIR}/balance.yaml`, 'utf8');
    const again = await s.api<{ created: boolean; version: { version: number } }>('POST', '/v1/journeys', { source: yaml, file: 'balance.yaml' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, version: { version: 1 } });
    const changed = await s.api<{ created: boolean; version: { version: number } }>('POST', '/v1/journeys', { source: yaml.replace('max_latency_ms: 5000', 'max_latency_ms: 4000') });
    expect(changed.body).toMatchObject({ created: true, version: { version: 2 } });
    const v1 = await s.api<{ source: string }>('GET', '/v1/journeys/balance-inquiry/versions/1');
    expect(v1.body.source).toBe(yaml);
    const list = await s.api<{ versions: Array<{ version: number }> }>('GET', '/v1/journeys/balance-inquiry');
    expect(list.body.versions.map((v) => v.version)).toEqual([2, 1]);
  });

  it('reports a failing bot as fail, with the assertion that failed', async () => {
    const yaml = [
      'version: 1', 'name: wrong-expectation', 'channel: chat', 'steps:', '  - say: What are the fees?', '  - expect:', '      contains: "no fees at all"',
    ].join('\n');
    expect((await s.api('POST', '/v1/journeys', yaml, 'application/yaml')).status).toBe(201);
    const run = await s.api<{ id: string }>('POST', '/v1/runs', { journey: 'wrong-expectation', target: 'refbot-openai', region: 'eu-test' });
    expect(run.status).toBe(202);
    const d = await s.waitForRun(run.body.id);
    expect(d.run.verdict).toBe('fail');
    const failed = d.events.find((e) => e.kind === 'assertion' && e.body.verdict === 'fail');
    expect(failed?.body).toMatchObject({ assertion: 'contains "no fees at all"', message: 'reply does not contain "no fees at all"' });
    expect(await s.metric('vigil_runs_total', { journey: 'wrong-expectation', verdict: 'fail' })).toBe(1);
  });

  it('serves the CLI: journeys push and list, runs list and show', async () => {
    const env = { VIGIL_API_URL: `http://127.0.0.1:${s.httpPort}` };
    const push = spawnVigil(['journeys', 'push', `${EXAMPLE_JOURNEYS_DIR}/card-lost.yaml`, `${EXAMPLE_JOURNEYS_DIR}/balance.yaml`], env, 'cli-journeys-push');
    expect(await push.exited).toBe(0);
    expect(push.output()).toMatch(/pushed\s+card-lost v1/);
    expect(push.output()).toMatch(/unchanged balance-inquiry v1/);
    const list = spawnVigil(['journeys', 'list'], env, 'cli-journeys-list');
    expect(await list.exited).toBe(0);
    expect(list.output()).toMatch(/balance-inquiry\s+v2/);
    const runs = spawnVigil(['runs', 'list', '--journey', 'balance-inquiry', '--verdict', 'pass'], env, 'cli-runs-list');
    expect(await runs.exited).toBe(0);
    const id = runs.output().split(/\s+/)[0]!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const show = spawnVigil(['runs', 'show', id], env, 'cli-runs-show');
    expect(await show.exited).toBe(0);
    expect(show.output()).toMatch(/run [0-9a-f-]{36}: pass — balance-inquiry → refbot-openai \[eu-test\] probe probe-spine-1 attempt 1/);
    expect(show.output()).toMatch(/first token \d+ ms, full reply \d+ ms/);
    const bad = spawnVigil(['runs', 'show', 'no-such-run'], env, 'cli-runs-show-missing');
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/error VIGIL_E_NOT_FOUND: no run no-such-run/);
  });

  it('keeps the judge\'s evidence through gRPC and Postgres, and reports pass rates with Wilson intervals, flaky assertions marked', async () => {
    // A stand-in judge that alternates its verdict: its assertion is flaky by construction.
    let calls = 0;
    const judge = await startTestJudgeServer(() => JSON.stringify({ verdict: calls++ % 2 === 0 ? 'pass' : 'fail', score: 0.5, rationale: 'alternating stand-in' }));
    try {
      await s.api('POST', '/v1/targets', CHAT_TARGET(s.bot)); // 201, or 409 when the first test made it
      await s.spawnProbe('probe-spine-judge', 'eu-judge', { VIGIL_JUDGE_BASE_URL: judge.baseUrl, VIGIL_JUDGE_MODEL: 'alternating', VIGIL_JUDGE_SAMPLES: '1', VIGIL_JUDGE_CACHE: 'off' });
      const yaml = ['version: 1', 'name: judged-fees', 'channel: chat', 'settings: { stop_on_failure: false }', 'steps:', '  - say: What are the fees?',
        '  - expect: [{ contains: "no monthly fee" }, { judge: "The reply must state the fees truthfully and completely." }]'].join('\n');
      expect((await s.api('POST', '/v1/journeys', yaml, 'application/yaml')).status).toBe(201);
      const verdicts: string[] = [];
      for (let i = 0; i < 4; i++) {
        const run = await s.api<{ id: string }>('POST', '/v1/runs', { journey: 'judged-fees', target: 'refbot-openai', region: 'eu-judge' });
        const d = await s.waitForRun(run.body.id);
        verdicts.push(d.run.verdict!);
        if (i === 0) {
          const judged = d.events.find((e) => e.kind === 'assertion' && String(e.body.assertion).startsWith('judge'))!;
          expect(judged.body.evidence, JSON.stringify(judged.body)).toMatchObject({ judge: 'llm', model: 'alternating', votes: { pass: 1, fail: 0, invalid: 0 }, samples: [expect.objectContaining({ verdict: 'pass' })] });
        }
      }
      expect(verdicts).toEqual(['pass', 'fail', 'pass', 'fail']);
      const rates = await s.api<{ groups: Array<{ journey: string; region: string; runs: number; pass: number; passRate: number; wilson95: { low: number; high: number }; assertions: Array<{ assertion: string; n: number; pass: number; stability: string }> }> }>('GET', '/v1/stats/pass-rates?journey=judged-fees');
      expect(rates.status).toBe(200);
      const g = rates.body.groups[0]!;
      expect(g).toMatchObject({ journey: 'judged-fees', region: 'eu-judge', runs: 4, pass: 2, passRate: 0.5 });
      expect(g.wilson95.low).toBeCloseTo(0.15, 2);
      expect(g.wilson95.high).toBeCloseTo(0.85, 2);
      expect(g.assertions).toEqual([
        expect.objectContaining({ assertion: 'contains "no monthly fee"', n: 4, pass: 4, stability: 'stable_pass' }),
        expect.objectContaining({ assertion: 'judge "The reply must state the fees truthfully and completely."', n: 4, pass: 2, stability: 'flaky' }),
      ]);
    } finally {
      await judge.close();
    }
  });
});
