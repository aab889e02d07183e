/**
 * Failure drills on real services:
 *  - SIGKILL of the probe mid-run → JetStream redelivers the run → another probe finishes it → exactly one
 *    final result for the run id, counted once.
 *  - The plane crashes and restarts while a probe streams a run → the probe resends what was not
 *    acknowledged → nothing lost, nothing duplicated, no redelivery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { CHAT_TARGET, startStack, type RunDetail, type Stack } from '../support/stack.ts';
import { waitFor } from '../support/services.ts';

const slowJourney = (name: string, waitMs: number) => [
  'version: 1', `name: ${name}`, 'channel: chat', 'steps:',
  '  - say: Hello', '  - expect: { regex: "how can i help", flags: i }',
  `  - wait: ${waitMs}`,
  '  - say: What is my balance?', '  - expect: account number',
  '  - wait: 500',
  '  - say: "98765432"', '  - expect: ending 5432',
].join('\n');

async function finalRows(databaseUrl: string, runId: string): Promise<{ finals: number; attempts: number[]; rows: Array<{ attempt: number; seq: number }> }> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const rows = (await c.query<{ attempt: number; seq: string; kind: string }>('SELECT attempt, seq, kind FROM run_events WHERE run_id = $1 ORDER BY attempt, seq', [runId])).rows;
    return {
      finals: rows.filter((r) => r.kind === 'run_finished').length,
      attempts: [...new Set(rows.map((r) => r.attempt))],
      rows: rows.map((r) => ({ attempt: r.attempt, seq: Number(r.seq) })),
    };
  } finally {
    await c.end();
  }
}

describe('resilience', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ runAckWaitMs: 3000 });
    expect((await s.api('POST', '/v1/targets', CHAT_TARGET(s.bot))).status).toBe(201);
  });
  afterAll(async () => { await s?.close(); });

  it('redelivers a run whose probe was SIGKILLed mid-run, and stores exactly one final result', async () => {
    expect((await s.api('POST', '/v1/journeys', slowJourney('slow-kill', 4000), 'application/yaml')).status).toBe(201);
    const a = await s.spawnProbe('probe-kill-a', 'kill-test');
    const run = await s.api<{ id: string }>('POST', '/v1/runs', { journey: 'slow-kill', target: 'refbot-openai', region: 'kill-test' });
    expect(run.status).toBe(202);
    const runId = run.body.id;

    // Wait until probe A is inside the run (its first events are stored), then kill it without warning.
    await waitFor('probe A to start the run', async () => {
      const d = (await s.api<RunDetail>('GET', `/v1/runs/${runId}`)).body;
      return d.run.status === 'running' && d.events.some((e) => e.kind === 'step_finished');
    });
    a.child.kill('SIGKILL');
    await a.exited;

    // Probe B, in the same region, gets the redelivery once the ack wait has passed.
    await s.spawnProbe('probe-kill-b', 'kill-test');
    const d = await s.waitForRun(runId, 60_000);
    expect(d.run.verdict).toBe('pass');
    expect(d.run.probeId).toBe('probe-kill-b');
    expect(d.run.attempt).toBeGreaterThanOrEqual(2);
    expect(d.attempts.find((x) => x.attempt === 1)).toMatchObject({ probeId: 'probe-kill-a', finished: false });
    expect(d.attempts.find((x) => x.attempt === d.run.attempt)).toMatchObject({ probeId: 'probe-kill-b', finished: true });

    // Give JetStream more than an ack wait: the acked run must not come back.
    await new Promise((r) => setTimeout(r, 4500));
    const db = await finalRows(s.databaseUrl, runId);
    expect(db.finals).toBe(1);
    expect(db.attempts).toEqual([1, d.run.attempt]);
    expect(await s.metric('vigil_runs_total', { journey: 'slow-kill', region: 'kill-test', verdict: 'pass' })).toBe(1);
  });

  it('loses and duplicates nothing when the plane restarts while a probe streams', async () => {
    expect((await s.api('POST', '/v1/journeys', slowJourney('slow-restart', 2500), 'application/yaml')).status).toBe(201);
    const p = await s.spawnProbe('probe-restart', 'restart-test');
    const run = await s.api<{ id: string }>('POST', '/v1/runs', { journey: 'slow-restart', target: 'refbot-openai', region: 'restart-test' });
    const runId = run.body.id;
    await waitFor('the run to be streaming', async () => {
      const d = (await s.api<RunDetail>('GET', `/v1/runs/${runId}`)).body;
      return d.run.status === 'running' && d.events.length >= 3;
    });

    // Crash: no grace for open streams.
    await s.plane.close(0);
    await new Promise((r) => setTimeout(r, 1500));
    await s.startPlane();

    const d = await s.waitForRun(runId, 60_000);
    expect(d.run.verdict).toBe('pass');
    expect(d.run.attempt).toBe(1);
    expect(d.run.probeId).toBe('probe-restart');
    await new Promise((r) => setTimeout(r, 4000)); // longer than the ack wait: no redelivery may follow
    const db = await finalRows(s.databaseUrl, runId);
    expect(db.attempts).toEqual([1]);
    expect(db.finals).toBe(1);
    // Every event exactly once: seq 1..N with no gap.
    expect(db.rows.map((r) => r.seq)).toEqual(db.rows.map((_, i) => i + 1));
    const kinds = d.events.map((e) => e.kind);
    expect(kinds[0]).toBe('run_started');
    expect(kinds.at(-1)).toBe('run_finished');
    expect(kinds.filter((k) => k === 'step_finished')).toHaveLength(8);
    expect(p.output()).toMatch(/report stream failed; resending unacknowledged events|resend/);
  });

  it('SIGTERM drains: the probe finishes the run in flight, acks it, and exits 0', async () => {
    expect((await s.api('POST', '/v1/journeys', slowJourney('slow-drain', 2000), 'application/yaml')).status).toBe(201);
    const p = await s.spawnProbe('probe-drain', 'drain-test');
    const run = await s.api<{ id: string }>('POST', '/v1/runs', { journey: 'slow-drain', target: 'refbot-openai', region: 'drain-test' });
    const runId = run.body.id;
    await waitFor('the run to start', async () => (await s.api<RunDetail>('GET', `/v1/runs/${runId}`)).body.run.status === 'running');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const d = (await s.api<RunDetail>('GET', `/v1/runs/${runId}`)).body;
    expect(d.run).toMatchObject({ status: 'finished', verdict: 'pass', attempt: 1, probeId: 'probe-drain' });
    expect(p.output()).toMatch(/"to":"draining"[\s\S]*run stored and acked[\s\S]*"to":"stopped"/);
  });
});
