/**
 * Content drift by meaning: with VIGIL_EMBEDDINGS_BASE_URL/_MODEL set, the plane compares a step's replies with
 * the accepted ones by the cosine of embeddings from an OpenAI-compatible `/embeddings` endpoint. No embedding
 * model runs here, so the endpoint is a local HTTP server answering from a small table of the test's own (two
 * wordings of the fee answer point the same way, a changed fee points elsewhere, anything else gets a vector of
 * its own): it stands in for the model and tests what is ours around it, over real runs of a chat journey —
 *  - a paraphrase that the lexical fallback would call different raises nothing; a changed meaning alarms, and
 *    the alarm names the measure (method and model);
 *  - each distinct text is embedded once (cached), in batches;
 *  - while the endpoint fails no run is lost: content evaluation waits (vigil_drift_content_waiting_runs) and
 *    takes every run it missed, in order, when it answers again;
 *  - a plane restarted without the endpoint works the baseline's thresholds out again on the lexical measure and
 *    says so in the alarm, instead of applying embedding-distance thresholds to lexical distances.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lexicalSimilarity } from '@vigil/judge';
import { startRefBot, type RefBot } from '@vigil/refbot';
import { CHAT_TARGET, startStack, type Stack } from '../support/stack.ts';
import { waitFor } from '../support/services.ts';

const ORIGINAL = 'There is no monthly fee on the standard account. International transfers cost $5.';
const PARAPHRASE = 'The standard account has no monthly charge, and sending money abroad costs five dollars.';
const CHANGED = 'The standard account now costs $12 a month. International transfers cost $25.';
const MODEL = 'toy-embed-1';
const DIM = 32;

/** The stand-in model: the fee answers on the first axes, anything else a deterministic vector of its own. */
function embed(text: string): number[] {
  const v = new Array<number>(DIM).fill(0);
  if (text === ORIGINAL) v[0] = 1;
  else if (text === PARAPHRASE) { v[0] = 0.995; v[1] = Math.sqrt(1 - 0.995 ** 2); } // cosine 0.995 with ORIGINAL
  else if (text === CHANGED) { v[0] = 0.3; v[2] = Math.sqrt(1 - 0.09); } // cosine 0.3
  else {
    let h = 2166136261;
    for (const c of text) h = Math.imul(h ^ c.codePointAt(0)!, 16777619) >>> 0;
    for (let i = 3; i < DIM; i++) { h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0; v[i] = (h / 2 ** 32) - 0.5; }
  }
  return v;
}

const JOURNEY = [
  'version: 1', 'name: fees-meaning', 'channel: chat', 'settings: { step_timeout_ms: 10000 }', 'steps:',
  '  - say: What are the fees?',
  '  - expect: { not_contains: error }',
].join('\n');

type Alarm = { detector: string; kind: string; layer: string | null; changeRunId: string; alarmRunId: string; detail: Record<string, unknown> };
type Drift = { series: Array<{ state: string; baseline: { version: number; similarity: { method: string; model: string | null } }; alarms: Alarm[] }> };

describe('content drift compared by embeddings', () => {
  let s: Stack;
  let bot: RefBot;
  let server: Server;
  let wording: string | null = null;
  let failing = false;
  const batches: string[][] = [];
  const embedded = new Map<string, number>();
  let refused = 0;
  const series = { journey: 'fees-meaning', target: 'refbot-emb', region: 'eu-test' };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let b = '';
      req.on('data', (c) => { b += c; });
      req.on('end', () => {
        if (req.method !== 'POST' || !req.url?.endsWith('/embeddings')) { res.writeHead(404).end(); return; }
        if (failing) { refused++; res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'overloaded' } })); return; }
        const r = JSON.parse(b) as { model: string; input: string[] };
        batches.push(r.input);
        for (const t of r.input) embedded.set(t, (embedded.get(t) ?? 0) + 1);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
          object: 'list', model: r.model, data: r.input.map((t, index) => ({ object: 'embedding', index, embedding: embed(t) })), usage: { prompt_tokens: 0, total_tokens: 0 },
        }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    bot = await startRefBot({ latencyMs: 5, onTurn: (e) => (e.turn.intent === 'fees' && wording ? { ...e.turn, text: wording } : undefined) });
    s = await startStack({ probeMaxConcurrency: 2, embeddings: { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, model: MODEL } });
    await s.spawnProbe('probe-emb-1', 'eu-test');
    expect((await s.api('POST', '/v1/targets', CHAT_TARGET(bot, 'refbot-emb'))).status).toBe(201);
    expect((await s.api('POST', '/v1/journeys?file=fees-meaning.yaml', JOURNEY, 'application/yaml')).status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await s?.close(); await bot?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  /** One at a time, so finish order is run order; every run must pass (the wording changes, not the verdict). */
  const runMany = async (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await s.api<{ id: string }>('POST', '/v1/runs', series);
      expect(r.status).toBe(202);
      ids.push(r.body.id);
      expect((await s.waitForRun(r.body.id)).run.verdict).toBe('pass');
    }
    return ids;
  };
  const drift = async () => (await s.api<Drift>('GET', `/v1/drift?journey=${series.journey}`)).body.series[0]!;
  const golden = async (reason: string) => {
    const since = new Date(Date.now() - 1).toISOString();
    const [run] = await runMany(1);
    const b = await s.api<{ version: number; similarity: { method: string; model: string | null }; content: Record<string, { reply?: { threshold: number } }> }>('POST', '/v1/baselines', { ...series, since, goldenRunId: run, by: 'qa@example.com', reason });
    expect(b.status, JSON.stringify(b.body)).toBe(201);
    return b.body;
  };

  it('a paraphrase the lexical fallback would flag stays steady; each text is embedded once, in batches', async () => {
    const b = await golden('fee answer signed off');
    expect(b.similarity).toEqual({ method: 'embeddings', model: MODEL });
    const threshold = Object.values(b.content)[0]!.reply!.threshold;
    expect(threshold).toBe(0.05); // a golden run: the margin alone
    // What makes this test worth having: on words alone the paraphrase is far beyond the threshold.
    expect(1 - lexicalSimilarity(PARAPHRASE, ORIGINAL)).toBeGreaterThan(threshold * 4);

    wording = PARAPHRASE;
    await runMany(5);
    const d = await drift();
    expect(d.alarms, JSON.stringify(d.alarms)).toEqual([]);
    expect(d.state).toBe('steady');
    expect(embedded.get(ORIGINAL)).toBe(1);
    expect(embedded.get(PARAPHRASE)).toBe(1);
    expect(batches.every((x) => x.length >= 1 && x.length <= 64)).toBe(true);
  }, 120_000);

  it('while the endpoint fails no run is lost; when it answers, the changed meaning alarms and names the measure', async () => {
    failing = true;
    wording = CHANGED;
    const during = await runMany(3);
    expect(refused).toBeGreaterThan(0);
    // The content waits (nothing is compared on another measure); the other detectors went on.
    expect((await drift()).alarms).toEqual([]);
    expect(await s.metric('vigil_drift_content_waiting_runs', { journey: series.journey })).toBe(3);
    failing = false;
    const after = await runMany(1);
    // GET /v1/drift waits for evaluations in flight; the last run's may start a moment after it shows finished.
    const a = await waitFor('the content alarm', async () => (await drift()).alarms.find((x) => x.kind === 'content'), 10_000);
    // The change is placed at the first run the endpoint could not embed, the alarm at the third changed run.
    expect(a).toMatchObject({ layer: 'llm', changeRunId: during[0], alarmRunId: during[2] });
    expect(a!.detail).toMatchObject({ similarity: { method: 'embeddings', model: MODEL }, text: CHANGED, nearestBaseline: ORIGINAL });
    expect(a!.detail.distance as number).toBeCloseTo(0.7, 3);
    expect(a!.detail.thresholdRemeasuredFrom).toBeUndefined();
    expect(after).toHaveLength(1);
    expect(await s.metric('vigil_drift_content_waiting_runs', { journey: series.journey })).toBe(0);
    expect(embedded.get(CHANGED)).toBe(1);
  }, 120_000);

  it('a plane restarted without the endpoint re-measures the baseline\'s thresholds on the lexical fallback and says so', async () => {
    wording = null;
    const b = await golden('original wording back');
    expect(b.similarity.method).toBe('embeddings');
    await s.plane.close(0);
    await s.startPlane({ embeddings: undefined });
    wording = PARAPHRASE;
    const runs = await runMany(3);
    const a = await waitFor('the content alarm', async () => (await drift()).alarms.find((x) => x.kind === 'content'), 10_000);
    expect((await drift()).baseline.similarity).toEqual({ method: 'embeddings', model: MODEL }); // what the baseline was made with
    expect(a).toMatchObject({ changeRunId: runs[0], alarmRunId: runs[2] });
    expect(a!.detail).toMatchObject({ similarity: { method: 'lexical-fallback', model: null }, thresholdRemeasuredFrom: { method: 'embeddings', model: MODEL }, threshold: 0.05 });
  }, 120_000);
});
