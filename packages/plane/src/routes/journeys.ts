import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { journeyJsonSchema, parseJourney } from '@vigil/journey';
import { VigilError } from '@vigil/errors';
import type { JourneyRow } from '@vigil/store';
import { Ref, errorResponses, iso } from './common.ts';

const Journey = Type.Object({ id: Type.String(), name: Type.String(), latestVersion: Type.Integer(), createdAt: Type.String(), updatedAt: Type.String() });
const VersionSummary = Type.Object({ id: Type.String({ description: 'sha256 of the source' }), version: Type.Integer(), createdAt: Type.String() });

function journeyJson(j: JourneyRow) {
  return { id: j.id, name: j.name, latestVersion: j.latestVersion, createdAt: iso(j.createdAt)!, updatedAt: iso(j.updatedAt)! };
}

export const journeyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store } = app.deps;

  app.post('/journeys', {
    schema: {
      tags: ['journeys'],
      summary: 'Push a journey (YAML). New content becomes a new version; the same content returns the existing version.',
      description: 'Send the YAML as the body with content-type application/yaml, or JSON {source, file?}. Invalid journeys answer 422 with details.issues: [{file, line, column, field, message}].',
      querystring: Type.Object({ file: Type.Optional(Type.String({ maxLength: 300, description: 'File name used in error messages' })) }),
      response: { 200: Type.Object({ journey: Journey, version: VersionSummary, created: Type.Boolean() }), 201: Type.Object({ journey: Journey, version: VersionSummary, created: Type.Boolean() }), ...errorResponses },
    },
  }, async (req, reply) => {
    let source: string;
    let file = req.query.file ?? 'journey.yaml';
    const body = req.body as unknown;
    if (typeof body === 'string') source = body;
    else if (typeof body === 'object' && body !== null && typeof (body as { source?: unknown }).source === 'string') {
      source = (body as { source: string }).source;
      const f = (body as { file?: unknown }).file;
      if (typeof f === 'string') file = f;
    } else {
      throw new VigilError('VIGIL_E_REQUEST_INVALID', 'send the journey YAML as the body (content-type application/yaml) or as JSON {"source": "<yaml>"}', { field: 'source', fix: 'e.g. curl --data-binary @journey.yaml -H "content-type: application/yaml"' });
    }
    const parsed = parseJourney(source, file);
    const r = await store.pushJourney({ name: parsed.journey.name, contentHash: parsed.contentHash, source, definition: parsed.journey });
    return reply.status(r.created ? 201 : 200).send({ journey: journeyJson(r.journey), version: { id: r.version.id, version: r.version.version, createdAt: iso(r.version.createdAt)! }, created: r.created });
  });

  app.get('/journeys', { schema: { tags: ['journeys'], summary: 'List journeys', response: { 200: Type.Object({ journeys: Type.Array(Journey) }) } } }, async () => ({ journeys: (await store.listJourneys()).map(journeyJson) }));

  app.get('/journeys/:ref', {
    schema: { tags: ['journeys'], summary: 'A journey with its versions', params: Type.Object({ ref: Ref }), response: { 200: Type.Object({ journey: Journey, versions: Type.Array(VersionSummary) }), ...errorResponses } },
  }, async (req) => {
    const j = await store.getJourney(req.params.ref);
    if (!j) throw new VigilError('VIGIL_E_NOT_FOUND', `no journey ${req.params.ref}`, { field: 'ref', fix: 'list journeys with GET /v1/journeys' });
    const versions = await store.listJourneyVersions(j.id);
    return { journey: journeyJson(j), versions: versions.map((v) => ({ id: v.id, version: v.version, createdAt: iso(v.createdAt)! })) };
  });

  app.get('/journeys/:ref/versions/:version', {
    schema: {
      tags: ['journeys'], summary: 'One version: its YAML source and parsed definition',
      params: Type.Object({ ref: Ref, version: Type.Integer({ minimum: 1 }) }),
      response: { 200: Type.Object({ id: Type.String(), version: Type.Integer(), source: Type.String(), definition: Type.Unknown(), createdAt: Type.String() }), ...errorResponses },
    },
  }, async (req) => {
    const j = await store.getJourney(req.params.ref);
    const v = j ? await store.getJourneyVersion(j.id, req.params.version) : undefined;
    if (!v) throw new VigilError('VIGIL_E_NOT_FOUND', `no version ${req.params.version} of journey ${req.params.ref}`, { field: 'version', fix: 'list versions with GET /v1/journeys/{ref}' });
    return { id: v.id, version: v.version, source: v.source, definition: v.definition, createdAt: iso(v.createdAt)! };
  });

  app.get('/schemas/journey-v1.json', { schema: { tags: ['journeys'], summary: 'JSON Schema of journey format v1' } }, async () => journeyJsonSchema());
};
