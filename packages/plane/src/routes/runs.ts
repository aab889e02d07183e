import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { REGION_PATTERN, TARGET_TELEMETRY_SOURCE, VERDICTS, type RunEventBody } from '@vigil/contract';
import { VigilError } from '@vigil/errors';
import { targetSpecOf, type RunEventRow, type RunRow } from '@vigil/store';
import { Ref, assertChannelFamily, errorResponses, iso } from './common.ts';

const RunSummary = Type.Object({
  id: Type.String(), scheduleId: Type.Union([Type.String(), Type.Null()]),
  journey: Type.Object({ id: Type.String(), name: Type.String(), versionId: Type.String() }),
  target: Type.Object({ id: Type.String(), name: Type.String() }),
  region: Type.String(), status: Type.String(), verdict: Type.Union([Type.String(), Type.Null()]),
  scheduledAt: Type.String(), notBefore: Type.String(), publishedAt: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.Union([Type.String(), Type.Null()]), finishedAt: Type.Union([Type.String(), Type.Null()]),
  probeId: Type.Union([Type.String(), Type.Null()]), attempt: Type.Union([Type.Integer(), Type.Null()]),
  durationMs: Type.Union([Type.Number(), Type.Null()]), errorCode: Type.Union([Type.String(), Type.Null()]), errorMessage: Type.Union([Type.String(), Type.Null()]),
});

const Turn = Type.Object({
  stepIndex: Type.Integer(), caller: Type.Union([Type.String(), Type.Null()]), bot: Type.Union([Type.String(), Type.Null()]),
  timeToFirstTokenMs: Type.Number(), timeToFullReplyMs: Type.Number(), streamed: Type.Boolean(),
});

type RunWithNames = RunRow & { journeyName: string; targetName: string };

function runJson(r: RunWithNames) {
  return {
    id: r.id, scheduleId: r.scheduleId, journey: { id: r.journeyId, name: r.journeyName, versionId: r.journeyVersionId }, target: { id: r.targetId, name: r.targetName },
    region: r.region, status: r.status, verdict: r.verdict, scheduledAt: iso(r.scheduledAt)!, notBefore: iso(r.notBefore)!, publishedAt: iso(r.publishedAt),
    startedAt: iso(r.startedAt), finishedAt: iso(r.finishedAt), probeId: r.probeId, attempt: r.attempt, durationMs: r.durationMs, errorCode: r.errorCode, errorMessage: r.errorMessage,
  };
}

/** Per-turn view of one attempt: what the caller said, what the bot answered, how long it took. */
export function turnsOf(events: RunEventRow[]) {
  const turns = new Map<number, { stepIndex: number; caller: string | null; bot: string | null; timeToFirstTokenMs: number; timeToFullReplyMs: number; streamed: boolean }>();
  const get = (i: number) => {
    let t = turns.get(i);
    if (!t) turns.set(i, (t = { stepIndex: i, caller: null, bot: null, timeToFirstTokenMs: 0, timeToFullReplyMs: 0, streamed: false }));
    return t;
  };
  for (const e of events) {
    const b = e.body as RunEventBody;
    // What the target's telemetry says it heard is not a turn of the conversation (it is in the events).
    if (b.kind === 'transcript' && (b.structured as { source?: string } | undefined)?.source !== TARGET_TELEMETRY_SOURCE) get(b.stepIndex)[b.speaker] = b.text;
    if (b.kind === 'timing' && b.timing.layer === 'chat_turn') {
      const t = get(b.stepIndex);
      t.timeToFirstTokenMs = b.timing.timeToFirstTokenMs;
      t.timeToFullReplyMs = b.timing.timeToFullReplyMs;
      t.streamed = b.timing.streamed;
    }
  }
  return [...turns.values()].filter((t) => t.bot !== null || t.caller !== null).sort((a, b) => a.stepIndex - b.stepIndex);
}

export const runRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, scheduler, ensureRegion, metrics } = app.deps;

  app.post('/runs', {
    schema: {
      tags: ['runs'], summary: 'Queue one run now (outside any schedule)',
      body: Type.Object({ journey: Ref, version: Type.Optional(Type.Integer({ minimum: 1 })), target: Ref, region: Type.String() }, { additionalProperties: false }),
      response: { 202: RunSummary, ...errorResponses },
    },
  }, async (req, reply) => {
    const b = req.body;
    if (!REGION_PATTERN.test(b.region)) throw new VigilError('VIGIL_E_REQUEST_INVALID', `region "${b.region}" is not valid`, { field: 'region', fix: 'lowercase letters, digits and "-"' });
    const journey = await store.getJourney(b.journey);
    if (!journey) throw new VigilError('VIGIL_E_NOT_FOUND', `no journey ${b.journey}`, { field: 'journey', fix: 'push it first with POST /v1/journeys' });
    const target = await store.getTarget(b.target);
    if (!target) throw new VigilError('VIGIL_E_NOT_FOUND', `no target ${b.target}`, { field: 'target', fix: 'create it first with POST /v1/targets' });
    const v = await store.getJourneyVersion(journey.id, b.version);
    if (!v) throw new VigilError('VIGIL_E_NOT_FOUND', `journey ${journey.name} has no version ${b.version}`, { field: 'version', fix: `use 1..${journey.latestVersion}` });
    assertChannelFamily(v.definition, target.channel, 'target');
    await ensureRegion(b.region);
    const now = new Date();
    const run = await store.createRun({ scheduleId: null, journeyId: journey.id, journeyVersionId: v.id, target: targetSpecOf(target), region: b.region, scheduledAt: now, notBefore: now });
    metrics.runsCreated.inc({ source: 'api' });
    await scheduler.kick();
    const fresh = await store.getRun(run.id);
    return reply.status(202).send(runJson(fresh!));
  });

  app.get('/runs', {
    schema: {
      tags: ['runs'], summary: 'Runs, newest first',
      querystring: Type.Object({
        journey: Type.Optional(Ref), target: Type.Optional(Ref), region: Type.Optional(Type.String()),
        verdict: Type.Optional(Type.Union(VERDICTS.map((v) => Type.Literal(v)))),
        status: Type.Optional(Type.Union(['queued', 'published', 'running', 'finished'].map((v) => Type.Literal(v)))),
        since: Type.Optional(Type.String({ format: 'date-time' })), until: Type.Optional(Type.String({ format: 'date-time' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ runs: Type.Array(RunSummary) }), ...errorResponses },
    },
  }, async (req) => {
    const q = req.query;
    const rows = await store.listRuns({
      journey: q.journey, target: q.target, region: q.region, verdict: q.verdict, status: q.status as RunRow['status'] | undefined,
      since: q.since ? new Date(q.since) : undefined, until: q.until ? new Date(q.until) : undefined, limit: q.limit,
    });
    return { runs: rows.map(runJson) };
  });

  app.get('/runs/:id', {
    schema: {
      tags: ['runs'], summary: 'A run with every event of its final attempt (or all attempts), and its per-turn timings',
      params: Type.Object({ id: Type.String() }),
      querystring: Type.Object({ attempts: Type.Optional(Type.Union([Type.Literal('final'), Type.Literal('all')], { default: 'final' })) }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          run: RunSummary,
          attempts: Type.Array(Type.Object({ attempt: Type.Integer(), probeId: Type.String(), events: Type.Integer(), finished: Type.Boolean() })),
          events: Type.Array(Type.Object({ attempt: Type.Integer(), seq: Type.Integer(), kind: Type.String(), at: Type.String(), probeId: Type.String(), body: Type.Unknown() })),
          turns: Type.Array(Turn),
        }),
        ...errorResponses,
      },
    },
  }, async (req) => {
    const run = await store.getRun(req.params.id);
    if (!run) throw new VigilError('VIGIL_E_NOT_FOUND', `no run ${req.params.id}`, { field: 'id', fix: 'list runs with GET /v1/runs' });
    const all = await store.runEvents(run.id);
    const byAttempt = new Map<number, RunEventRow[]>();
    for (const e of all) byAttempt.set(e.attempt, [...(byAttempt.get(e.attempt) ?? []), e]);
    const attempts = [...byAttempt.entries()].map(([attempt, evs]) => ({ attempt, probeId: evs[0]!.probeId, events: evs.length, finished: evs.some((e) => e.kind === 'run_finished') }));
    const shownAttempt = run.attempt ?? Math.max(0, ...byAttempt.keys());
    const events = req.query.attempts === 'all' ? all : (byAttempt.get(shownAttempt) ?? []);
    return {
      run: runJson(run),
      attempts,
      events: events.map((e) => ({ attempt: e.attempt, seq: e.seq, kind: e.kind, at: iso(e.at)!, probeId: e.probeId, body: e.body })),
      turns: turnsOf(byAttempt.get(shownAttempt) ?? []),
    };
  });
};
