import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { REGION_PATTERN } from '@vigil/contract';
import { VigilError } from '@vigil/errors';
import { errorResponses, iso } from './common.ts';

const Probe = Type.Object({
  id: Type.String(), region: Type.String(), version: Type.String(), capabilities: Type.Array(Type.String()), hostname: Type.String(),
  status: Type.Union([Type.Literal('online'), Type.Literal('offline')]), inFlight: Type.Integer(), registeredAt: Type.String(), lastHeartbeatAt: Type.String(),
});

export const probeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, options, onTokenRevoked } = app.deps;

  app.get('/probes', { schema: { tags: ['probes'], summary: 'The probe fleet; online means a heartbeat within three intervals', response: { 200: Type.Object({ probes: Type.Array(Probe) }) } } }, async () => {
    const now = Date.now();
    return {
      probes: (await store.listProbes()).map((p) => ({
        id: p.id, region: p.region, version: p.version, capabilities: p.capabilities, hostname: p.hostname,
        status: now - p.lastHeartbeatAt.getTime() <= 3 * options.heartbeatIntervalMs ? 'online' as const : 'offline' as const,
        inFlight: p.inFlight, registeredAt: iso(p.registeredAt)!, lastHeartbeatAt: iso(p.lastHeartbeatAt)!,
      })),
    };
  });

  app.post('/probe-tokens', {
    schema: {
      tags: ['probes'], summary: 'Issue a probe token (shown once; only its hash is stored)',
      body: Type.Object({ label: Type.String({ minLength: 1, maxLength: 200 }), region: Type.Optional(Type.String({ description: 'Restrict the token to one region' })) }, { additionalProperties: false }),
      response: { 201: Type.Object({ id: Type.String(), token: Type.String(), label: Type.String(), region: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses },
    },
  }, async (req, reply) => {
    if (req.body.region !== undefined && !REGION_PATTERN.test(req.body.region)) throw new VigilError('VIGIL_E_REQUEST_INVALID', `region "${req.body.region}" is not valid`, { field: 'region', fix: 'lowercase letters, digits and "-"' });
    const { token, row } = await store.createProbeToken(req.body.label, req.body.region ?? null);
    return reply.status(201).send({ id: row.id, token, label: row.label, region: row.region });
  });

  app.delete('/probe-tokens/:id', { schema: { tags: ['probes'], summary: 'Revoke a probe token', params: Type.Object({ id: Type.String() }), response: { 204: Type.Null(), ...errorResponses } } }, async (req, reply) => {
    if (!(await store.revokeProbeToken(req.params.id))) throw new VigilError('VIGIL_E_NOT_FOUND', `no active probe token ${req.params.id}`, { field: 'id', fix: 'tokens are listed by id when issued' });
    onTokenRevoked();
    return reply.status(204).send(null);
  });
};
