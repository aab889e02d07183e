/**
 * Chat channel drivers. Each opens one session per run; the session keeps the conversation state the channel
 * needs (message history, session id, socket) and measures, per turn, the time from the request leaving the
 * probe to the first reply byte/token and to the full reply.
 */
import OpenAI from 'openai';
import WebSocket from 'ws';
import { JSONPath } from 'jsonpath-plus';
import type { Channel, TargetSpec } from '@vigil/contract';
import { VigilError } from '@vigil/errors';
import type { ChatReply, ChatSession, SendOptions } from '@vigil/journey';
import { resolveCredential } from './credentials.ts';
import { DEFAULT_HTTP_BODY, DEFAULT_WS_MESSAGE, type HttpTargetConfig, type OpenAiTargetConfig, type WebSocketTargetConfig } from './target.ts';

export interface OpenContext {
  runId: string;
  /** Session id sent to bots that take one; unique per run attempt. */
  sessionId: string;
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Texts the journey expects to hear (voice channels use them as the recogniser's phrase set). */
  phrases?: string[];
}

export interface ChannelDriver {
  readonly channel: Channel;
  open(target: TargetSpec, ctx: OpenContext): Promise<ChatSession>;
}

/** Replaces "{{message}}" and "{{session_id}}" inside every string of a JSON template. */
export function fillTemplate(template: unknown, vars: { message: string; session_id: string }): unknown {
  if (typeof template === 'string') {
    if (template === '{{message}}') return vars.message;
    if (template === '{{session_id}}') return vars.session_id;
    return template.replaceAll('{{message}}', vars.message).replaceAll('{{session_id}}', vars.session_id);
  }
  if (Array.isArray(template)) return template.map((t) => fillTemplate(t, vars));
  if (typeof template === 'object' && template !== null) {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, fillTemplate(v, vars)]));
  }
  return template;
}

function pick(json: unknown, path: string): unknown[] {
  return JSONPath({ path, json: json as object, wrap: true, eval: false }) as unknown[];
}

function replyText(json: unknown, path: string, where: string): string {
  const found = pick(json, path);
  if (found.length === 0) throw new VigilError('VIGIL_E_CHANNEL_PROTOCOL', `${where}: nothing at ${path}`, { field: 'config.replyPath', fix: 'point replyPath at the reply text in the bot\'s answer' });
  const v = found[0];
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function tryJson(s: string): unknown {
  const t = s.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined;
  try { return JSON.parse(t); } catch { return undefined; }
}

function networkError(e: unknown, endpoint: string): VigilError {
  if (e instanceof VigilError) return e;
  const err = e as Error & { name?: string };
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError') throw e;
  return new VigilError('VIGIL_E_CHANNEL_UNREACHABLE', `cannot reach ${endpoint}: ${err?.message ?? String(e)}`, { fix: 'check the endpoint and that the bot is up', cause: e });
}

function statusError(status: number, endpoint: string, body: string): VigilError {
  const snippet = body.slice(0, 200);
  return status >= 500 || status === 429 || status === 408
    ? new VigilError('VIGIL_E_CHANNEL_UNREACHABLE', `${endpoint} answered ${status}: ${snippet}`, { fix: 'the bot failed; retry later or look at its logs' })
    : new VigilError('VIGIL_E_CHANNEL_PROTOCOL', `${endpoint} answered ${status}: ${snippet}`, { fix: 'check the target definition (endpoint, headers, credentials, body template)' });
}

// ---------------------------------------------------------------------------------------------------------------

export const openAiDriver: ChannelDriver = {
  channel: 'chat.openai',
  async open(target, ctx) {
    const cfg = target.config as unknown as OpenAiTargetConfig;
    const apiKey = (await resolveCredential(target.credentialsRef, ctx.env)) ?? 'no-key';
    const client = new OpenAI({ baseURL: target.endpoint, apiKey, defaultHeaders: cfg.headers, maxRetries: 0, timeout: 600_000 });
    const history: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = cfg.system ? [{ role: 'system', content: cfg.system }] : [];
    const stream = cfg.stream !== false;
    const versions: Record<string, string> = {};
    const note = (model: string | undefined, fingerprint: string | null | undefined) => {
      if (model) versions['openai.model'] = model;
      if (fingerprint) versions['openai.system_fingerprint'] = fingerprint;
    };
    return {
      async send(text: string, { signal }: SendOptions): Promise<ChatReply> {
        history.push({ role: 'user', content: text });
        const t0 = performance.now();
        let firstMs = 0;
        let reply = '';
        try {
          if (stream) {
            const s = await client.chat.completions.create(
              { model: cfg.model, messages: history, stream: true, user: ctx.sessionId, ...(cfg.temperature === undefined ? {} : { temperature: cfg.temperature }) },
              { signal },
            );
            for await (const chunk of s) {
              note(chunk.model, chunk.system_fingerprint);
              const delta = chunk.choices[0]?.delta?.content ?? '';
              if (delta && firstMs === 0) firstMs = performance.now() - t0;
              reply += delta;
            }
          } else {
            const r = await client.chat.completions.create(
              { model: cfg.model, messages: history, stream: false, user: ctx.sessionId, ...(cfg.temperature === undefined ? {} : { temperature: cfg.temperature }) },
              { signal },
            );
            note(r.model, r.system_fingerprint);
            reply = r.choices[0]?.message?.content ?? '';
          }
        } catch (e) {
          if (signal.aborted) throw e;
          if (e instanceof OpenAI.APIConnectionError) throw networkError(e, target.endpoint);
          if (e instanceof OpenAI.APIError && typeof e.status === 'number') throw statusError(e.status, target.endpoint, e.message);
          throw networkError(e, target.endpoint);
        }
        const fullMs = performance.now() - t0;
        history.push({ role: 'assistant', content: reply });
        return { text: reply, structured: tryJson(reply), timeToFirstTokenMs: firstMs || fullMs, timeToFullReplyMs: fullMs, streamed: stream };
      },
      variables: () => ({ 'session.id': ctx.sessionId }),
      describe: () => ({ versions }),
      async close() { /* stateless HTTP */ },
    };
  },
};

// ---------------------------------------------------------------------------------------------------------------

export const httpDriver: ChannelDriver = {
  channel: 'chat.http',
  async open(target, ctx) {
    const cfg = target.config as unknown as HttpTargetConfig;
    const secret = await resolveCredential(target.credentialsRef, ctx.env);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...(cfg.headers ?? {}) };
    if (secret) headers.authorization = `Bearer ${secret}`;
    // When the bot assigns the session (sessionPath), the first turn carries an empty session id.
    let sessionId = cfg.sessionPath ? '' : ctx.sessionId;
    let sessionFromBot = false;
    return {
      async send(text: string, { signal }: SendOptions): Promise<ChatReply> {
        const body = JSON.stringify(fillTemplate(cfg.bodyTemplate ?? DEFAULT_HTTP_BODY, { message: text, session_id: sessionId }));
        const t0 = performance.now();
        let res: Response;
        try {
          res = await fetch(target.endpoint, { method: 'POST', headers, body, signal });
        } catch (e) {
          if (signal.aborted) throw e;
          throw networkError(e, target.endpoint);
        }
        // Time to first byte of the body: read the stream ourselves.
        let firstMs = 0;
        const chunks: Uint8Array[] = [];
        if (res.body) {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            if (firstMs === 0) firstMs = performance.now() - t0;
            chunks.push(chunk);
          }
        }
        const fullMs = performance.now() - t0;
        const raw = Buffer.concat(chunks).toString('utf8');
        if (!res.ok) throw statusError(res.status, target.endpoint, raw);
        let json: unknown;
        try { json = JSON.parse(raw); } catch {
          throw new VigilError('VIGIL_E_CHANNEL_PROTOCOL', `${target.endpoint} did not answer JSON: ${raw.slice(0, 120)}`, { fix: 'chat.http targets must answer with a JSON body' });
        }
        if (cfg.sessionPath && !sessionFromBot) {
          const sid = pick(json, cfg.sessionPath)[0];
          if (typeof sid === 'string' && sid) { sessionId = sid; sessionFromBot = true; }
        }
        const textOut = replyText(json, cfg.replyPath ?? '$.reply', target.endpoint);
        return { text: textOut, structured: json, timeToFirstTokenMs: firstMs || fullMs, timeToFullReplyMs: fullMs, streamed: false };
      },
      variables: () => ({ 'session.id': sessionId }),
      async close() { /* stateless HTTP */ },
    };
  },
};

// ---------------------------------------------------------------------------------------------------------------

function matches(json: unknown, m: { path: string; equals: unknown } | undefined): boolean {
  if (!m) return true;
  return pick(json, m.path).some((v) => JSON.stringify(v) === JSON.stringify(m.equals));
}

export const webSocketDriver: ChannelDriver = {
  channel: 'chat.websocket',
  async open(target, ctx) {
    const cfg = target.config as unknown as WebSocketTargetConfig;
    const secret = await resolveCredential(target.credentialsRef, ctx.env);
    const headers: Record<string, string> = { ...(cfg.headers ?? {}) };
    if (secret) headers.authorization = `Bearer ${secret}`;
    const ws = new WebSocket(target.endpoint, { headers, handshakeTimeout: 10_000 });
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => { ws.terminate(); reject(ctx.signal.reason); };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      ws.once('open', () => { ctx.signal.removeEventListener('abort', onAbort); resolve(); });
      ws.once('unexpected-response', (_req, res) => { ctx.signal.removeEventListener('abort', onAbort); reject(statusError(res.statusCode ?? 0, target.endpoint, '')); });
      ws.once('error', (e) => { ctx.signal.removeEventListener('abort', onAbort); reject(networkError(e, target.endpoint)); });
    });
    // Messages that arrive between turns (greetings, typing notices) are kept in order and read by the next turn.
    const inbox: unknown[] = [];
    let wake: (() => void) | undefined;
    let closedError: VigilError | undefined;
    ws.on('message', (data) => {
      let json: unknown;
      try { json = JSON.parse(data.toString()); } catch { json = { text: data.toString() }; }
      inbox.push(json);
      wake?.();
    });
    ws.on('close', (code) => {
      closedError = new VigilError('VIGIL_E_CHANNEL_UNREACHABLE', `${target.endpoint} closed the WebSocket (code ${code})`, { fix: 'the bot dropped the conversation; look at its logs' });
      wake?.();
    });
    ws.on('error', () => { /* surfaced through close */ });
    const next = async (signal: AbortSignal): Promise<unknown> => {
      while (inbox.length === 0) {
        if (closedError) throw closedError;
        if (signal.aborted) throw signal.reason;
        await new Promise<void>((resolve) => {
          wake = resolve;
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
        wake = undefined;
      }
      return inbox.shift();
    };
    const replyPath = cfg.replyPath ?? '$.text';
    return {
      async send(text: string, { signal }: SendOptions): Promise<ChatReply> {
        inbox.length = 0; // earlier unsolicited messages are not the answer to this turn
        const t0 = performance.now();
        ws.send(JSON.stringify(fillTemplate(cfg.sendTemplate ?? DEFAULT_WS_MESSAGE, { message: text, session_id: ctx.sessionId })));
        let firstMs = 0;
        let reply = '';
        let last: unknown;
        for (;;) {
          const msg = await next(signal);
          if (!matches(msg, cfg.filter)) continue;
          const found = pick(msg, replyPath);
          // Messages without reply text (typing notices, acks) are not the reply; the step timeout bounds the wait.
          if (found.length === 0 && !(cfg.done && matches(msg, cfg.done))) continue;
          if (firstMs === 0) firstMs = performance.now() - t0;
          last = msg;
          if (found.length > 0) reply += typeof found[0] === 'string' ? found[0] : JSON.stringify(found[0]);
          if (!cfg.done || matches(msg, cfg.done)) break;
        }
        const fullMs = performance.now() - t0;
        return { text: reply, structured: last, timeToFirstTokenMs: firstMs, timeToFullReplyMs: fullMs, streamed: cfg.done !== undefined };
      },
      variables: () => ({ 'session.id': ctx.sessionId }),
      async close() {
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(() => { ws.terminate(); resolve(); }, 2000);
            ws.once('close', () => { clearTimeout(t); resolve(); });
            ws.close(1000, 'journey finished');
          });
        }
      },
    };
  },
};

/** The chat drivers, for a probe's driver registry. */
export function chatDrivers(): ChannelDriver[] {
  return [openAiDriver, httpDriver, webSocketDriver];
}
