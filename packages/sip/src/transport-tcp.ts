/**
 * SIP over TCP and TLS for sip.js in Node: one connection to the server, messages framed by Content-Length
 * (RFC 3261 §18.3). Reliable, so no retransmission timers; a dropped connection is reported to sip.js.
 * TLS verifies the server's certificate against the system roots or a given CA, for the server name.
 */
import net from 'node:net';
import tls from 'node:tls';
import { EmitterImpl } from 'sip.js/lib/api/emitter.js';
import { TransportState } from 'sip.js/lib/api/transport-state.js';
import type { Transport } from 'sip.js/lib/api/transport.js';
import type { Logger } from 'sip.js/lib/core/log/logger.js';
import { addLocalPort, stripLocalPort } from './sent-by.ts';

export interface TcpTransportOptions {
  server: string;
  localHost?: string;
  /** TLS only: extra trust anchors (PEM), the name to verify (default: the server's host). */
  tls?: { ca?: string; servername?: string };
  onTrace?: (dir: 'out' | 'in', message: string, atMs: number) => void;
}

const MAX_MESSAGE_BYTES = 1024 * 1024;

/** Splits a byte stream into SIP messages; returns the messages and the unconsumed rest. */
export function frameMessages(buf: Buffer): { messages: string[]; rest: Buffer } {
  const messages: string[] = [];
  let rest = buf;
  for (;;) {
    // Keep-alive CRLFs between messages (RFC 5626) are skipped.
    while (rest.length >= 2 && rest[0] === 13 && rest[1] === 10) rest = rest.subarray(2);
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) {
      if (rest.length > MAX_MESSAGE_BYTES) throw new Error('SIP header section too large');
      return { messages, rest };
    }
    const head = rest.subarray(0, end).toString('utf8');
    const cl = /^(?:Content-Length|l)\s*:\s*(\d+)/im.exec(head);
    const len = cl ? Number(cl[1]) : 0;
    if (len > MAX_MESSAGE_BYTES) throw new Error('SIP body too large');
    if (rest.length < end + 4 + len) return { messages, rest };
    messages.push(rest.subarray(0, end + 4 + len).toString('utf8'));
    rest = rest.subarray(end + 4 + len);
  }
}

export class TcpTransport implements Transport {
  get protocol(): 'TCP' | 'TLS' { return 'TCP'; }
  readonly stateChange = new EmitterImpl<TransportState>();
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;
  #state: TransportState = TransportState.Disconnected;
  #sock: net.Socket | undefined;
  readonly #o: TcpTransportOptions;
  localPort = 0;

  constructor(_logger: Logger, options: TcpTransportOptions) {
    this.#o = options;
  }

  get state(): TransportState { return this.#state; }
  isConnected(): boolean { return this.#state === TransportState.Connected; }
  #set(s: TransportState): void { this.#state = s; this.stateChange.emit(s); }

  async connect(): Promise<void> {
    if (this.#sock) return;
    this.#set(TransportState.Connecting);
    const [host = '127.0.0.1', port] = this.#o.server.split(':');
    const sock = this.protocol === 'TLS'
      ? tls.connect({
        socket: net.connect({ host, port: Number(port ?? 5061), localAddress: this.#o.localHost ?? '127.0.0.1' }), host,
        ...(this.#o.tls?.ca ? { ca: [...tls.rootCertificates, this.#o.tls.ca] } : {}),
        ...(this.#o.tls?.servername ?? (net.isIP(host) ? undefined : host) ? { servername: this.#o.tls?.servername ?? host } : {}),
      })
      : net.connect({ host, port: Number(port ?? 5060), localAddress: this.#o.localHost ?? '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      sock.once(this.protocol === 'TLS' ? 'secureConnect' : 'connect', () => resolve());
      sock.once('error', (e) => reject(this.protocol === 'TLS' ? new Error(`TLS to ${this.#o.server} failed: ${e.message}`) : e));
    });
    sock.setNoDelay(true);
    this.localPort = sock.localPort!;
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let framed;
      try { framed = frameMessages(buf); } catch (e) { sock.destroy(e as Error); return; }
      buf = Buffer.from(framed.rest);
      for (const m of framed.messages) {
        this.#o.onTrace?.('in', m, performance.timeOrigin + performance.now());
        this.onMessage?.(stripLocalPort(m, this.protocol, this.localPort));
      }
    });
    sock.on('close', () => {
      const was = this.#sock;
      this.#sock = undefined;
      if (was) { this.#set(TransportState.Disconnected); this.onDisconnect?.(new Error(`${this.protocol} connection closed`)); }
    });
    sock.on('error', () => { /* reported through close */ });
    this.#sock = sock;
    this.#set(TransportState.Connected);
    this.onConnect?.();
  }

  async send(message: string): Promise<void> {
    if (!this.#sock) throw new Error(`${this.protocol} transport not connected`);
    const m = addLocalPort(message, this.protocol, this.localPort);
    this.#o.onTrace?.('out', m, performance.timeOrigin + performance.now());
    this.#sock.write(m);
  }

  async disconnect(): Promise<void> {
    const s = this.#sock;
    this.#sock = undefined;
    if (s) await new Promise<void>((r) => { s.once('close', () => r()); s.end(); setTimeout(() => { s.destroy(); r(); }, 1000); });
    this.#set(TransportState.Disconnected);
  }

  async dispose(): Promise<void> { await this.disconnect(); }
}

/** SIP over TLS (RFC 3261 §26.2; port 5061 by default): the TCP transport on a verified TLS connection. */
export class TlsTransport extends TcpTransport {
  override get protocol(): 'TLS' { return 'TLS'; }
}
