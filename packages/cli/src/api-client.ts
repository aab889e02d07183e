/** A small client for the plane's HTTP API, turning error bodies back into VigilErrors. */
import { VigilError, isErrorCode } from '@vigil/errors';

export interface ApiClientOptions {
  /** @default process.env.VIGIL_API_URL ?? "http://127.0.0.1:8080" */
  baseUrl?: string;
  token?: string;
}

export class ApiClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;

  constructor(o: ApiClientOptions = {}) {
    this.baseUrl = (o.baseUrl ?? process.env.VIGIL_API_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
    this.#token = o.token ?? process.env.VIGIL_API_TOKEN;
  }

  /** A request whose body is read by the caller (streams); errors are raised as for request(). */
  async raw(method: string, path: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, { method, headers });
    } catch (e) {
      throw new VigilError('VIGIL_E_PLANE_UNAVAILABLE', `cannot reach the plane at ${this.baseUrl}: ${(e as Error).message}`, { fix: 'start it (vigil plane or vigil demo) or set VIGIL_API_URL', cause: e });
    }
    if (!res.ok) {
      const b = ((await res.json().catch(() => ({}))) ?? {}) as { code?: string; message?: string; field?: string; fix?: string };
      throw new VigilError(isErrorCode(b.code) ? b.code : 'VIGIL_E_INTERNAL', b.message ?? `HTTP ${res.status}`, { field: b.field, fix: b.fix });
    }
    return res;
  }

  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = contentType;
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, { method, headers, body: payload });
    } catch (e) {
      throw new VigilError('VIGIL_E_PLANE_UNAVAILABLE', `cannot reach the plane at ${this.baseUrl}: ${(e as Error).message}`, { fix: 'start it (vigil plane or vigil demo) or set VIGIL_API_URL', cause: e });
    }
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const b = (json ?? {}) as { code?: string; message?: string; field?: string; fix?: string; details?: Record<string, unknown> };
      throw new VigilError(isErrorCode(b.code) ? b.code : 'VIGIL_E_INTERNAL', b.message ?? `HTTP ${res.status}`, { field: b.field, fix: b.fix, details: b.details });
    }
    return json as T;
  }
}
