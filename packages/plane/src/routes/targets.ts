import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CHANNELS } from '@vigil/contract';
import { validateTarget } from '@vigil/chat';
import { VigilError } from '@vigil/errors';
import type { TargetRow } from '@vigil/store';
import { Ref, errorResponses, iso } from './common.ts';

const Target = Type.Object({
  id: Type.String(), name: Type.String(), channel: Type.String(), endpoint: Type.String(),
  credentialsRef: Type.Union([Type.String(), Type.Null()]), config: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String(), updatedAt: Type.String(),
});

export function targetJson(t: TargetRow) {
  return { id: t.id, name: t.name, channel: t.channel, endpoint: t.endpoint, credentialsRef: t.credentialsRef, config: t.config, createdAt: iso(t.createdAt)!, updatedAt: iso(t.updatedAt)! };
}

export const targetRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store } = app.deps;
  app.post('/targets', {
    schema: {
      tags: ['targets'], summary: 'Create a target: the bot endpoint a journey runs against',
      body: Type.Object({
        name: Type.String({ description: 'Unique name: lowercase letters, digits, ".", "_", "-"' }),
        channel: Type.Union(CHANNELS.map((c) => Type.Literal(c))),
        endpoint: Type.String({ description: 'Bot URL (http(s) for chat.openai and chat.http, ws(s) for chat.websocket)' }),
        credentialsRef: Type.Optional(Type.String({ description: 'Where the probe finds the secret: env:NAME or file:/path' })),
        config: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Channel settings; see the README' })),
      }, { additionalProperties: false }),
      response: { 201: Target, ...errorResponses },
    },
  }, async (req, reply) => {
    const spec = validateTarget(req.body);
    const row = await store.createTarget(spec);
    return reply.status(201).send(targetJson(row));
  });
  app.get('/targets', { schema: { tags: ['targets'], summary: 'List targets', response: { 200: Type.Object({ targets: Type.Array(Target) }) } } }, async () => ({ targets: (await store.listTargets()).map(targetJson) }));
  app.get('/targets/:ref', { schema: { tags: ['targets'], params: Type.Object({ ref: Ref }), response: { 200: Target, ...errorResponses } } }, async (req) => {
    const t = await store.getTarget(req.params.ref);
    if (!t) throw new VigilError('VIGIL_E_NOT_FOUND', `no target ${req.params.ref}`, { field: 'ref', fix: 'list targets with GET /v1/targets' });
    return targetJson(t);
  });
};
