/**
 * sip.js SessionDescriptionHandler on @vigil/media: the offer carries a MediaSession's port and our codecs;
 * the answer picks the codec and tells the session where to send. DTMF goes out as RFC 4733 events.
 */
import { randomInt } from 'node:crypto';
import type { BodyAndContentType, SessionDescriptionHandler } from 'sip.js/lib/api/session-description-handler.js';
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

  constructor(o: MediaSdhOptions) {
    this.#o = o;
  }

  get media(): MediaSession | undefined { return this.#media; }
  get answer(): AudioAnswer | undefined { return this.#answer; }

  async getDescription(): Promise<BodyAndContentType> {
    this.#media ??= await MediaSession.open({ codec: createCodec(this.#o.codecs[0] ?? 'PCMU'), host: this.#o.localAddress });
    return { contentType: 'application/sdp', body: buildOffer({ address: this.#o.localAddress, port: this.#media.port, codecs: this.#o.codecs, sessionId: this.#sessionId, version: this.#version++ }) };
  }

  hasDescription(contentType: string): boolean {
    return contentType.toLowerCase().startsWith('application/sdp');
  }

  async setDescription(sdp: string): Promise<void> {
    const answer = parseAnswer(sdp);
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

  close(): void {
    void this.#media?.close();
  }
}
