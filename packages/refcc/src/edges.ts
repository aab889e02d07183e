/**
 * Speech edges of audio the center sends, as the line carries it: through G.711 and between a second of
 * silence on each side — the same definition Vigil uses for the caller's speech, so truth and measurement
 * agree on where speech starts and ends (VAD v1 takes its noise floor from the window it looks at).
 */
import { createCodec, detectSpeech, type PcmAudio } from '@vigil/media';

export function lineSpeech(audio: PcmAudio, codecName = 'PCMU'): Array<{ startMs: number; endMs: number }> {
  const pad = audio.sampleRate;
  const padded = new Int16Array(audio.samples.length + 2 * pad);
  const codec = createCodec(codecName);
  const n = codec.frameSamples(20);
  for (let i = 0; i < audio.samples.length; i += n) {
    const frame = new Int16Array(n);
    frame.set(audio.samples.subarray(i, i + n));
    padded.set(codec.decode(codec.encode(frame)).subarray(0, Math.min(n, audio.samples.length - i)), pad + i);
  }
  codec.close();
  return detectSpeech(padded, audio.sampleRate).map((g) => ({ startMs: g.startMs - 1000, endMs: g.endMs - 1000 }));
}
