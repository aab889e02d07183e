import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { REGION_PATTERN } from '@vigil/contract';
import { VigilError } from '@vigil/errors';
import type { ScheduleRow } from '@vigil/store';
import { MAX_JITTER_MS, defaultJitterMs, nextDue, parseCron } from '../scheduler.ts';
import { Ref, assertChannelFamily, errorResponses, iso } from './common.ts';

const Schedule = Type.Object({
  id: Type.String(), journeyId: Type.String(), journeyVersionId: Type.Union([Type.String(), Type.Null()]), targetId: Type.String(),
  regions: Type.Array(Type.String()), intervalMs: Type.Union([Type.Integer(), Type.Null()]), cron: Type.Union([Type.String(), Type.Null()]),
  jitterMaxMs: Type.Integer(), enabled: Type.Boolean(), nextDueAt: Type.String(), createdAt: Type.String(), updatedAt: Type.String(),
});

function scheduleJson(s: ScheduleRow) {
  return {
    id: s.id, journeyId: s.journeyId, journeyVersionId: s.journeyVersionId, targetId: s.targetId, regions: s.regions, intervalMs: s.intervalMs, cron: s.cron,
    jitterMaxMs: s.jitterMaxMs, enabled: s.enabled, nextDueAt: iso(s.nextDueAt)!, createdAt: iso(s.createdAt)!, updatedAt: iso(s.updatedAt)!,
  };
}

export const MIN_INTERVAL_MS = 1000;

export const scheduleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, scheduler, ensureRegion } = app.deps;

  app.post('/schedules', {
    schema: {
      tags: ['schedules'], summary: 'Run a journey against a target from one or more regions, on an interval or a cron expression (UTC)',
      body: Type.Object({
        journey: Ref,
        version: Type.Optional(Type.Integer({ minimum: 1, description: 'Pin a version; absent: always the latest' })),
        target: Ref,
        regions: Type.Array(Type.String(), { minItems: 1, maxItems: 100 }),
        intervalMs: Type.Optional(Type.Integer({ minimum: MIN_INTERVAL_MS, maximum: 31 * 24 * 3600 * 1000 })),
        cron: Type.Optional(Type.String({ maxLength: 120 })),
        jitterMaxMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_JITTER_MS, description: 'Random start offset per region, up to this; default a tenth of the period, at most 30 s' })),
        enabled: Type.Optional(Type.Boolean()),
        startAt: Type.Optional(Type.String({ format: 'date-time', description: 'First due time; default now' })),
      }, { additionalProperties: false }),
      response: { 201: Schedule, ...errorResponses },
    },
  }, async (req, reply) => {
    const b = req.body;
    if ((b.intervalMs === undefined) === (b.cron === undefined)) throw new VigilError('VIGIL_E_SCHEDULE_INVALID', 'give exactly one of intervalMs and cron', { field: b.cron === undefined ? 'intervalMs' : 'cron', fix: 'e.g. "intervalMs": 60000 or "cron": "*/5 * * * *"' });
    if (b.cron !== undefined) parseCron(b.cron);
    for (const [i, r] of b.regions.entries()) {
      if (!REGION_PATTERN.test(r)) throw new VigilError('VIGIL_E_SCHEDULE_INVALID', `region "${r}" is not valid`, { field: `regions[${i}]`, fix: 'lowercase letters, digits and "-", e.g. "eu-west-1"' });
    }
    if (new Set(b.regions).size !== b.regions.length) throw new VigilError('VIGIL_E_SCHEDULE_INVALID', 'regions repeat', { field: 'regions', fix: 'list each region once' });
    const journey = await store.getJourney(b.journey);
    if (!journey) throw new VigilError('VIGIL_E_NOT_FOUND', `no journey ${b.journey}`, { field: 'journey', fix: 'push it first with POST /v1/journeys' });
    const target = await store.getTarget(b.target);
    if (!target) throw new VigilError('VIGIL_E_NOT_FOUND', `no target ${b.target}`, { field: 'target', fix: 'create it first with POST /v1/targets' });
    let versionId: string | null = null;
    const v = await store.getJourneyVersion(journey.id, b.version);
    if (!v) throw new VigilError('VIGIL_E_NOT_FOUND', `journey ${journey.name} has no version ${b.version}`, { field: 'version', fix: `use 1..${journey.latestVersion}, or omit to follow the latest` });
    if (b.version !== undefined) versionId = v.id;
    assertChannelFamily(v.definition, target.channel, 'target');
    let start = new Date();
    if (b.startAt !== undefined) start = new Date(b.startAt);
    if (b.cron !== undefined && b.startAt === undefined) start = nextDue({ intervalMs: null, cron: b.cron, nextDueAt: start }, start);
    for (const r of b.regions) await ensureRegion(r);
    const row = await store.createSchedule({
      journeyId: journey.id, journeyVersionId: versionId, targetId: target.id, regions: b.regions, intervalMs: b.intervalMs ?? null, cron: b.cron ?? null,
      jitterMaxMs: b.jitterMaxMs ?? defaultJitterMs(b.intervalMs ?? null), enabled: b.enabled ?? true, nextDueAt: start,
    });
    void scheduler.kick();
    return reply.status(201).send(scheduleJson(row));
  });

  app.get('/schedules', { schema: { tags: ['schedules'], summary: 'List schedules', response: { 200: Type.Object({ schedules: Type.Array(Schedule) }) } } }, async () => ({ schedules: (await store.listSchedules()).map(scheduleJson) }));

  app.get('/schedules/:id', { schema: { tags: ['schedules'], params: Type.Object({ id: Type.String() }), response: { 200: Schedule, ...errorResponses } } }, async (req) => {
    const s = await store.getSchedule(req.params.id);
    if (!s) throw new VigilError('VIGIL_E_NOT_FOUND', `no schedule ${req.params.id}`, { field: 'id', fix: 'list schedules with GET /v1/schedules' });
    return scheduleJson(s);
  });

  app.patch('/schedules/:id', {
    schema: { tags: ['schedules'], summary: 'Pause or resume a schedule', params: Type.Object({ id: Type.String() }), body: Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }), response: { 200: Schedule, ...errorResponses } },
  }, async (req) => {
    const s = await store.updateSchedule(req.params.id, { enabled: req.body.enabled });
    if (!s) throw new VigilError('VIGIL_E_NOT_FOUND', `no schedule ${req.params.id}`, { field: 'id', fix: 'list schedules with GET /v1/schedules' });
    return scheduleJson(s);
  });
};
