/** SDP offer/answer for one audio stream (RFC 4566 / 3264): what the probe offers and what it reads back. */
import { VigilError } from '@vigil/errors';

export interface AudioOffer {
  address: string;
  port: number;
  /** Codec names in preference order: PCMU, PCMA, opus. */
  codecs: string[];
  sessionId: number;
  version: number;
  direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  ptimeMs?: number;
  /**
   * SDES-SRTP (RFC 4568): our master keys as a=crypto lines. `savp` makes the profile RTP/SAVP (SRTP
   * required); without it the keys ride on RTP/AVP (best effort: peers that understand them encrypt).
   */
  crypto?: { savp: boolean; offers: SdesCrypto[] };
}

export interface SdesCrypto { tag: number; suite: string; /** base64 of the 30-byte master key || salt */ key: string }

const STATIC: Record<string, { pt: number; rtpmap: string }> = {
  PCMU: { pt: 0, rtpmap: 'PCMU/8000' },
  PCMA: { pt: 8, rtpmap: 'PCMA/8000' },
  OPUS: { pt: 111, rtpmap: 'opus/48000/2' },
};
export const TELEPHONE_EVENT_PT = 101;

export function buildOffer(o: AudioOffer): string {
  const codecs = o.codecs.map((c) => {
    const s = STATIC[c.toUpperCase()];
    if (!s) throw new VigilError('VIGIL_E_REQUEST_INVALID', `codec ${c} cannot be offered`, { field: 'codecs', fix: 'use PCMU, PCMA or opus' });
    return { name: c, ...s };
  });
  const pts = [...codecs.map((c) => c.pt), TELEPHONE_EVENT_PT];
  return [
    'v=0',
    `o=vigil ${o.sessionId} ${o.version} IN IP4 ${o.address}`,
    's=vigil',
    `c=IN IP4 ${o.address}`,
    't=0 0',
    `m=audio ${o.port} ${o.crypto?.savp ? 'RTP/SAVP' : 'RTP/AVP'} ${pts.join(' ')}`,
    ...codecs.map((c) => `a=rtpmap:${c.pt} ${c.rtpmap}`),
    ...(codecs.some((c) => c.pt === 111) ? ['a=fmtp:111 minptime=10;useinbandfec=1'] : []),
    `a=rtpmap:${TELEPHONE_EVENT_PT} telephone-event/8000`,
    `a=fmtp:${TELEPHONE_EVENT_PT} 0-16`,
    `a=ptime:${o.ptimeMs ?? 20}`,
    // RTP and RTCP share one port: said both ways, for peers that multiplex (RFC 5761) and peers that only
    // read the RTCP port (RFC 3605).
    'a=rtcp-mux',
    `a=rtcp:${o.port}`,
    `a=${o.direction ?? 'sendrecv'}`,
    ...(o.crypto?.offers ?? []).map((c) => `a=crypto:${c.tag} ${c.suite} inline:${c.key}`),
    '',
  ].join('\r\n');
}

export interface AudioAnswer {
  address: string;
  port: number;
  /** The first payload type of the m-line that we support, with its codec name. */
  codec: { name: 'PCMU' | 'PCMA' | 'opus'; payloadType: number };
  telephoneEventPayloadType: number | null;
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  ptimeMs: number | null;
  /** Where the far end wants RTCP: its RTP port with rtcp-mux, else a=rtcp, else RTP port + 1. */
  rtcpPort: number;
  /** The m-line's profile: RTP/AVP, RTP/SAVP, … */
  profile: string;
  /** a=crypto lines of the audio stream (SDES), in order. */
  crypto: SdesCrypto[];
}

export function parseAnswer(sdp: string): AudioAnswer {
  const lines = sdp.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const bad = (why: string) => new VigilError('VIGIL_E_CHANNEL_PROTOCOL', `SDP answer: ${why}`, { field: 'sdp', fix: 'the far end must answer with one audio stream it can send and receive' });
  let sessionAddr: string | undefined;
  let mediaAddr: string | undefined;
  let m: { port: number; pts: number[]; profile: string } | undefined;
  const crypto: SdesCrypto[] = [];
  const rtpmap = new Map<number, string>();
  let direction: AudioAnswer['direction'] = 'sendrecv';
  let ptimeMs: number | null = null;
  let rtcpMux = false;
  let rtcpAttr: number | undefined;
  for (const l of lines) {
    if (l.startsWith('m=')) {
      if (m) break; // first audio stream only
      const parts = l.slice(2).split(/\s+/);
      if (parts[0] !== 'audio') continue;
      m = { port: Number(parts[1]), pts: parts.slice(3).map(Number), profile: parts[2] ?? '' };
    } else if (l.startsWith('c=')) {
      const addr = l.split(/\s+/)[2];
      if (m) mediaAddr = addr; else sessionAddr = addr;
    } else if (m && l.startsWith('a=rtpmap:')) {
      const [pt, enc] = l.slice(9).split(/\s+/);
      rtpmap.set(Number(pt), enc!.split('/')[0]!.toUpperCase());
    } else if (m && /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(l)) {
      direction = l.slice(2) as AudioAnswer['direction'];
    } else if (m && l.startsWith('a=ptime:')) {
      ptimeMs = Number(l.slice(8));
    } else if (m && l.startsWith('a=crypto:')) {
      // a=crypto:<tag> <suite> inline:<key||salt base64>[|lifetime][|MKI:length]
      const c = /^a=crypto:(\d+)\s+(\S+)\s+inline:([A-Za-z0-9+/=]+)/.exec(l);
      if (c) crypto.push({ tag: Number(c[1]), suite: c[2]!, key: c[3]! });
    } else if (m && l === 'a=rtcp-mux') {
      rtcpMux = true;
    } else if (m && l.startsWith('a=rtcp:')) {
      rtcpAttr = Number(l.slice(7).split(/\s+/)[0]);
    }
  }
  if (!m) throw bad('no audio m-line');
  const address = mediaAddr ?? sessionAddr;
  if (!address) throw bad('no connection address (c=)');
  if (!Number.isInteger(m.port) || m.port < 0 || m.port > 65535) throw bad(`bad port ${m.port}`);
  const nameOf = (pt: number) => rtpmap.get(pt) ?? (pt === 0 ? 'PCMU' : pt === 8 ? 'PCMA' : undefined);
  let codec: AudioAnswer['codec'] | undefined;
  for (const pt of m.pts) {
    const n = nameOf(pt);
    if (n === 'PCMU' || n === 'PCMA') { codec = { name: n, payloadType: pt }; break; }
    if (n === 'OPUS') { codec = { name: 'opus', payloadType: pt }; break; }
  }
  if (!codec) throw bad(`no codec we speak among payload types ${m.pts.join(' ')}`);
  const te = m.pts.find((pt) => rtpmap.get(pt) === 'TELEPHONE-EVENT') ?? null;
  const rtcpPort = rtcpMux ? m.port : rtcpAttr && Number.isInteger(rtcpAttr) && rtcpAttr > 0 && rtcpAttr < 65536 ? rtcpAttr : m.port + 1;
  return { address, port: m.port, codec, telephoneEventPayloadType: te, direction, ptimeMs, rtcpPort, profile: m.profile, crypto };
}
