/** Baselines (versioned, with who and why) and drift state per journey/target/region. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { REGION_PATTERN } from '@vigil/contract';
import { VigilError } from '@vigil/errors';
import type { BaselineRow } from '@vigil/store';
import { alarmView, attribute } from '../drift.ts';
import { Ref, errorResponses } from './common.ts';

const DAY_MS = 86_400_000;

export const driftRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, drift, driftStore } = app.deps;

  const series = async (q: { journey: string; target: string; region: string }) => {
    const j = await store.getJourney(q.journey);
    if (!j) throw new VigilError('VIGIL_E_NOT_FOUND', `no journey ${q.journey}`, { field: 'journey', fix: 'GET /v1/journeys lists them' });
    const t = await store.getTarget(q.target);
    if (!t) throw new VigilError('VIGIL_E_NOT_FOUND', `no target ${q.target}`, { field: 'target', fix: 'GET /v1/targets lists them' });
    if (!REGION_PATTERN.test(q.region)) throw new VigilError('VIGIL_E_REQUEST_INVALID', `region "${q.region}" is not valid`, { field: 'region', fix: 'lowercase letters, digits and "-"' });
    return { journeyId: j.id, targetId: t.id, region: q.region, journeyName: j.name, targetName: t.name };
  };
  const SeriesQuery = Type.Object({ journey: Type.Optional(Ref), target: Type.Optional(Ref), region: Type.Optional(Type.String()) }, { additionalProperties: false });
  /** Baselines (all versions, newest first per series) matching a journey/target/region filter. */
  const baselinesFor = async (q: { journey?: string; target?: string; region?: string }) => {
    const journeyId = q.journey ? (await store.getJourney(q.journey))?.id ?? '-' : undefined;
    const targetId = q.target ? (await store.getTarget(q.target))?.id ?? '-' : undefined;
    return driftStore.listBaselines({ journeyId, targetId, region: q.region });
  };
  const names = async () => {
    const [js, ts] = await Promise.all([store.listJourneys(), store.listTargets()]);
    return { j: new Map(js.map((x) => [x.id, x.name])), t: new Map(ts.map((x) => [x.id, x.name])) };
  };
  const baselineJson = (b: BaselineRow, n: Awaited<ReturnType<typeof names>>) => ({
    id: b.id, journey: n.j.get(b.journeyId) ?? b.journeyId, target: n.t.get(b.targetId) ?? b.targetId, region: b.region, version: b.version,
    since: b.since.toISOString(), until: b.until.toISOString(), runs: b.runs, createdBy: b.createdBy, reason: b.reason, createdAt: b.createdAt.toISOString(),
    latency: Object.fromEntries(Object.entries(b.stats.latency).map(([k, v]) => [k, { medianMs: +Math.exp(v.center).toFixed(2), logSpread: +v.spread.toFixed(4), n: v.n, floorMs: v.floor ?? null }])),
    pass: b.stats.pass,
    content: Object.fromEntries(Object.entries(b.stats.content ?? {}).map(([k, c]) => [k, {
      step: c.step, intents: c.intents,
      ...Object.fromEntries((['reply', 'heard'] as const).flatMap((f) => { const t = c.texts[f]; return t ? [[f, { threshold: +t.threshold.toFixed(4), spread: +t.spread.toFixed(4), distinct: t.values.length, mostCommon: t.values[0]?.text ?? null }]] : []; })),
    }])),
    similarity: b.stats.similarity ?? null,
    goldenRunId: b.stats.goldenRunId ?? null,
    quality: b.stats.quality?.mos ? { medianMos: +(4.5 - Math.exp(b.stats.quality.mos.center)).toFixed(2), n: b.stats.quality.mos.n } : null,
    failures: b.stats.failures ?? {},
    versions: b.stats.versions ?? {},
  });

  app.post('/baselines', {
    schema: {
      tags: ['drift'], summary: 'Accepts a window of a series\' finished runs as its baseline (a new version; who and why are kept)',
      body: Type.Object({
        journey: Ref, target: Ref, region: Type.String(), since: Type.Optional(Type.String({ format: 'date-time' })), until: Type.Optional(Type.String({ format: 'date-time' })),
        by: Type.String({ minLength: 1, maxLength: 200, description: 'who accepts it' }), reason: Type.String({ minLength: 1, maxLength: 1000, description: 'why' }),
        goldenRunId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'a finished, passing run of the series whose texts become the accepted content' })),
      }, { additionalProperties: false }),
      response: { 201: Type.Unknown(), ...errorResponses },
    },
  }, async (req, reply) => {
    const b = req.body;
    const s = await series(b);
    const until = b.until ? new Date(b.until) : new Date();
    const since = b.since ? new Date(b.since) : new Date(until.getTime() - 7 * DAY_MS);
    const row = await drift.createBaseline({ journeyId: s.journeyId, targetId: s.targetId, region: s.region }, { since, until, by: b.by, reason: b.reason, ...(b.goldenRunId ? { goldenRunId: b.goldenRunId } : {}) });
    return reply.status(201).send(baselineJson(row, await names()));
  });

  app.get('/baselines', {
    schema: { tags: ['drift'], summary: 'Baselines, newest version first per series', querystring: SeriesQuery, response: { 200: Type.Unknown(), ...errorResponses } },
  }, async (req) => {
    const n = await names();
    return { baselines: (await baselinesFor(req.query)).map((b) => baselineJson(b, n)) };
  });

  app.get('/drift', {
    schema: {
      tags: ['drift'], summary: 'Drift state per series against its current baseline: detectors in alarm, the layer that moved first, when, by how much',
      querystring: SeriesQuery,
      response: { 200: Type.Unknown(), ...errorResponses },
    },
  }, async (req) => {
    await drift.idle();
    const all = await baselinesFor(req.query);
    const current = new Map<string, BaselineRow>();
    for (const b of all) { const k = `${b.journeyId}|${b.targetId}|${b.region}`; if (!current.has(k)) current.set(k, b); }
    const alarms = await driftStore.alarms([...current.values()].map((b) => b.id));
    const n = await names();
    return {
      series: [...current.values()].map((b) => {
        const mine = alarms.filter((a) => a.baselineId === b.id).map((a) => ({ ...alarmView(a), runs: `/v1/runs/${a.alarmRunId}`, evidence: `/v1/evidence/records?runId=${a.alarmRunId}` }));
        const moved = attribute(mine);
        return { baseline: baselineJson(b, n), state: mine.length ? 'drift' : 'steady', firstMoved: moved?.layer ?? null, attribution: moved, alarms: mine };
      }),
    };
  });

  app.get('/drift/history', {
    schema: {
      tags: ['drift'], summary: 'Alert history per series: every baseline version (who, why, when superseded), the alarms raised against it with when they were resolved, and each notification sent (webhook, delivered or not)',
      querystring: SeriesQuery,
      response: { 200: Type.Unknown(), ...errorResponses },
    },
  }, async (req) => {
    await drift.idle();
    const all = await baselinesFor(req.query);
    const ids = all.map((b) => b.id);
    const [alarms, notes] = await Promise.all([driftStore.alarms(ids), driftStore.notifications(ids)]);
    const n = await names();
    const bySeries = new Map<string, BaselineRow[]>();
    for (const b of all) { const k = `${b.journeyId}|${b.targetId}|${b.region}`; bySeries.set(k, [...(bySeries.get(k) ?? []), b]); }
    return {
      series: [...bySeries.values()].map((versions) => {
        const newestFirst = [...versions].sort((a, b) => b.version - a.version);
        return {
          journey: n.j.get(newestFirst[0]!.journeyId) ?? newestFirst[0]!.journeyId, target: n.t.get(newestFirst[0]!.targetId) ?? newestFirst[0]!.targetId, region: newestFirst[0]!.region,
          baselines: newestFirst.map((b, i) => {
            const next = i > 0 ? newestFirst[i - 1]! : null;
            const mine = alarms.filter((a) => a.baselineId === b.id).map((a) => ({
              ...alarmView(a), resolvedAt: next?.createdAt.toISOString() ?? null, resolvedBy: next ? { version: next.version, by: next.createdBy, reason: next.reason } : null,
              runs: `/v1/runs/${a.alarmRunId}`, evidence: `/v1/evidence/records?runId=${a.alarmRunId}`,
            }));
            return {
              version: b.version, id: b.id, createdBy: b.createdBy, reason: b.reason, createdAt: b.createdAt.toISOString(), supersededAt: next?.createdAt.toISOString() ?? null,
              attribution: attribute(mine), alarms: mine,
              notifications: notes.filter((x) => x.baselineId === b.id).map((x) => ({ status: x.status, webhook: x.webhook, detectors: x.detectors, delivered: x.delivered, httpStatus: x.httpStatus, attempts: x.attempts, error: x.error, sentAt: x.sentAt.toISOString() })),
            };
          }),
        };
      }),
    };
  });
};
