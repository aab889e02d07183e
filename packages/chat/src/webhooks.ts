/**
 * The probe's webhook listener: systems under test call back here (a CRM announcing a case, a queue announcing
 * an agent). Each run gets its own unguessable URL ({{webhook.url}} in journeys); `wait_webhook` steps take the
 * calls in order. Bodies over 1 MiB are refused; calls for unknown runs get 404.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VigilError } from '@vigil/errors';

export interface WebhookCall { method: string; headers: Record<string, string>; body: string; atMs: number }

interface Slot { calls: WebhookCall[]; waiters: Array<(c: WebhookCall) => void> }

const MAX_BODY = 1 << 20;

export class WebhookListener {
  readonly #server: Server;
  readonly #slots = new Map<string, Slot>();
  #base = '';

  private constructor(server: Server) { this.#server = server; }

  /** Listens on host:port; `publicUrl` is how the systems under test reach it (default http://host:port). */
  static async start(o: { host?: string; port?: number; publicUrl?: string } = {}): Promise<WebhookListener> {
    const l = new WebhookListener(createServer((req, res) => l.#handle(req, res)));
    await new Promise<void>((resolve, reject) => { l.#server.once('error', reject); l.#server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve()); });
    const a = l.#server.address() as AddressInfo;
    l.#base = (o.publicUrl ?? `http://${o.host ?? '127.0.0.1'}:${a.port}`).replace(/\/$/, '');
    return l;
  }

  get port(): number { return (this.#server.address() as AddressInfo).port; }

  /** A hook for one run: its URL and the calls it receives, in order. */
  open(runId: string): { url: string; next(signal: AbortSignal): Promise<WebhookCall>; close(): void } {
    const key = `${encodeURIComponent(runId)}/${randomBytes(12).toString('hex')}`;
    const slot: Slot = { calls: [], waiters: [] };
    this.#slots.set(key, slot);
    return {
      url: `${this.#base}/hooks/${key}`,
      next: (signal) => new Promise<WebhookCall>((resolve, reject) => {
        const c = slot.calls.shift();
        if (c) { resolve(c); return; }
        const w = (x: WebhookCall) => { signal.removeEventListener('abort', onAbort); resolve(x); };
        const onAbort = () => { slot.waiters.splice(slot.waiters.indexOf(w), 1); reject(signal.reason); };
        slot.waiters.push(w);
        signal.addEventListener('abort', onAbort, { once: true });
      }),
      close: () => { this.#slots.delete(key); },
    };
  }

  #handle(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
    const m = /^\/hooks\/([^/]+\/[0-9a-f]{24})$/.exec(req.url ?? '');
    const slot = m ? this.#slots.get(m[1]!) : undefined;
    if (!slot) { res.writeHead(404).end(); req.resume(); return; }
    let body = '';
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY) { res.writeHead(413).end(); req.destroy(); return; }
      body += d.toString('utf8');
    });
    req.on('end', () => {
      if (size > MAX_BODY) return;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const call = { method: req.method ?? 'POST', headers, body, atMs: performance.timeOrigin + performance.now() };
      const w = slot.waiters.shift();
      if (w) w(call); else slot.calls.push(call);
      res.writeHead(204).end();
    });
  }

  close(): Promise<void> { return new Promise((r) => this.#server.close(() => r())); }
}

/** The listener from the probe's environment: VIGIL_WEBHOOK_PORT (and _HOST, _PUBLIC_URL); none without a port. */
export async function webhookListenerFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<WebhookListener | undefined> {
  if (env.VIGIL_WEBHOOK_PORT === undefined) return undefined;
  const port = Number(env.VIGIL_WEBHOOK_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new VigilError('VIGIL_E_CONFIG_INVALID', `VIGIL_WEBHOOK_PORT must be a port number, got ${env.VIGIL_WEBHOOK_PORT}`, { field: 'VIGIL_WEBHOOK_PORT', fix: 'e.g. 9465' });
  return WebhookListener.start({ port, host: env.VIGIL_WEBHOOK_HOST ?? '127.0.0.1', ...(env.VIGIL_WEBHOOK_PUBLIC_URL ? { publicUrl: env.VIGIL_WEBHOOK_PUBLIC_URL } : {}) });
}
