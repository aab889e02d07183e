/**
 * sip.js SessionDescriptionHandler on @vigil/media: the offer carries a MediaSession's port and our codecs;
 * the answer picks the codec and tells the session where to send. DTMF goes out as RFC 4733 events.
 */
import { randomInt } from 'node:crypto';
import type { BodyAndContentType, SessionDescriptionHandler, SessionDescriptionHandlerOptions } from 'sip.js/lib/api/session-description-handler.js';
import { MediaSession, createCodec } from '@vigil/media';
import { buildOffer, parseAnswer, type AudioAnswer } from './sdp.ts';

export interface MediaSdhOptions {
  codecs: string[];
  localAddress: string;
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

  constructor(o: MediaSdhOptions) {
    this.#o = o;
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
      return { contentType: 'application/sdp', body: this.#sdp([this.#media.codec.name], mirrored) };
    }
    this.#localHold = options?.hold === true;
    this.#awaitingAnswer = true;
    // Once a codec is settled, later offers (hold, resume, refresh) keep to it.
    return { contentType: 'application/sdp', body: this.#sdp(this.#answer ? [this.#media.codec.name] : this.#o.codecs, this.#localHold ? 'sendonly' : 'sendrecv') };
  }

  #sdp(codecs: string[], direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive'): string {
    return buildOffer({ address: this.#o.localAddress, port: this.#media!.port, codecs, sessionId: this.#sessionId, version: this.#version++, direction });
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
      return;
    }
    this.#awaitingAnswer = false;
    this.#media ??= await MediaSession.open({ codec: createCodec(answer.codec.name), host: this.#o.localAddress });
    const first = !this.#answer;
    this.#answer = answer;
    const codecChanged = this.#media.codec.name !== answer.codec.name || this.#media.codec.payloadType !== answer.codec.payloadType;
    if (first && (codecChanged || answer.telephoneEventPayloadType !== null)) {
      this.#media.negotiate(createCodec(answer.codec.name, { payloadType: answer.codec.payloadType }), answer.telephoneEventPayloadType ?? undefined);
    }
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
