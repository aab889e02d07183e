/**
 * The answering side: a SIP user agent that takes calls for one user part on one address (an IVR, an agent
 * queue, a bot), over UDP, answers with our SDP on a MediaSession, and can transfer a call (REFER) or
 * hang up. Used by the reference contact center; the probe itself only calls out.
 */
import { Invitation, SessionState, UserAgent, type Session } from 'sip.js';
import type { MediaSession } from '@vigil/media';
import { VigilError } from '@vigil/errors';
import { MediaSessionDescriptionHandler } from './sdh.ts';
import { UdpTransport } from './transport-udp.ts';

export interface SipServerOptions {
  /** The user part calls must be addressed to (sip:<user>@host:port). */
  user: string;
  host?: string;
  /** @default 0 (a free port) */
  port?: number;
  /** Codecs we accept, in preference order. @default ["PCMU", "PCMA"] */
  codecs?: string[];
  /** Ring this long (180) before answering; 0 answers at once. @default 0 */
  ringMs?: number;
  /**
   * Early media: send 183 with our SDP answer, run this (e.g. play a greeting) on the media session, then
   * answer with 200 — as IVRs that greet before answering do.
   */
  earlyMedia?: (media: MediaSession, call: { callId: string; from: string; headers: Record<string, string> }) => Promise<void>;
  onCall: (call: IncomingCall) => void;
  /** Sees every message sent and received, with its time. */
  onTrace?: (dir: 'out' | 'in', message: string, atMs: number) => void;
}

export interface IncomingCall {
  readonly callId: string;
  /** The caller's URI (From). */
  readonly from: string;
  /** Headers of the INVITE, lower-case names (e.g. x-vigil-run). */
  readonly headers: Record<string, string>;
  readonly media: MediaSession;
  /** Wall-clock ms at which we sent the 200. */
  readonly answeredAtMs: number;
  readonly ended: Promise<'remote' | 'local'>;
  /** Transfers the caller (REFER) to `target`; resolves with the status of the caller's NOTIFY, or the refusal. */
  refer(target: string): Promise<{ accepted: boolean; status: number }>;
  hangup(): Promise<void>;
}

export class SipServer {
  readonly ua: UserAgent;
  readonly port: number;
  readonly uri: string;

  private constructor(ua: UserAgent, port: number, uri: string) {
    this.ua = ua;
    this.port = port;
    this.uri = uri;
  }

  static async start(o: SipServerOptions): Promise<SipServer> {
    const host = o.host ?? '127.0.0.1';
    let boundPort = o.port ?? 0;
    const ua = new UserAgent({
      uri: UserAgent.makeURI(`sip:${o.user}@${host}`),
      viaHost: host,
      contactName: o.user,
      contactParams: { transport: 'udp' },
      transportConstructor: UdpTransport,
      transportOptions: { server: `${host}:5060`, localHost: host, localPort: boundPort, direct: true, ...(o.onTrace ? { onTrace: o.onTrace } : {}) },
      logBuiltinEnabled: false,
      sessionDescriptionHandlerFactory: () => new MediaSessionDescriptionHandler({ codecs: o.codecs ?? ['PCMU', 'PCMA'], localAddress: host }),
      delegate: {
        onInvite: (invitation: Invitation) => { void answer(invitation, o); },
      },
    });
    await ua.start();
    boundPort = (ua.transport as unknown as { localPort: number }).localPort;
    return new SipServer(ua, boundPort, `sip:${o.user}@${host}:${boundPort}`);
  }

  async stop(): Promise<void> {
    await this.ua.stop();
  }
}

async function answer(invitation: Invitation, o: SipServerOptions): Promise<void> {
  let endedResolve!: (v: 'remote' | 'local') => void;
  const ended = new Promise<'remote' | 'local'>((r) => { endedResolve = r; });
  let local = false;
  invitation.stateChange.addListener((s) => { if (s === SessionState.Terminated) endedResolve(local ? 'local' : 'remote'); });
  const req = invitation.request;
  const headers: Record<string, string> = {};
  for (const [name, list] of Object.entries(req.headers)) headers[name.toLowerCase()] = list.map((h) => h.raw).join(', ');
  try {
    if (o.ringMs) {
      await invitation.progress();
      await new Promise((r) => setTimeout(r, o.ringMs));
    }
    if (o.earlyMedia) {
      await invitation.progress({ statusCode: 183 });
      const early = (invitation as Session).sessionDescriptionHandler as MediaSessionDescriptionHandler;
      await o.earlyMedia(early.media!, { callId: req.callId, from: req.from.uri.toString(), headers });
    }
    await invitation.accept();
  } catch {
    return; // the caller cancelled or the offer was unusable: sip.js has answered it
  }
  const sdh = (invitation as Session).sessionDescriptionHandler as MediaSessionDescriptionHandler;
  const call: IncomingCall = {
    callId: req.callId,
    from: req.from.uri.toString(),
    headers,
    media: sdh.media!,
    answeredAtMs: performance.timeOrigin + performance.now(),
    ended,
    refer: (target) => new Promise((resolve, reject) => {
      const uri = UserAgent.makeURI(target);
      if (!uri) { reject(new VigilError('VIGIL_E_REQUEST_INVALID', `not a SIP URI: ${target}`, { field: 'target', fix: 'e.g. sip:agents@host:port' })); return; }
      // sip.js writes a blind transfer's Refer-To as a bare URI; one carrying headers (?User-to-User=…) must
      // be in angle brackets (RFC 3261 §20.10), or the far end cannot parse it. The name-addr form is always valid.
      (invitation as unknown as { referToString: (t: unknown) => string }).referToString = (t) => `<${String(t)}>`;
      void invitation.refer(uri, {
        requestDelegate: {
          onAccept: (r) => resolve({ accepted: true, status: r.message.statusCode ?? 202 }),
          onReject: (r) => resolve({ accepted: false, status: r.message.statusCode ?? 0 }),
        },
      }).catch(reject);
    }),
    hangup: async () => {
      if (invitation.state !== SessionState.Established) return;
      local = true;
      await new Promise<void>((resolve) => {
        void invitation.bye({ requestDelegate: { onAccept: () => resolve(), onReject: () => resolve() } }).catch(() => resolve());
        setTimeout(resolve, 32_000);
      });
    },
  };
  void ended.then(() => call.media.close());
  o.onCall(call);
}
