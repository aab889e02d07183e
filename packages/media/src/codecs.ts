/**
 * Audio codecs behind one interface, as SDP names them: PCMU and PCMA (G.711, 8 kHz, static payload types 0
 * and 8) and Opus (48 kHz RTP clock, dynamic payload type, through the opusscript WebAssembly build of
 * libopus). A codec instance keeps its state (Opus has one), so use one per stream direction.
 */
import OpusScript from 'opusscript';
import { VigilError } from '@vigil/errors';
import { PT_PCMA, PT_PCMU, decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from './g711.ts';

export interface Codec {
  /** SDP encoding name. */
  readonly name: 'PCMU' | 'PCMA' | 'opus';
  readonly payloadType: number;
  /** RTP clock rate. */
  readonly clockRate: number;
  /** PCM rate the codec takes and gives. */
  readonly sampleRate: number;
  encode(frame: Int16Array): Uint8Array;
  decode(payload: Uint8Array): Int16Array;
  /** Samples of PCM for a frame of ptime ms. */
  frameSamples(ptimeMs: number): number;
  close(): void;
}

class G711Codec implements Codec {
  readonly clockRate = 8000;
  readonly sampleRate = 8000;
  readonly name: 'PCMU' | 'PCMA';
  readonly payloadType: number;
  constructor(name: 'PCMU' | 'PCMA') {
    this.name = name;
    this.payloadType = name === 'PCMU' ? PT_PCMU : PT_PCMA;
  }
  encode(f: Int16Array): Uint8Array { return this.name === 'PCMU' ? encodeUlaw(f) : encodeAlaw(f); }
  decode(p: Uint8Array): Int16Array { return this.name === 'PCMU' ? decodeUlaw(p) : decodeAlaw(p); }
  frameSamples(ptimeMs: number): number { return (8000 * ptimeMs) / 1000; }
  close(): void { /* stateless */ }
}

class OpusCodec implements Codec {
  readonly name = 'opus';
  readonly clockRate = 48000;
  readonly payloadType: number;
  readonly sampleRate: number;
  readonly #enc: OpusScript;
  readonly #dec: OpusScript;

  constructor(payloadType: number, sampleRate: 8000 | 16000 | 48000, bitrate: number) {
    this.payloadType = payloadType;
    this.sampleRate = sampleRate;
    this.#enc = new OpusScript(sampleRate, 1, OpusScript.Application.VOIP);
    this.#dec = new OpusScript(sampleRate, 1, OpusScript.Application.VOIP);
    this.#enc.setBitrate(bitrate);
  }
  encode(f: Int16Array): Uint8Array {
    return new Uint8Array(this.#enc.encode(Buffer.from(f.buffer, f.byteOffset, f.byteLength), f.length));
  }
  decode(p: Uint8Array): Int16Array {
    const b = this.#dec.decode(Buffer.from(p));
    return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }
  frameSamples(ptimeMs: number): number { return (this.sampleRate * ptimeMs) / 1000; }
  close(): void { this.#enc.delete(); this.#dec.delete(); }
}

export interface CodecOptions {
  /** Dynamic payload type for Opus. @default 111 */
  payloadType?: number;
  /** PCM rate for Opus (the RTP clock stays 48 kHz). @default 16000 */
  sampleRate?: 8000 | 16000 | 48000;
  /** @default 24000 */
  bitrate?: number;
}

export function createCodec(name: string, o: CodecOptions = {}): Codec {
  switch (name.toUpperCase()) {
    case 'PCMU': return new G711Codec('PCMU');
    case 'PCMA': return new G711Codec('PCMA');
    case 'OPUS': return new OpusCodec(o.payloadType ?? 111, o.sampleRate ?? 16000, o.bitrate ?? 24000);
    default: throw new VigilError('VIGIL_E_REQUEST_INVALID', `codec ${name} is not supported`, { field: 'codec', fix: 'use PCMU, PCMA or opus' });
  }
}
