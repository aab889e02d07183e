/**
 * Places calls the way a customer's call arrives: INVITE with an SDP offer through a SIP server (or straight to
 * the far end), media on a MediaSession once answered, BYE at the end. Measures the call_setup layer timing:
 * post-dial delay (INVITE → first 18x), answer (INVITE → 200), setup (INVITE → ACK).
 */
import { Inviter, Registerer, RegistererState, SessionState, UserAgent, type Referral, type Session } from 'sip.js';
import type { MediaSession } from '@vigil/media';
import { VigilError } from '@vigil/errors';
import { MediaSessionDescriptionHandler } from './sdh.ts';
import { assertDialAllowed } from './dial-guard.ts';
import { UdpTransport, type UdpTransportOptions } from './transport-udp.ts';
import { TcpTransport, TlsTransport } from './transport-tcp.ts';
import { WsTransport } from './transport-ws.ts';

export type SipTransportName = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
const TRANSPORTS = { udp: UdpTransport, tcp: TcpTransport, tls: TlsTransport, ws: WsTransport, wss: WsTransport } as const;

export interface SipAgentOptions {
  /** host:port of the outbound proxy or the far end; for ws/wss the WebSocket URL (ws://host:port/path). */
  server: string;
  /** @default "udp" */
  transport?: SipTransportName;
  /** TLS and WSS: extra trust anchor (PEM) and the certificate name to verify. */
  tls?: { ca?: string; servername?: string };
  /** Host part of our address-of-record (From, REGISTER). @default localAddress */
  domain?: string;
  /** UDP without an outbound proxy: requests go where their Request-URI points (redirects can be followed). */
  direct?: boolean;
  localAddress?: string;
  /** The caller's user part. @default "vigil-probe" */
  user?: string;
  /** Codecs to offer, in preference order. @default ["PCMU", "PCMA"] */
  codecs?: string[];
  /** Numbers and SIP URIs this agent may dial (toll-fraud guard); nothing else leaves. Required. */
  allowlist: string[];
  /** Digest credentials (RFC 2617/8760) answered to 401/407 challenges from a proxy or the far end. */
  auth?: { username: string; password: string };
  /** Added to every INVITE (e.g. a header that marks test calls). */
  headers?: Record<string, string>;
  /**
   * RFC 4028 session timer: ask for this session interval (Session-Expires, Supported: timer). When the answer
   * makes us the refresher we re-INVITE at half the interval; when the far end refreshes and stops doing so,
   * we hang up. A 422 is answered with the interval its Min-SE asks for.
   */
  sessionExpiresS?: number;
  /** SDES-SRTP (RFC 4568/3711): off, optional (keys offered on RTP/AVP), required (RTP/SAVP only). @default "off" */
  srtp?: 'off' | 'optional' | 'required';
  drop?: UdpTransportOptions['drop'];
  onTrace?: UdpTransportOptions['onTrace'];
}

export interface CallSetup {
  /** Wall-clock ms (Unix) at which the first INVITE left. */
  inviteAtMs: number | null;
  /** Whether the far end sent media before answering (183 with SDP). */
  earlyMedia: boolean;
  postDialDelayMs: number | null;
  answerMs: number | null;
  setupMs: number | null;
  finalStatus: number | null;
  reason: string | null;
  /** The far end's Server (or User-Agent) header on its final answer: the version it reports. */
  farEndAgent: string | null;
}

export interface Transfer {
  /** The Refer-To URI without its headers. */
  referTo: string;
  /** Attended transfer: the Replaces value carried in the Refer-To. */
  replaces: string | null;
  /**
   * Other headers the Refer-To carries for the new INVITE (RFC 3261 §19.1.5), by lower-case name: only
   * User-to-User (RFC 7433, how contact centers hand call context to the next leg) and X- headers are kept.
   */
  headers: Record<string, string>;
  atMs: number;
}

export interface Call {
  /** The SIP Call-ID of this leg (what the far end's logs and CRM records know the call by). */
  readonly callId: string;
  readonly media: MediaSession;
  readonly setup: CallSetup;
  /** Resolves when the call ends: 'remote' when the far end hung up, 'local' when we did. */
  readonly ended: Promise<'remote' | 'local'>;
  /** Wall-clock ms (Unix) at which the call ended; null while it lasts. */
  readonly endedAtMs: number | null;
  /** Transfers the far end asked for (REFER), in order; each was accepted (202) and recorded. */
  readonly transfers: Transfer[];
  /** Resolves at the first REFER. */
  readonly transferred: Promise<Transfer>;
  /**
   * Follows a transfer (the first one by default): INVITE to its Refer-To (with Replaces for an attended
   * transfer, Referred-By when given), through the allowlist, reporting progress to the transferor with NOTIFY
   * (message/sipfrag). The old call is left for the transferor to end; we end it if it has not within 2 s.
   */
  followTransfer(t?: Transfer, o?: { timeoutMs?: number }): Promise<Call>;
  /** Holds (re-INVITE with a=sendonly) or resumes (a=sendrecv) the far end; resolves on its 2xx. */
  hold(on: boolean): Promise<void>;
  /** Whether the far end currently holds us (its last offer was sendonly/inactive). */
  readonly heldByRemote: boolean;
  /** The negotiated session timer, if any, and how many refreshes we sent or saw. */
  readonly sessionTimer: { expiresS: number; refresher: 'uac' | 'uas'; refreshes: number } | null;
  /** Sends digits as SIP INFO (application/dtmf-relay), one request per digit, each waited for. */
  sendInfoDtmf(digits: string, durationMs?: number): Promise<void>;
  hangup(): Promise<void>;
}


export class SipAgent {
  readonly ua: UserAgent;
  readonly #o: SipAgentOptions;
  readonly #listeners: Set<(dir: 'out' | 'in', m: string, at: number) => void>;
  #registerer: Registerer | undefined;
  readonly #pendingByes = new Set<Promise<void>>();

  private constructor(ua: UserAgent, o: SipAgentOptions, listeners: Set<(dir: 'out' | 'in', m: string, at: number) => void>) {
    this.ua = ua;
    this.#o = o;
    this.#listeners = listeners;
  }

  static async start(o: SipAgentOptions): Promise<SipAgent> {
    const localAddress = o.localAddress ?? '127.0.0.1';
    const listeners = new Set<(dir: 'out' | 'in', m: string, at: number) => void>();
    const transport = o.transport ?? 'udp';
    const ua = new UserAgent({
      uri: UserAgent.makeURI(`sip:${o.user ?? 'vigil-probe'}@${o.domain ?? localAddress}`),
      viaHost: localAddress,
      contactName: o.user ?? 'vigil-probe',
      transportConstructor: TRANSPORTS[transport],
      contactParams: { transport },
      transportOptions: {
        server: o.server, localHost: localAddress, drop: o.drop, direct: o.direct, tls: o.tls,
        onTrace: (dir: 'out' | 'in', m: string, at: number) => { o.onTrace?.(dir, m, at); for (const l of listeners) l(dir, m, at); },
      } satisfies UdpTransportOptions & { tls?: SipAgentOptions['tls'] },
      logBuiltinEnabled: false,
      ...(o.auth ? { authorizationUsername: o.auth.username, authorizationPassword: o.auth.password } : {}),
      sessionDescriptionHandlerFactory: () => new MediaSessionDescriptionHandler({ codecs: o.codecs ?? ['PCMU', 'PCMA'], localAddress, srtp: o.srtp ?? 'off' }),
    });
    const agent = new SipAgent(ua, o, listeners);
    await ua.start();
    return agent;
  }

  /** Calls `target` (a SIP URI) and resolves once answered; rejects with VIGIL_E_CHANNEL_* on failure. */
  /**
   * Calls `target`; a 3xx redirect is followed (at most `maxRedirects` hops) when the new target passes the
   * allowlist — a redirect is no way around the toll-fraud guard.
   */
  async call(target: string, o: { timeoutMs?: number; maxRedirects?: number } = {}): Promise<Call> {
    let sessionExpiresS = this.#o.sessionExpiresS;
    for (let hop = 0, retried422 = false; ; hop++) {
      const r = await this.#callOnce(target, { ...o, sessionExpiresS });
      if (typeof r === 'object' && 'minSe' in r) {
        // 422 Session Interval Too Small: once more with the interval the far end asks for (RFC 4028 §6).
        if (retried422) throw new VigilError('VIGIL_E_CHANNEL_PROTOCOL', `the far end keeps answering 422 (Min-SE ${r.minSe})`, { fix: 'raise config.sessionExpiresS' });
        retried422 = true;
        sessionExpiresS = r.minSe;
        continue;
      }
      if (typeof r !== 'string') return r;
      if (hop >= (o.maxRedirects ?? 3)) throw new VigilError('VIGIL_E_CHANNEL_PROTOCOL', `too many redirects (last to ${r})`, { fix: 'the far end keeps redirecting; look at its routing' });
      target = r;
    }
  }

  async #callOnce(target: string, o: { timeoutMs?: number; sessionExpiresS?: number | undefined; referral?: Referral; referHeaders?: Record<string, string> }): Promise<Call | string | { minSe: number }> {
    const dial = assertDialAllowed(target, this.#o.allowlist);
    const uri = UserAgent.makeURI(dial.uri);
    if (!uri) throw new VigilError('VIGIL_E_TARGET_INVALID', `not a SIP URI: ${target}`, { field: 'target', fix: 'e.g. sip:service@ivr.example:5060' });
    let minSe: number | undefined;
    let answer200: string | undefined;
    const setup: CallSetup = { inviteAtMs: null, earlyMedia: false, postDialDelayMs: null, answerMs: null, setupMs: null, finalStatus: null, reason: null, farEndAgent: null };
    let inviteAt: number | null = null;
    const trace = (dir: 'out' | 'in', m: string, at: number) => {
      if (dir === 'out' && inviteAt === null && m.startsWith('INVITE ')) { inviteAt = at; setup.inviteAtMs = at; }
      if (inviteAt === null) return;
      const status = /^SIP\/2\.0 (\d{3})/.exec(m);
      if (dir === 'in' && status && /^CSeq:\s*\d+\s+INVITE/im.test(m)) {
        const code = Number(status[1]);
        if (code >= 180 && code < 200 && setup.postDialDelayMs === null) setup.postDialDelayMs = at - inviteAt;
        if (code === 183 && /^Content-Type:\s*application\/sdp/im.test(m)) setup.earlyMedia = true;
        // The latest final response wins: a 401/407 challenge is followed by an authenticated INVITE.
        if (code >= 200 && setup.answerMs === null) { setup.finalStatus = code; setup.reason = m.split('\r\n')[0]!.slice(12); setup.farEndAgent = /^(?:Server|User-Agent):[ \t]*(.+?)\r?$/im.exec(m)?.[1] ?? null; if (code < 300) { setup.answerMs = at - inviteAt; answer200 = m; } }
        if (code === 422) minSe = Number(/^Min-SE:\s*(\d+)/im.exec(m)?.[1] ?? 'NaN') || undefined;
      }
      if (dir === 'out' && m.startsWith('ACK ') && setup.answerMs !== null && setup.setupMs === null) setup.setupMs = at - inviteAt;
    };
    this.#listeners.add(trace);
    const extraHeaders = Object.entries(this.#o.headers ?? {}).map(([k, v]) => `${k}: ${v}`);
    if (o.sessionExpiresS) extraHeaders.push('Supported: timer', `Session-Expires: ${o.sessionExpiresS}`, `Min-SE: ${Math.min(90, o.sessionExpiresS)}`);
    // Early media: a 183 with SDP starts the media session before the answer (many IVRs greet that way).
    // A followed transfer is the referral's own INVITE (Replaces, Referred-By; NOTIFYs to the transferor).
    for (const [k, v] of Object.entries(o.referHeaders ?? {})) if (/^[\x21-\x7e]+$/.test(k) && !/[\r\n]/.test(v)) extraHeaders.push(`${k}: ${v}`);
    const inviter = o.referral ? o.referral.makeInviter({ extraHeaders, earlyMedia: true }) : new Inviter(this.ua, uri, { extraHeaders, earlyMedia: true });
    const transfers: Transfer[] = [];
    const referrals = new Map<Transfer, Referral>();
    let transferredResolve!: (t: Transfer) => void;
    const transferred = new Promise<Transfer>((r) => { transferredResolve = r; });
    let remoteRefreshAtMs = performance.now();
    let refreshes = 0;
    inviter.delegate = {
      onRefer: (referral) => {
        const to = referral.referTo.uri.clone();
        const rh = to.getHeader('replaces');
        const replaces = Array.isArray(rh) ? rh[0] ?? null : rh ?? null;
        const headers: Record<string, string> = {};
        for (const [name, v] of Object.entries(to.headers)) {
          const n = name.toLowerCase();
          if (n === 'user-to-user' || n.startsWith('x-')) headers[n] = decodeURIComponent(v[0] ?? '');
        }
        to.clearHeaders();
        const t: Transfer = { referTo: to.toString(), replaces: replaces ? decodeURIComponent(replaces) : null, headers, atMs: performance.timeOrigin + performance.now() };
        transfers.push(t);
        referrals.set(t, referral);
        transferredResolve(t);
        void referral.accept().catch(() => undefined);
      },
      onInvite: (request) => {
        // A re-INVITE from the far end (hold, resume, session refresh), already answered through the SDH.
        remoteRefreshAtMs = performance.now();
        if (request.hasHeader('Session-Expires')) refreshes++;
      },
    };
    let endedResolve!: (v: 'remote' | 'local') => void;
    let endedAtMs: number | null = null;
    const ended = new Promise<'remote' | 'local'>((r) => { endedResolve = (v) => { endedAtMs ??= performance.timeOrigin + performance.now(); r(v); }; });
    let hungUpLocally = false;
    const established = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { void inviter.cancel().catch(() => undefined); reject(new VigilError('VIGIL_E_CHANNEL_TIMEOUT', `no answer from ${target} within ${o.timeoutMs ?? 30_000} ms`, { fix: 'check the number and the trunk' })); }, o.timeoutMs ?? 30_000);
      inviter.stateChange.addListener((s) => {
        if (s === SessionState.Established) { clearTimeout(timer); resolve(); }
        if (s === SessionState.Terminated) {
          clearTimeout(timer);
          endedResolve(hungUpLocally ? 'local' : 'remote');
          // Answered, but its SDP was unusable (sip.js ACKed and sent BYE): say why.
          const failure = ((inviter as Session).sessionDescriptionHandler as MediaSessionDescriptionHandler | undefined)?.failure;
          if (failure) { reject(failure); return; }
          if (setup.answerMs === null) {
            const code = setup.finalStatus;
            if (code === 488 && this.#o.srtp === 'required') {
              reject(new VigilError('VIGIL_E_CHANNEL_PROTOCOL', `call to ${target} failed: 488 ${setup.reason ?? ''}: the far end refused our RTP/SAVP (SRTP) offer`.trim(), { field: 'config.srtp', fix: 'the far end does not take SRTP: enable it there, or set config.srtp to "optional"', details: { status: code } }));
              return;
            }
            const auth = code === 401 || code === 407;
            reject(new VigilError(auth ? 'VIGIL_E_CHANNEL_AUTH' : code !== null && code >= 500 ? 'VIGIL_E_CHANNEL_UNREACHABLE' : 'VIGIL_E_CHANNEL_PROTOCOL', `call to ${target} failed: ${code ?? 'no final response'} ${setup.reason ?? ''}`.trim(), { fix: auth ? (this.#o.auth ? "the proxy refused our digest answer: check the target's authUsername and credentialsRef" : 'the proxy demands digest auth: set authUsername and credentialsRef on the target') : 'the far end refused the call', details: { status: code } }));
          } else {
            reject(new VigilError('VIGIL_E_CHANNEL_PROTOCOL', `call to ${target} ended during setup`, { fix: 'the far end answered, then hung up before the call was established' }));
          }
        }
      });
    });
    let redirectTo: string | undefined;
    await inviter.invite({
      requestDelegate: {
        onRedirect: (response) => {
          const c = response.message.parseHeader('contact') as { uri?: { user?: string; host: string; port?: number } } | undefined;
          if (c?.uri) redirectTo = `sip:${c.uri.user ?? ''}@${c.uri.host}${c.uri.port ? `:${c.uri.port}` : ''}`;
        },
      },
    });
    try {
      await established;
    } catch (e) {
      if (redirectTo) {
        assertDialAllowed(redirectTo, this.#o.allowlist);
        return redirectTo;
      }
      if (setup.finalStatus === 422 && minSe && o.sessionExpiresS && minSe > o.sessionExpiresS) return { minSe };
      throw e;
    } finally {
      this.#listeners.delete(trace);
    }
    const sdh = (inviter as Session).sessionDescriptionHandler as MediaSessionDescriptionHandler;
    const media = sdh.media!;
    const pendingByes = this.#pendingByes;
    const callOnce = (t: string, co: Parameters<SipAgent['call']>[1] & { sessionExpiresS?: number | undefined; referral?: Referral; referHeaders?: Record<string, string> }) => this.#callOnce(t, co);
    const se = answer200 ? /^(?:Session-Expires|x):\s*(\d+)\s*(?:;\s*refresher=(uac|uas))?/im.exec(answer200) : null;
    const sessionTimer: { expiresS: number; refresher: 'uac' | 'uas'; refreshes: number } | null = se ? { expiresS: Number(se[1]), refresher: (se[2] as 'uac' | 'uas' | undefined) ?? 'uac', refreshes: 0 } : null;
    const reinvite = (options: { hold: boolean }) => new Promise<void>((resolve, reject) => {
      // Every re-INVITE keeps the session timer going (RFC 4028 §7.4): the interval and that we refresh.
      const extraHeaders = sessionTimer ? ['Supported: timer', `Session-Expires: ${sessionTimer.expiresS};refresher=${sessionTimer.refresher}`] : [];
      void inviter.invite({
        requestOptions: { extraHeaders },
        sessionDescriptionHandlerOptions: options as object,
        requestDelegate: {
          onAccept: () => resolve(),
          onReject: (r) => reject(new VigilError('VIGIL_E_CHANNEL_PROTOCOL', `re-INVITE refused: ${r.message.statusCode} ${r.message.reasonPhrase}`, { fix: 'the far end does not take re-INVITEs here', details: { status: r.message.statusCode } })),
        },
      }).catch(reject);
    });
    // RFC 4028: the 2xx settles the interval and who refreshes. We refresh with a re-INVITE at half the
    // interval; if the far end is the refresher and goes quiet, we end the call before the session expires.
    let timer: NodeJS.Timeout | undefined;
    if (sessionTimer) {
      const intervalMs = sessionTimer.expiresS * 1000;
      const tick = () => {
        if (inviter.state !== SessionState.Established) return;
        if (sessionTimer.refresher === 'uac') {
          reinvite({ hold: sdh.localHold }).then(() => { sessionTimer.refreshes++; }, () => { void call.hangup(); });
          timer = setTimeout(tick, intervalMs / 2);
        } else {
          sessionTimer.refreshes = refreshes;
          const quietMs = performance.now() - remoteRefreshAtMs;
          if (quietMs >= intervalMs - Math.min(32_000, intervalMs / 3)) { void call.hangup(); return; }
          timer = setTimeout(tick, Math.max(100, intervalMs - Math.min(32_000, intervalMs / 3) - quietMs));
        }
      };
      timer = setTimeout(tick, sessionTimer.refresher === 'uac' ? intervalMs / 2 : intervalMs - Math.min(32_000, intervalMs / 3));
      timer.unref();
      void ended.then(() => clearTimeout(timer));
    }
    const call: Call = {
      callId: inviter.request.callId, media, setup, ended, transfers, transferred, sessionTimer,
      get endedAtMs() { return endedAtMs; },
      get heldByRemote() { return sdh.remoteHold; },
      hold: (on: boolean) => reinvite({ hold: on }),
      async followTransfer(t?: Transfer, fo: { timeoutMs?: number } = {}): Promise<Call> {
        const tr = t ?? transfers[0];
        const referral = tr && referrals.get(tr);
        if (!tr || !referral) throw new VigilError('VIGIL_E_CHANNEL_PROTOCOL', 'no transfer to follow: the far end sent no REFER', { fix: 'put expect_transfer where the far end transfers' });
        const next = await callOnce(tr.referTo, { timeoutMs: fo.timeoutMs ?? o.timeoutMs, sessionExpiresS: o.sessionExpiresS, referral, referHeaders: tr.headers });
        if (typeof next === 'string' || !('media' in next)) throw new VigilError('VIGIL_E_CHANNEL_PROTOCOL', `the transfer target ${tr.referTo} redirected or refused the session interval`, { fix: 'look at the transfer target' });
        // Blind transfer: the transferor ends the old call on our NOTIFY 200; if it does not, we do.
        const settle: Promise<void> = Promise.race([ended, new Promise((r) => setTimeout(r, 2000))]).then(() => call.hangup()).then(() => media.close()).finally(() => pendingByes.delete(settle));
        pendingByes.add(settle);
        return next;
      },
      async sendInfoDtmf(digits: string, durationMs = 160) {
        for (const d of digits) {
          if (!/^[0-9*#A-D]$/i.test(d)) throw new VigilError('VIGIL_E_REQUEST_INVALID', `"${d}" is not a DTMF digit`, { field: 'dtmf', fix: 'use 0-9 * # A-D' });
          await new Promise<void>((resolve, reject) => {
            void inviter.info({
              requestOptions: { body: { contentDisposition: 'render', contentType: 'application/dtmf-relay', content: `Signal=${d.toUpperCase()}\r\nDuration=${durationMs}\r\n` } },
              requestDelegate: { onAccept: () => resolve(), onReject: (r) => reject(new VigilError('VIGIL_E_CHANNEL_PROTOCOL', `INFO refused: ${r.message.statusCode}`, { fix: 'the far end may want RFC 4733 DTMF instead' })) },
            }).catch(reject);
          });
        }
      },
      async hangup() {
        if (inviter.state !== SessionState.Established) return;
        hungUpLocally = true;
        // Wait for the BYE's final response: stopping earlier would drop the BYE's retransmissions. stop()
        // waits for BYEs still in flight too.
        const bye = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 32_000);
          const done = () => { clearTimeout(timer); resolve(); };
          void inviter.bye({ requestDelegate: { onAccept: done, onReject: done } }).catch(done);
        });
        pendingByes.add(bye);
        await bye;
        pendingByes.delete(bye);
      },
    };
    return call;
  }

  /**
   * Registers our address-of-record with the server (REGISTER, answering a digest challenge) for trunks that
   * take calls only from registered users; `stop()` unregisters. Resolves with the time to the 200.
   */
  async register(o: { expiresS?: number; timeoutMs?: number } = {}): Promise<{ registerMs: number; expiresS: number }> {
    const registerer = new Registerer(this.ua, { expires: o.expiresS ?? 300 });
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new VigilError('VIGIL_E_CHANNEL_TIMEOUT', `no answer to REGISTER from ${this.#o.server} within ${o.timeoutMs ?? 10_000} ms`, { fix: 'check the registrar address and transport' })), o.timeoutMs ?? 10_000);
      registerer.stateChange.addListener((s) => { if (s === RegistererState.Registered) { clearTimeout(timer); resolve(); } });
      void registerer.register({
        requestDelegate: {
          onReject: (r) => {
            clearTimeout(timer);
            const code = r.message.statusCode ?? 0;
            reject(new VigilError(code === 401 || code === 403 || code === 407 ? 'VIGIL_E_CHANNEL_AUTH' : 'VIGIL_E_CHANNEL_PROTOCOL', `REGISTER refused: ${code} ${r.message.reasonPhrase}`, { fix: code === 401 || code === 403 || code === 407 ? "check the target's authUsername and credentialsRef" : 'look at the registrar', details: { status: code } }));
          },
        },
      }).catch((e: unknown) => { clearTimeout(timer); reject(e); });
    });
    this.#registerer = registerer;
    return { registerMs: performance.now() - t0, expiresS: o.expiresS ?? 300 };
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#pendingByes]);
    const r = this.#registerer;
    this.#registerer = undefined;
    if (r) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5_000);
        void r.unregister({ requestDelegate: { onAccept: () => { clearTimeout(timer); resolve(); }, onReject: () => { clearTimeout(timer); resolve(); } } }).catch(() => { clearTimeout(timer); resolve(); });
      });
    }
    await this.ua.stop();
  }
}
