/**
 * Call recording: one stereo WAV per call (caller on the left, bot on the right, both on the probe's clock)
 * and the call's event timeline, each hashed (sha256) so the evidence record can name them.
 */
import { createHash } from 'node:crypto';
import { interleave, writeWav } from './wav.ts';

export interface TimelineEvent { atMs: number; kind: string; detail?: Record<string, unknown> }

export interface CallRecording {
  wav: Buffer;
  timeline: Buffer;
  artifacts: Array<{ name: string; sha256: string; bytes: number; mediaType: string }>;
}

export class CallRecorder {
  readonly sampleRate: number;
  #caller = new Int16Array(0);
  #bot = new Int16Array(0);
  #callerLen = 0;
  #botLen = 0;
  readonly #events: TimelineEvent[] = [];

  constructor(sampleRate = 8000) {
    this.sampleRate = sampleRate;
  }

  #place(track: 'caller' | 'bot', atMs: number, pcm: Int16Array): void {
    const at = Math.max(0, Math.round((atMs * this.sampleRate) / 1000));
    const need = at + pcm.length;
    let buf = track === 'caller' ? this.#caller : this.#bot;
    if (need > buf.length) {
      const grown = new Int16Array(Math.max(need, buf.length * 2, this.sampleRate));
      grown.set(buf);
      buf = grown;
    }
    buf.set(pcm, at);
    if (track === 'caller') { this.#caller = buf; this.#callerLen = Math.max(this.#callerLen, need); }
    else { this.#bot = buf; this.#botLen = Math.max(this.#botLen, need); }
  }

  /** Audio the probe sent, at the local time its first sample left. */
  caller(atMs: number, pcm: Int16Array): void { this.#place('caller', atMs, pcm); }
  /** Audio received from the bot, at the local time its first sample was heard. */
  bot(atMs: number, pcm: Int16Array): void { this.#place('bot', atMs, pcm); }
  event(atMs: number, kind: string, detail?: Record<string, unknown>): void { this.#events.push(detail ? { atMs, kind, detail } : { atMs, kind }); }

  finish(name = 'call'): CallRecording {
    const wav = writeWav({ sampleRate: this.sampleRate, channels: 2, samples: interleave(this.#caller.subarray(0, this.#callerLen), this.#bot.subarray(0, this.#botLen)) });
    const timeline = Buffer.from(JSON.stringify({ version: 1, sampleRate: this.sampleRate, channels: { left: 'caller', right: 'bot' }, events: [...this.#events].sort((a, b) => a.atMs - b.atMs) }, null, 2));
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    return {
      wav, timeline,
      artifacts: [
        { name: `${name}.wav`, sha256: sha(wav), bytes: wav.length, mediaType: 'audio/wav' },
        { name: `${name}.timeline.json`, sha256: sha(timeline), bytes: timeline.length, mediaType: 'application/json' },
      ],
    };
  }
}
