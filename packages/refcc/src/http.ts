/**
 * The contact center's own API: ground truth per call, agent-desktop events, and the fault switches.
 *   GET  /v1/calls[?runId=…]          calls with their truth events (newest last)
 *   GET  /v1/calls/:callId            one call
 *   GET  /v1/telemetry?runId=…        the voice bot's turns of that run in the Vigil turn telemetry format
 *                                     (what it heard, its intent, ASR / dialogue / TTS ms): target config.telemetry
 *   GET  /v1/agent-desktop/events[?callId=…]   what the agent queue raised, with the context the IVR and bot collected
 *   GET  /v1/crm/customers, GET|POST /v1/crm/cases[?reference=…], GET /v1/crm/cases/:id   the CRM
 *   POST /v1/crm/webhooks {url}, DELETE /v1/crm/webhooks   announce new cases (POST {event: "case.created", case})
 *   GET  /v1/faults, PUT /v1/faults   the fault switches (PUT replaces them; {} clears)
 *   GET  /healthz
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERROR_CODES, VigilError } from '@vigil/errors';
import type { ContactCenter, Faults } from './center.ts';

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const round = (ms: number) => Math.round(ms * 10) / 10;

function fail(res: ServerResponse, e: VigilError): void {
  send(res, ERROR_CODES[e.code].http, { code: e.code, message: e.message, field: e.field, fix: e.fix });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let raw = '';
  for await (const chunk of req) { raw += chunk; if (raw.length > 64 * 1024) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'body too large', { field: 'body', fix: 'send at most 64 KiB' }); }
  try { return raw ? JSON.parse(raw) : {}; } catch { throw new VigilError('VIGIL_E_REQUEST_INVALID', 'body is not JSON', { field: 'body', fix: 'send a JSON object' }); }
}

const nonNegative = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 60_000;

/** Checks fault switches, naming the field and the fix for anything wrong. */
export function parseFaults(v: unknown): Faults {
  const bad = (field: string, message: string, fix: string) => new VigilError('VIGIL_E_REQUEST_INVALID', message, { field, fix });
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('body', 'faults must be a JSON object', 'e.g. {"promptDelayMs": 800}');
  const o = v as Record<string, unknown>;
  const allowed = ['promptDelayMs', 'deadAir', 'dropAfterMs', 'transferTarget', 'botDelayMs', 'ignoreBargeIn', 'crmFail', 'crmDelayMs', 'policyDrift', 'asrNoiseSnrDb', 'asrDelayMs', 'ttsDelayMs'];
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw bad(k, `unknown fault ${k}`, `use ${allowed.join(', ')}`);
  const f: Faults = {};
  for (const k of ['promptDelayMs', 'botDelayMs', 'asrDelayMs', 'ttsDelayMs'] as const) {
    const d = o[k];
    if (d === undefined) continue;
    if (nonNegative(d)) f[k] = d;
    else if (typeof d === 'object' && d !== null && nonNegative((d as { min?: unknown }).min) && nonNegative((d as { max?: unknown }).max) && (d as { min: number }).min <= (d as { max: number }).max) f[k] = { min: (d as { min: number }).min, max: (d as { max: number }).max };
    else throw bad(k, `${k} must be 0..60000 ms or {min, max} with min <= max`, 'e.g. 800 or {"min": 200, "max": 1200}');
  }
  if (o.policyDrift !== undefined) {
    const d = o.policyDrift as Record<string, unknown> | null;
    if (typeof d !== 'object' || d === null || Array.isArray(d) || Object.keys(d).some((k) => k !== 'afterCalls' && k !== 'afterMs' && k !== 'variant') || (d.afterCalls === undefined && d.afterMs === undefined)
      || (d.variant !== undefined && d.variant !== 'fee' && d.variant !== 'disclosure')
      || (d.afterCalls !== undefined && !(Number.isInteger(d.afterCalls) && (d.afterCalls as number) >= 0)) || (d.afterMs !== undefined && !(typeof d.afterMs === 'number' && d.afterMs >= 0))) {
      throw bad('policyDrift', 'policyDrift must be {afterCalls: n} and/or {afterMs: ms}, with variant "fee" (default) or "disclosure"', 'e.g. {"afterCalls": 2, "variant": "disclosure"}: the third conversation on answers with the drifted policy');
    }
    f.policyDrift = { ...(d.afterCalls !== undefined ? { afterCalls: d.afterCalls as number } : {}), ...(d.afterMs !== undefined ? { afterMs: d.afterMs as number } : {}), ...(d.variant !== undefined ? { variant: d.variant as 'fee' | 'disclosure' } : {}) };
  }
  if (o.asrNoiseSnrDb !== undefined) { if (typeof o.asrNoiseSnrDb !== 'number' || o.asrNoiseSnrDb < -20 || o.asrNoiseSnrDb > 60) throw bad('asrNoiseSnrDb', 'asrNoiseSnrDb must be -20..60 dB', 'lower is noisier; 0 is as loud as the speech'); f.asrNoiseSnrDb = o.asrNoiseSnrDb; }
  if (o.crmFail !== undefined) { if (typeof o.crmFail !== 'boolean') throw bad('crmFail', 'crmFail must be true or false', 'true makes every CRM write fail'); f.crmFail = o.crmFail; }
  if (o.crmDelayMs !== undefined) { if (!nonNegative(o.crmDelayMs)) throw bad('crmDelayMs', 'crmDelayMs must be 0..60000 ms', 'how long each CRM write takes'); f.crmDelayMs = o.crmDelayMs; }
  if (o.ignoreBargeIn !== undefined) { if (typeof o.ignoreBargeIn !== 'boolean') throw bad('ignoreBargeIn', 'ignoreBargeIn must be true or false', 'true makes the voice bot talk over the caller'); f.ignoreBargeIn = o.ignoreBargeIn; }
  if (o.deadAir !== undefined) { if (typeof o.deadAir !== 'boolean') throw bad('deadAir', 'deadAir must be true or false', 'true sends silence instead of prompts'); f.deadAir = o.deadAir; }
  if (o.dropAfterMs !== undefined) { if (!nonNegative(o.dropAfterMs)) throw bad('dropAfterMs', 'dropAfterMs must be 0..60000 ms', 'the IVR hangs up that long after answering'); f.dropAfterMs = o.dropAfterMs; }
  if (o.transferTarget !== undefined) { if (typeof o.transferTarget !== 'string' || !/^sip:[^\s]+$/.test(o.transferTarget)) throw bad('transferTarget', 'transferTarget must be a sip: URI', 'e.g. "sip:wrong-queue@127.0.0.1:5999"'); f.transferTarget = o.transferTarget; }
  return f;
}

export async function serveApi(cc: ContactCenter, o: { host?: string; port?: number } = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname;
      if (req.method === 'GET' && path === '/healthz') return send(res, 200, { ok: true });
      if (req.method === 'GET' && path === '/v1/calls') {
        const runId = url.searchParams.get('runId');
        return send(res, 200, [...cc.calls.values()].filter((c) => !runId || c.runId === runId));
      }
      if (req.method === 'GET' && path === '/v1/telemetry') {
        const runId = url.searchParams.get('runId');
        if (!runId) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'runId is required', { field: 'runId', fix: 'GET /v1/telemetry?runId=<the X-Vigil-Run of the call>' });
        const turns = [...cc.calls.values()].filter((c) => c.runId === runId && c.service === 'bot').flatMap((c) => c.events)
          .flatMap((e) => e.kind === 'caller_turn' ? [{
            heard: e.transcript, intent: e.intent, asrMs: round(e.asrFinalMs - e.endpointMs), llmMs: round(e.decisionMs - e.asrFinalMs), ttsMs: round(e.ttsReadyMs - e.decisionMs),
          }] : []);
        return send(res, 200, { turns });
      }
      const m = /^\/v1\/calls\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && m) {
        const c = cc.calls.get(decodeURIComponent(m[1]!));
        return c ? send(res, 200, c) : fail(res, new VigilError('VIGIL_E_REQUEST_INVALID', `no call ${m[1]}`, { field: 'callId', fix: 'list calls with GET /v1/calls' }));
      }
      if (req.method === 'GET' && path === '/v1/agent-desktop/events') {
        const callId = url.searchParams.get('callId');
        return send(res, 200, cc.desktop.filter((d) => !callId || d.callId === callId));
      }
      if (req.method === 'GET' && path === '/v1/crm/customers') return send(res, 200, cc.crm.customers);
      if (req.method === 'GET' && path === '/v1/crm/cases') {
        const ref = url.searchParams.get('reference');
        return send(res, 200, cc.crm.cases.filter((c) => !ref || c.reference === ref));
      }
      if (req.method === 'POST' && path === '/v1/crm/webhooks') {
        const b = await readJson(req) as { url?: unknown };
        cc.crm.subscribe(String(b.url ?? ''));
        return send(res, 201, { subscribed: b.url });
      }
      if (req.method === 'DELETE' && path === '/v1/crm/webhooks') { cc.crm.webhooks.clear(); return send(res, 200, { cleared: true }); }
      if (req.method === 'POST' && path === '/v1/crm/cases') {
        const b = await readJson(req) as Record<string, unknown>;
        if (typeof b.subject !== 'string') throw new VigilError('VIGIL_E_REQUEST_INVALID', 'subject must be a string', { field: 'subject', fix: 'e.g. {"subject": "Address change", "channel": "chat", "reference": "s-1"}' });
        if (b.channel !== 'voice' && b.channel !== 'chat') throw new VigilError('VIGIL_E_REQUEST_INVALID', 'channel must be "voice" or "chat"', { field: 'channel', fix: 'where the case came from' });
        if (typeof b.reference !== 'string' || !b.reference) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'reference must be a non-empty string', { field: 'reference', fix: 'the call id or chat session id' });
        if (b.customerId !== undefined && typeof b.customerId !== 'string') throw new VigilError('VIGIL_E_REQUEST_INVALID', 'customerId must be a string', { field: 'customerId', fix: 'GET /v1/crm/customers lists them' });
        return send(res, 201, await cc.crm.createCase({ subject: b.subject, channel: b.channel, reference: b.reference, customerId: (b.customerId as string | undefined) ?? null }));
      }
      const cm = /^\/v1\/crm\/cases\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && cm) {
        const c = cc.crm.cases.find((x) => x.id === decodeURIComponent(cm[1]!));
        return c ? send(res, 200, c) : send(res, 404, { code: 'VIGIL_E_REQUEST_INVALID', message: `no case ${cm[1]}`, field: 'caseId', fix: 'GET /v1/crm/cases lists them' });
      }
      if (path === '/v1/faults') {
        if (req.method === 'GET') return send(res, 200, cc.faults);
        if (req.method === 'PUT') {
          const f = parseFaults(await readJson(req));
          for (const k of Object.keys(cc.faults) as Array<keyof Faults>) delete cc.faults[k];
          Object.assign(cc.faults, f);
          return send(res, 200, cc.faults);
        }
      }
      send(res, 404, { code: 'VIGIL_E_REQUEST_INVALID', message: `no route ${req.method} ${path}`, fix: 'see the routes in packages/refcc/src/http.ts' });
    } catch (e) {
      if (e instanceof VigilError) fail(res, e);
      else send(res, 500, { code: 'VIGIL_E_INTERNAL', message: (e as Error).message });
    }
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve()));
  const addr = server.address() as AddressInfo;
  return { url: `http://${addr.address}:${addr.port}`, close: () => new Promise((r) => server.close(() => r())) };
}
