/**
 * SIP over WebSocket (RFC 7118) for sip.js in Node: the "sip" subprotocol, one SIP message per text frame, to
 * a ws:// or wss:// front end (an SBC or a proxy that serves WebRTC clients). Reliable like TCP: no
 * retransmission timers. wss:// verifies the certificate against the system roots or a given CA.
 */
import WebSocket from 'ws';
import { EmitterImpl } from 'sip.js/lib/api/emitter.js';
import { TransportState } from 'sip.js/lib/api/transport-state.js';
import type { Transport } from 'sip.js/lib/api/transport.js';
import type { Logger } from 'sip.js/lib/core/log/logger.js';
import { addLocalPort, stripLocalPort } from './sent-by.ts';

export interface WsTransportOptions {
  /** ws://host:port/path or wss://host:port/path */
  server: string;
  localHost?: string;
  tls?: { ca?: string; servername?: string };
  onTrace?: (dir: 'out' | 'in', message: string, atMs: number) => void;
}

export class WsTransport implements Transport {
  readonly stateChange = new EmitterImpl<TransportState>();
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;
  #state: TransportState = TransportState.Disconnected;
  #ws: WebSocket | undefined;
  readonly #o: WsTransportOptions;
  readonly protocol: 'WS' | 'WSS';
  localPort = 0;

  constructor(_logger: Logger, options: WsTransportOptions) {
    this.#o = options;
    this.protocol = options.server.startsWith('wss:') ? 'WSS' : 'WS';
  }

  get state(): TransportState { return this.#state; }
  isConnected(): boolean { return this.#state === TransportState.Connected; }
  #set(s: TransportState): void { this.#state = s; this.stateChange.emit(s); }

  async connect(): Promise<void> {
    if (this.#ws) return;
    this.#set(TransportState.Connecting);
    const ws = new WebSocket(this.#o.server, 'sip', {
      handshakeTimeout: 10_000, localAddress: this.#o.localHost,
      ...(this.#o.tls?.ca ? { ca: this.#o.tls.ca } : {}), ...(this.#o.tls?.servername ? { servername: this.#o.tls.servername } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (e) => reject(new Error(`WebSocket to ${this.#o.server} failed: ${e.message}`)));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket to ${this.#o.server} refused: HTTP ${res.statusCode}`)));
    });
    if (ws.protocol !== 'sip') {
      ws.terminate();
      throw new Error(`${this.#o.server} did not accept the "sip" WebSocket subprotocol (RFC 7118)`);
    }
    this.localPort = (ws as unknown as { _socket?: { localPort?: number } })._socket?.localPort ?? 0;
    ws.on('message', (data) => {
      const m = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      this.#o.onTrace?.('in', m, performance.timeOrigin + performance.now());
      this.onMessage?.(stripLocalPort(m, this.protocol, this.localPort));
    });
    ws.on('close', (code) => {
      const was = this.#ws;
      this.#ws = undefined;
      if (was) { this.#set(TransportState.Disconnected); this.onDisconnect?.(new Error(`WebSocket closed (code ${code})`)); }
    });
    ws.on('error', () => { /* reported through close */ });
    this.#ws = ws;
    this.#set(TransportState.Connected);
    this.onConnect?.();
  }

  async send(message: string): Promise<void> {
    if (!this.#ws) throw new Error('WebSocket transport not connected');
    const m = addLocalPort(message, this.protocol, this.localPort);
    this.#o.onTrace?.('out', m, performance.timeOrigin + performance.now());
    this.#ws.send(m);
  }

  async disconnect(): Promise<void> {
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws) await new Promise<void>((r) => { ws.once('close', () => r()); ws.close(1000); setTimeout(() => { ws.terminate(); r(); }, 1000); });
    this.#set(TransportState.Disconnected);
  }

  async dispose(): Promise<void> { await this.disconnect(); }
}
