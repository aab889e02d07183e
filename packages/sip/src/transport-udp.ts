/**
 * SIP over UDP for sip.js in Node, with what sip.js leaves to the transport on unreliable transports:
 *  - RFC 3261 §17.1 retransmission of requests: INVITE every T1·2ⁿ (timer A) and other requests every
 *    min(T1·2ⁿ, T2) (timer E) until a response with the same branch arrives, giving up after 64·T1 (B/F);
 *  - sent-by ports: sip.js writes Via and Contact without a port and ignores responses whose top Via has one,
 *    so outgoing messages get our port (and rport) and incoming responses have it removed.
 * `drop` lets tests lose chosen outgoing datagrams on purpose.
 */
import dgram from 'node:dgram';
import { EmitterImpl } from 'sip.js/lib/api/emitter.js';
import { TransportState } from 'sip.js/lib/api/transport-state.js';
import type { Transport } from 'sip.js/lib/api/transport.js';
import type { Logger } from 'sip.js/lib/core/log/logger.js';
import { addLocalPort, stripLocalPort, topBranch } from './sent-by.ts';

export const T1_MS = 500;
export const T2_MS = 4000;

export interface UdpTransportOptions {
  /** Where requests go: the outbound proxy or the far end, host:port. */
  server: string;
  /**
   * Requests go to the host:port of their first Route header or their Request-URI instead of `server`
   * (no outbound proxy; needed to follow redirects), and responses to the top Via's received/rport.
   */
  direct?: boolean;
  localHost?: string;
  localPort?: number;
  /** Loses an outgoing datagram when it returns true (fault injection for tests). */
  drop?: (message: string) => boolean;
  /** Sees every datagram sent and received, with its time (for timings and logs). */
  onTrace?: (dir: 'out' | 'in', message: string, atMs: number) => void;
}

export class UdpTransport implements Transport {
  readonly protocol = 'UDP';
  readonly stateChange = new EmitterImpl<TransportState>();
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;
  #state: TransportState = TransportState.Disconnected;
  #sock: dgram.Socket | undefined;
  readonly #o: UdpTransportOptions;
  readonly #remote: { host: string; port: number };
  readonly #pending = new Map<string, { timer: NodeJS.Timeout; deadline: NodeJS.Timeout }>();
  localPort = 0;

  constructor(_logger: Logger, options: UdpTransportOptions) {
    this.#o = options;
    const [host, port] = options.server.split(':');
    this.#remote = { host: host!, port: Number(port ?? 5060) };
  }

  get state(): TransportState { return this.#state; }
  isConnected(): boolean { return this.#state === TransportState.Connected; }

  #set(s: TransportState): void {
    this.#state = s;
    this.stateChange.emit(s);
  }

  async connect(): Promise<void> {
    if (this.#sock) return;
    this.#set(TransportState.Connecting);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.#o.localPort ?? 0, this.#o.localHost ?? '127.0.0.1', () => resolve());
    });
    this.localPort = sock.address().port;
    sock.on('message', (buf) => this.#receive(buf.toString('utf8')));
    this.#sock = sock;
    this.#set(TransportState.Connected);
    this.onConnect?.();
  }

  #receive(raw: string): void {
    this.#o.onTrace?.('in', raw, performance.timeOrigin + performance.now());
    if (raw.startsWith('SIP/2.0 ')) {
      const branch = topBranch(raw);
      if (branch) this.#stop(branch);
    }
    this.onMessage?.(stripLocalPort(raw, 'UDP', this.localPort));
  }

  #stop(branch: string): void {
    const p = this.#pending.get(branch);
    if (p) { clearTimeout(p.timer); clearTimeout(p.deadline); this.#pending.delete(branch); }
  }

  #destination(m: string): { host: string; port: number } {
    if (!this.#o.direct) return this.#remote;
    if (m.startsWith('SIP/2.0 ')) {
      const via = /^Via:\s*SIP\/2\.0\/UDP\s+([^;:\s]+)(?::(\d+))?([^\r\n]*)/im.exec(m);
      if (via) {
        const received = /;received=([^;\s]+)/.exec(via[3]!)?.[1];
        const rport = /;rport=(\d+)/.exec(via[3]!)?.[1];
        return { host: received ?? via[1]!, port: Number(rport ?? via[2] ?? 5060) };
      }
      return this.#remote;
    }
    const route = /^Route:\s*<sip:(?:[^@>]+@)?([^;:>]+)(?::(\d+))?/im.exec(m);
    const ruri = /^[A-Z]+ sip:(?:[^@\s]+@)?([^;:\s]+)(?::(\d+))?/.exec(m);
    const hit = route ?? ruri;
    return hit ? { host: hit[1]!, port: Number(hit[2] ?? 5060) } : this.#remote;
  }

  #datagram(m: string): void {
    this.#o.onTrace?.('out', m, performance.timeOrigin + performance.now());
    if (this.#o.drop?.(m)) return;
    const to = this.#destination(m);
    this.#sock?.send(Buffer.from(m, 'utf8'), to.port, to.host);
  }

  async send(message: string): Promise<void> {
    if (!this.#sock) throw new Error('UDP transport not connected');
    const m = addLocalPort(message, 'UDP', this.localPort);
    this.#datagram(m);
    const method = /^([A-Z]+) \S+ SIP\/2\.0/.exec(m)?.[1];
    if (method && method !== 'ACK') {
      const branch = topBranch(m);
      if (branch && !this.#pending.has(branch)) {
        let interval = T1_MS;
        const tick = () => {
          this.#datagram(m);
          interval = method === 'INVITE' ? interval * 2 : Math.min(interval * 2, T2_MS);
          const p = this.#pending.get(branch);
          if (p) p.timer = setTimeout(tick, interval);
        };
        const timer = setTimeout(tick, interval);
        const deadline = setTimeout(() => this.#stop(branch), 64 * T1_MS);
        this.#pending.set(branch, { timer, deadline });
      }
    }
  }

  async disconnect(): Promise<void> {
    for (const b of [...this.#pending.keys()]) this.#stop(b);
    if (this.#sock) { const s = this.#sock; this.#sock = undefined; await new Promise<void>((r) => s.close(() => r())); }
    this.#set(TransportState.Disconnected);
    this.onDisconnect?.();
  }

  async dispose(): Promise<void> {
    await this.disconnect();
  }
}
