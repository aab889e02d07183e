/** With VIGIL_API_TOKEN set, /v1 needs the bearer token; operations endpoints stay open for probes and scrapers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, startPlane, type Plane } from '@vigil/plane';

describe('API token', () => {
  let plane: Plane;
  beforeAll(async () => {
    plane = await startPlane({ apiToken: 'secret-api-token', httpPort: 0, grpcPort: 0 }, { logger: createLogger('silent', 'test') });
  });
  afterAll(async () => { await plane?.close(0); });

  it('refuses /v1 without the token, accepts it with the token, and leaves /metrics and /readyz open', async () => {
    const no = await fetch(`${plane.httpUrl}/v1/targets`);
    expect(no.status).toBe(401);
    expect(await no.json()).toMatchObject({ code: 'VIGIL_E_AUTH_REQUIRED', field: 'authorization' });
    const wrong = await fetch(`${plane.httpUrl}/v1/targets`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${plane.httpUrl}/v1/targets`, { headers: { authorization: 'Bearer secret-api-token' } });
    expect(ok.status).toBe(200);
    expect((await fetch(`${plane.httpUrl}/metrics`)).status).toBe(200);
    expect(await (await fetch(`${plane.httpUrl}/readyz`)).json()).toEqual({ ready: true });
    expect(plane.store.database.kind).toBe('pglite');
  });
});
