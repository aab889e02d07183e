/**
 * `buildApp(deps)` — the plane's HTTP API as a Fastify instance of encapsulated plugins. `server.ts`-style
 * listening lives in plane.ts; tests call `app.inject()`.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { VigilError, isErrorCode, type ErrorBody } from '@vigil/errors';
import type { DriftStore, EvidenceStore, Store } from '@vigil/store';
import type { DriftService } from './drift.ts';
import type { EvidenceService } from './evidence.ts';
import type { PlaneMetrics } from './metrics.ts';
import type { Scheduler } from './scheduler.ts';
import type { CompiledPlaneOptions } from './options.ts';
import { targetRoutes } from './routes/targets.ts';
import { journeyRoutes } from './routes/journeys.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { runRoutes } from './routes/runs.ts';
import { statsRoutes } from './routes/stats.ts';
import { probeRoutes } from './routes/probes.ts';
import { evidenceRoutes } from './routes/evidence.ts';
import { driftRoutes } from './routes/drift.ts';
import { PLANE_VERSION } from './grpc.ts';

export interface AppDeps {
  store: Store;
  metrics: PlaneMetrics;
  scheduler: Scheduler;
  options: CompiledPlaneOptions;
  logger: Logger;
  /** Regions known to the bus; a run request for another region is queued too (its queue is created). */
  ensureRegion: (region: string) => Promise<void>;
  onTokenRevoked: () => void;
  ready: () => boolean;
  evidence: EvidenceService;
  evidenceStore: EvidenceStore;
  drift: DriftService;
  driftStore: DriftStore;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
  }
}

export type App = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>; // eslint-disable-line @typescript-eslint/no-explicit-any

function fieldFromValidation(e: FastifyError): string | undefined {
  const v = e.validation?.[0];
  if (!v) return undefined;
  const base = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const missing = (v.params as { missingProperty?: string; additionalProperty?: string }).missingProperty ?? (v.params as { additionalProperty?: string }).additionalProperty;
  const field = [e.validationContext === 'body' ? '' : e.validationContext, base, missing].filter(Boolean).join('.');
  return field || e.validationContext;
}

export function toErrorBody(e: unknown): { status: number; body: ErrorBody } {
  if (e instanceof VigilError) return { status: e.httpStatus, body: e.toJSON() };
  const fe = e as FastifyError;
  if (fe.validation) {
    const field = fieldFromValidation(fe);
    const v = fe.validation[0];
    const extra = (v?.params as { additionalProperty?: string })?.additionalProperty;
    const message = extra ? `unknown field ${field}` : `${field ?? 'request'} ${v?.message ?? 'is invalid'}`;
    return { status: 400, body: new VigilError('VIGIL_E_REQUEST_INVALID', message, { field, fix: extra ? 'remove the field; see /openapi.json for the accepted shape' : 'see /openapi.json for the accepted shape' }).toJSON() };
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: new VigilError('VIGIL_E_REQUEST_TOO_LARGE', 'request body is larger than the limit', { fix: 'send a smaller body or raise VIGIL_BODY_LIMIT_BYTES' }).toJSON() };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: new VigilError('VIGIL_E_REQUEST_MEDIA_TYPE', fe.message, { field: 'content-type', fix: 'send application/json (or application/yaml for journeys)' }).toJSON() };
    case 'FST_ERR_CTP_INVALID_JSON_BODY': case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: new VigilError('VIGIL_E_REQUEST_INVALID', `body is not valid JSON: ${fe.message}`, { field: 'body', fix: 'send a JSON document' }).toJSON() };
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: new VigilError('VIGIL_E_REQUEST_INVALID', fe.message, { fix: 'see /openapi.json' }).toJSON() };
  }
  return { status: 500, body: new VigilError('VIGIL_E_INTERNAL', 'internal error', { fix: 'retry; if it persists, the plane log has the details' }).toJSON() };
}

export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.options.bodyLimitBytes,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('deps', deps);

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toErrorBody(err);
    if (status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: body.code, field: body.field }, 'request refused');
    if (isErrorCode(body.code) && body.code === 'VIGIL_E_DB_UNAVAILABLE') reply.header('retry-after', '5');
    reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send(new VigilError('VIGIL_E_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`, { fix: 'see /openapi.json for the routes' }).toJSON());
  });

  // Journeys arrive as YAML text.
  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Vigil control plane', version: PLANE_VERSION, description: 'Targets, journeys, schedules, runs and probes. Errors answer {code, message, retryable, field?, fix?} with a stable VIGIL_E_* code.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    if (!deps.ready()) return reply.status(503).send({ ready: false });
    await deps.store.ping();
    return { ready: true };
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  await app.register(async (api) => {
    if (deps.options.apiToken) {
      const want = `Bearer ${deps.options.apiToken}`;
      api.addHook('onRequest', async (req) => {
        if (req.headers.authorization !== want) throw new VigilError('VIGIL_E_AUTH_REQUIRED', 'missing or wrong API token', { field: 'authorization', fix: 'send Authorization: Bearer <VIGIL_API_TOKEN>' });
      });
    }
    await api.register(targetRoutes);
    await api.register(journeyRoutes);
    await api.register(scheduleRoutes);
    await api.register(runRoutes);
    await api.register(statsRoutes);
    await api.register(probeRoutes);
    await api.register(evidenceRoutes);
    await api.register(driftRoutes);
  }, { prefix: '/v1' });

  return app;
}
