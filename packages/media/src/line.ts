/**
 * Speech edges of audio as a call carries it: through the call's codec and between a second of silence on
 * each side, as the far end decodes it. The VAD takes its noise floor from the window it looks at and G.711
 * quantisation stretches a fading tail, so a clip analysed alone and uncoded can end tens of ms early; both
 * the probe (for what the caller says) and the reference contact center (for its ground truth) use this one
 * definition, so their edges agree.
 */
import { createCodec } from './codecs.ts';
import { detectSpeech } from './vad.ts';
import type { PcmAudio } from './wav.ts';

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
