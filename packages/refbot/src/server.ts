/**
 * The reference chat bot's server. One port, three entrances to the same dialogue:
 *   POST /v1/chat/completions  OpenAI-compatible (stream or not); state is rebuilt from the message history
 *   POST /webhook              {session_id, message} -> {session_id, reply, intent, turn}
 *   GET  /ws (upgrade)         {type:"message", session_id, text} -> {type:"reply", session_id, text, intent}
 *   POST /v1/audio/speech      OpenAI-compatible TTS (flite, 8 kHz WAV)
 *   POST /v1/audio/transcriptions  OpenAI-compatible ASR (pocketsphinx; `prompt` = expected phrases, ". "-separated)
 * `latencyMs` delays every answer (before the first byte), so tests can see timings move.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer } from 'ws';
import { readWav, writeWav } from '@vigil/media';
import { FliteSynthesizer, PocketsphinxTranscriber } from '@vigil/speech';
import { newState, respond, type BotTurn, type DialogueState } from './dialogue.ts';

export interface RefBotOptions {
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** Added before every answer. @default 0 */
  latencyMs?: number;
  /** Delay between streamed chunks. @default 5 */
  chunkDelayMs?: number;
  /**
   * Sees each answered message (after the dialogue decided) and may replace the answer: side effects such as a
   * CRM write happen here. sessionId: the webhook/WebSocket session id, or the OpenAI request's `user`.
   */
  onTurn?: (e: { entrance: 'openai' | 'webhook' | 'ws'; sessionId: string; message: string; turn: BotTurn }) => Promise<BotTurn | void> | BotTurn | void;
}

export interface RefBot {
  url: string;
  port: number;
  /** Changes the added latency at run time. */
  setLatencyMs(ms: number): void;
  /** Answers as this model from now on (a vendor updating the model behind an alias); null: the model asked for. */
  setServedModel(model: string | null): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 256 * 1024;
const SESSION_LIMIT = 10_000;

async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > limit) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req);
  try { return JSON.parse(body.toString('utf8')); } catch { throw Object.assign(new Error('body is not JSON'), { status: 400 }); }
}

const MAX_AUDIO_BYTES = 20 * 1024 * 1024;
let tts: FliteSynthesizer | undefined;
let asr: PocketsphinxTranscriber | undefined;

function send(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

export async function startRefBot(opts: RefBotOptions = {}): Promise<RefBot> {
  let latencyMs = opts.latencyMs ?? 0;
  let servedModel: string | null = null;
  const chunkDelayMs = opts.chunkDelayMs ?? 5;
  const after = async (entrance: 'openai' | 'webhook' | 'ws', sessionId: string, message: string, turn: BotTurn): Promise<BotTurn> =>
    (opts.onTurn ? (await opts.onTurn({ entrance, sessionId, message, turn })) ?? turn : turn);
  const sessions = new Map<string, DialogueState>();
  const sessionState = (id: string) => {
    let s = sessions.get(id);
    if (!s) {
      if (sessions.size >= SESSION_LIMIT) sessions.delete(sessions.keys().next().value as string);
      s = newState();
      sessions.set(id, s);
    }
    return s;
  };

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && url.pathname === '/healthz') return send(res, 200, { ok: true });
      if (req.method === 'GET' && url.pathname === '/v1/models') return send(res, 200, { object: 'list', data: [{ id: 'vigil-refbot', object: 'model', owned_by: 'vigil' }] });
      if (req.method === 'POST' && url.pathname === '/v1/chat/completions') {
        const body = (await readJson(req)) as { messages?: Array<{ role: string; content: unknown }>; stream?: boolean; model?: string; user?: unknown };
        if (!Array.isArray(body.messages)) return send(res, 400, { error: { message: 'messages must be an array', type: 'invalid_request_error' } });
        const state = newState();
        let turn = respond(state, '');
        const users = body.messages.filter((m) => m.role === 'user');
        for (const m of users) turn = respond(state, String(m.content ?? ''));
        if (users.length) turn = await after('openai', typeof body.user === 'string' ? body.user : `chat-${Date.now().toString(36)}`, String(users.at(-1)!.content ?? ''), turn);
        await sleep(latencyMs);
        const id = `chatcmpl-${Date.now().toString(36)}`;
        const created = Math.floor(Date.now() / 1000);
        const model = servedModel ?? body.model ?? 'vigil-refbot';
        if (!body.stream) {
          return send(res, 200, { id, object: 'chat.completion', created, model, choices: [{ index: 0, message: { role: 'assistant', content: turn.text }, finish_reason: 'stop' }], usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } });
        }
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
        const words = turn.text.split(/(?<= )/);
        res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })}\n\n`);
        for (const w of words) {
          res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: { content: w }, finish_reason: null }] })}\n\n`);
          if (chunkDelayMs > 0) await sleep(chunkDelayMs);
        }
        res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
        res.end('data: [DONE]\n\n');
        return;
      }
      if (req.method === 'POST' && url.pathname === '/v1/audio/speech') {
        const body = (await readJson(req)) as { input?: unknown; response_format?: string };
        if (typeof body.input !== 'string' || !body.input.trim()) return send(res, 400, { error: { message: 'input must be non-empty text', type: 'invalid_request_error' } });
        if (body.response_format && body.response_format !== 'wav') return send(res, 400, { error: { message: 'this server answers response_format "wav" only', type: 'invalid_request_error' } });
        tts ??= new FliteSynthesizer();
        const wav = writeWav(await tts.synthesize(body.input, { sampleRate: 8000 }));
        res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length });
        res.end(wav);
        return;
      }
      if (req.method === 'POST' && url.pathname === '/v1/audio/transcriptions') {
        const raw = await readBody(req, MAX_AUDIO_BYTES);
        let form: FormData;
        try {
          form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: raw }).formData();
        } catch { return send(res, 400, { error: { message: 'expected multipart/form-data with a file field', type: 'invalid_request_error' } }); }
        const file = form.get('file');
        if (!(file instanceof Blob)) return send(res, 400, { error: { message: 'file is required', type: 'invalid_request_error' } });
        let audio;
        try { audio = readWav(new Uint8Array(await file.arrayBuffer()), 'file'); } catch (e) { return send(res, 400, { error: { message: (e as Error).message, type: 'invalid_request_error' } }); }
        const prompt = form.get('prompt');
        const phrases = typeof prompt === 'string' && prompt.trim() ? prompt.split(/\.\s+/).map((p) => p.trim()).filter(Boolean) : undefined;
        asr ??= new PocketsphinxTranscriber();
        const t = await asr.transcribe(audio, { phrases });
        return send(res, 200, { text: t.text });
      }
      if (req.method === 'POST' && url.pathname === '/webhook') {
        const body = (await readJson(req)) as { session_id?: unknown; message?: unknown };
        if (typeof body.message !== 'string') return send(res, 400, { error: 'message must be a string' });
        const sid = typeof body.session_id === 'string' && body.session_id ? body.session_id : `s-${Math.random().toString(36).slice(2)}`;
        const state = sessionState(sid);
        const turn = await after('webhook', sid, body.message, respond(state, body.message));
        await sleep(latencyMs);
        return send(res, 200, { session_id: sid, reply: turn.text, intent: turn.intent, turn: state.turns });
      }
      send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    } catch (e) {
      const status = (e as { status?: number }).status ?? 500;
      if (!res.headersSent) send(res, status, { error: (e as Error).message });
      else res.destroy();
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws') { socket.destroy(); return; }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const local = newState();
      ws.send(JSON.stringify({ type: 'hello', text: 'connected' }));
      ws.on('message', async (data) => {
        let msg: { type?: string; session_id?: string; text?: string };
        try { msg = JSON.parse(data.toString()); } catch { ws.send(JSON.stringify({ type: 'error', text: 'not JSON' })); return; }
        if (msg.type !== 'message' || typeof msg.text !== 'string') { ws.send(JSON.stringify({ type: 'error', text: 'expected {type:"message", text}' })); return; }
        const state = msg.session_id ? sessionState(msg.session_id) : local;
        ws.send(JSON.stringify({ type: 'typing' }));
        const turn = await after('ws', msg.session_id ?? 'ws', msg.text, respond(state, msg.text));
        await sleep(latencyMs);
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'reply', session_id: msg.session_id ?? null, text: turn.text, intent: turn.intent }));
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    setLatencyMs(ms: number) { latencyMs = ms; },
    setServedModel(m: string | null) { servedModel = m; },
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
