/**
 * sip.js SessionDescriptionHandler on @vigil/media: the offer carries a MediaSession's port and our codecs;
 * the answer picks the codec and tells the session where to send. DTMF goes out as RFC 4733 events.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { VigilError } from '@vigil/errors';
import type { BodyAndContentType, SessionDescriptionHandler, SessionDescriptionHandlerOptions } from 'sip.js/lib/api/session-description-handler.js';
import { MediaSession, SRTP_MASTER_LENGTH, SRTP_SUITES, SrtpContext, createCodec, type SrtpSuite } from '@vigil/media';
import { buildOffer, parseAnswer, type AudioAnswer, type SdesCrypto } from './sdp.ts';

export interface MediaSdhOptions {
  codecs: string[];
  localAddress: string;
  /** SDES-SRTP: off (plain RTP), optional (keys offered on RTP/AVP), required (RTP/SAVP, no plain fallback). */
  srtp?: 'off' | 'optional' | 'required';
  onMedia?: (media: MediaSession, answer: AudioAnswer) => void;
}

export class MediaSessionDescriptionHandler implements SessionDescriptionHandler {
  readonly #o: MediaSdhOptions;
  #media: MediaSession | undefined;
  readonly #sessionId = randomInt(1, 2 ** 31);
  #version = 1;
  #answer: AudioAnswer | undefined;
  #awaitingAnswer = false;
  #remoteOffer: AudioAnswer | undefined;
  #remoteHold = false;
  #localHold = false;
  /** Our master key per suite (tag = index + 1), when SRTP is on. */
  readonly #keys: Map<SrtpSuite, Buffer> = new Map();
  /** The suite in use once the far end answered with keys. */
  #suite: { suite: SrtpSuite; tag: number; theirs: string } | undefined;
  /** Why the last answer could not be used (e.g. no keys when SRTP is required). */
  failure: VigilError | undefined;

  constructor(o: MediaSdhOptions) {
    this.#o = o;
    if (o.srtp && o.srtp !== 'off') for (const suite of SRTP_SUITES) this.#keys.set(suite, randomBytes(SRTP_MASTER_LENGTH));
  }

  /** The SRTP suite in use, or null for plain RTP. */
  get srtpSuite(): SrtpSuite | null { return this.#suite?.suite ?? null; }

  #cryptoOffers(): SdesCrypto[] {
    return [...this.#keys].map(([suite, key], i) => ({ tag: i + 1, suite, key: key.toString('base64') }));
  }

  /** Picks our key for the far end's chosen suite and keys the media session both ways. */
  #applyCrypto(desc: AudioAnswer): void {
    if (this.#keys.size === 0) return;
    const pick = desc.crypto.find((c) => this.#keys.has(c.suite as SrtpSuite) && Buffer.from(c.key, 'base64').length === SRTP_MASTER_LENGTH);
    if (!pick) {
      if (this.#o.srtp === 'required' || this.#suite) {
        throw new VigilError('VIGIL_E_CHANNEL_PROTOCOL', `the far end answered without usable SRTP keys (${desc.profile}${desc.crypto.length ? `, suites ${desc.crypto.map((c) => c.suite).join(', ')}` : ', no a=crypto'})`, { field: 'config.srtp', fix: 'the target requires SRTP: offer it on the trunk, or set config.srtp to "optional"' });
      }
      return;
    }
    if (this.#suite && this.#suite.suite === pick.suite && this.#suite.theirs === pick.key) return;
    const suite = pick.suite as SrtpSuite;
    this.#suite = { suite, tag: pick.tag, theirs: pick.key };
    this.#media!.setSrtp(new SrtpContext(suite, this.#keys.get(suite)!), new SrtpContext(suite, Buffer.from(pick.key, 'base64')));
  }

  get media(): MediaSession | undefined { return this.#media; }
  get answer(): AudioAnswer | undefined { return this.#answer; }

  /**
   * Our SDP: an offer (initial INVITE, or a re-INVITE we send: `{ hold: true }` offers a=sendonly), or, after
   * the far end's re-INVITE offer, the answer: the codec in use and the mirrored direction.
   */
  async getDescription(options?: SessionDescriptionHandlerOptions & { hold?: boolean }): Promise<BodyAndContentType> {
    this.#media ??= await MediaSession.open({ codec: createCodec(this.#o.codecs[0] ?? 'PCMU'), host: this.#o.localAddress });
    const offer = this.#remoteOffer;
    this.#remoteOffer = undefined;
    if (offer) {
      const mirrored = ({ sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive', sendrecv: this.#localHold ? 'sendonly' : 'sendrecv' } as const)[offer.direction];
      // Answer with our key for the suite in use, under the tag the offer gave it.
      const s = this.#suite;
      const tag = s ? offer.crypto.find((c) => c.suite === s.suite)?.tag ?? s.tag : 0;
      const crypto = s ? { savp: offer.profile === 'RTP/SAVP', offers: [{ tag, suite: s.suite, key: this.#keys.get(s.suite)!.toString('base64') }] } : undefined;
      return { contentType: 'application/sdp', body: this.#sdp([this.#media.codec.name], mirrored, crypto) };
    }
    this.#localHold = options?.hold === true;
    this.#awaitingAnswer = true;
    // Once a codec is settled, later offers (hold, resume, refresh) keep to it.
    const crypto = this.#keys.size ? { savp: this.#o.srtp === 'required', offers: this.#suite ? this.#cryptoOffers().filter((c) => c.suite === this.#suite!.suite) : this.#cryptoOffers() } : undefined;
    return { contentType: 'application/sdp', body: this.#sdp(this.#answer ? [this.#media.codec.name] : this.#o.codecs, this.#localHold ? 'sendonly' : 'sendrecv', crypto) };
  }

  #sdp(codecs: string[], direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive', crypto?: { savp: boolean; offers: SdesCrypto[] }): string {
    return buildOffer({ address: this.#o.localAddress, port: this.#media!.port, codecs, sessionId: this.#sessionId, version: this.#version++, direction, ...(crypto ? { crypto } : {}) });
  }

  /** Whether the far end has put us on hold (its last offer was sendonly or inactive). */
  get remoteHold(): boolean { return this.#remoteHold; }
  /** Whether we hold the far end (our last offer was sendonly). */
  get localHold(): boolean { return this.#localHold; }

  hasDescription(contentType: string): boolean {
    return contentType.toLowerCase().startsWith('application/sdp');
  }

  async setDescription(sdp: string): Promise<void> {
    const answer = parseAnswer(sdp);
    if (this.#answer && !this.#awaitingAnswer) {
      // The far end's re-INVITE offer (hold, resume, a new address, a session refresh): follow it.
      this.#remoteOffer = answer;
      this.#remoteHold = answer.direction === 'sendonly' || answer.direction === 'inactive';
      this.#media!.setRemote(answer.address, answer.port, answer.rtcpPort);
      this.#applyCrypto(answer);
      return;
    }
    // Answering a call (we are the UAS): the first description is the caller's offer; the next
    // getDescription() produces our answer from it.
    const initialOffer = !this.#answer && !this.#awaitingAnswer;
    this.#awaitingAnswer = false;
    this.#media ??= await MediaSession.open({ codec: createCodec(answer.codec.name), host: this.#o.localAddress });
    if (initialOffer) this.#remoteOffer = answer;
    const first = !this.#answer;
    this.#answer = answer;
    const codecChanged = this.#media.codec.name !== answer.codec.name || this.#media.codec.payloadType !== answer.codec.payloadType;
    if (first && (codecChanged || answer.telephoneEventPayloadType !== null)) {
      this.#media.negotiate(createCodec(answer.codec.name, { payloadType: answer.codec.payloadType }), answer.telephoneEventPayloadType ?? undefined);
    }
    try { this.#applyCrypto(answer); } catch (e) { this.failure = e as VigilError; throw e; }
    this.#media.setRemote(answer.address, answer.port, answer.rtcpPort);
    if (first) this.#o.onMedia?.(this.#media, answer);
  }

  sendDtmf(tones: string): boolean {
    if (!this.#media) return false;
    void this.#media.sendDigits(tones);
    return true;
  }

  rollbackDescription(): Promise<void> {
    this.#awaitingAnswer = false;
    this.#remoteOffer = undefined;
    return Promise.resolve();
  }

  close(): void {
    void this.#media?.close();
  }
}
