/**
 * A local OpenAI-compatible chat-completions server for tests and calibration runs here (no real LLM is
 * reachable): it records every request and answers through `decide`, which sees the request's messages.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest { model: string; temperature?: number; seed?: number; response_format?: unknown; messages: Array<{ role: string; content: string }> }

export async function startTestJudgeServer(decide: (req: RecordedRequest) => string | { status: number }, embed?: (text: string) => number[]): Promise<{ baseUrl: string; asked: RecordedRequest[]; close(): Promise<void> }> {
  const asked: RecordedRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const r = JSON.parse(body) as RecordedRequest;
    asked.push(r);
    if (req.url?.endsWith('/embeddings') && embed) {
      const input = (r as unknown as { input: string[] }).input;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', model: r.model, data: input.map((t, index) => ({ object: 'embedding', index, embedding: embed(t) })), usage: { prompt_tokens: 0, total_tokens: 0 } }));
      return;
    }
    const out = decide(r);
    if (req.url?.endsWith('/classify') && typeof out === 'string') { res.writeHead(200, { 'content-type': 'application/json' }).end(out); return; } // a plain classifier endpoint
    if (typeof out !== 'string') { res.writeHead(out.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'test failure' } })); return; }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: `j${asked.length}`, object: 'chat.completion', created: 0, model: r.model, choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: out } }] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, asked, close: () => new Promise((r) => server.close(() => r())) };
}

/** The last BOT line of a judge request. */
export function lastBotReply(req: RecordedRequest): string {
  const user = req.messages.find((m) => m.role === 'user')?.content ?? '';
  return [...user.matchAll(/^BOT: (.*)$/gm)].at(-1)?.[1] ?? '';
}
