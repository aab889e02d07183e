/**
 * Speech/silence segmentation with sample-accurate onsets and offsets, plus level, clipping, dead air and SNR.
 *
 * Method (version 2): 10 ms frames; the noise floor starts at the 5th percentile of frame energy and is tracked
 * as a slowly rising minimum; a frame is speech when its energy is `thresholdDb` above the floor (and above
 * `minSpeechDbfs`). A segment needs `minSpeechMs` of speech frames to open and `hangoverMs` of non-speech to
 * close, so pauses between words stay inside one utterance. Its edges are then refined to the sample: from the
 * segment's first and last speech frames outwards, the outermost samples above the segment threshold
 * (floor + thresholdDb) reached without crossing 20 ms below it. Version 1 refined within a fixed number of
 * frames, so a soft word tail (a fading "s") ended up to 15 ms apart depending on where the frame grid fell.
 */
export const VAD_VERSION = 2;
/** Sub-threshold stretches shorter than this inside an edge's tail stay in the segment. */
const EDGE_GAP_MS = 20;

export interface VadOptions {
  /** @default 15 */
  thresholdDb?: number;
  /** Absolute level below which nothing counts as speech. @default -55 */
  minSpeechDbfs?: number;
  /** @default 40 */
  minSpeechMs?: number;
  /** Silence that ends an utterance. @default 300 */
  hangoverMs?: number;
}

export interface SpeechSegment {
  startSample: number;
  /** Exclusive. */
  endSample: number;
  startMs: number;
  endMs: number;
  peakDbfs: number;
}

export interface LevelStats {
  rmsDbfs: number;
  peakDbfs: number;
  /** Samples at or beyond ±32767 (or -32768), as a fraction. */
  clippedFraction: number;
  noiseFloorDbfs: number;
  /** Speech level over noise floor, dB. */
  snrDb: number;
  speechMs: number;
  /** Longest stretch without speech, ms. */
  longestSilenceMs: number;
}

const db = (energyPerSample: number) => (energyPerSample <= 0 ? -120 : 10 * Math.log10(energyPerSample / (32768 * 32768)));

function frameEnergies(pcm: Int16Array, frame: number): Float64Array {
  const n = Math.floor(pcm.length / frame);
  const e = new Float64Array(n);
  for (let f = 0; f < n; f++) {
    let s = 0;
    for (let i = f * frame; i < (f + 1) * frame; i++) s += pcm[i]! * pcm[i]!;
    e[f] = s / frame;
  }
  return e;
}

/**
 * Noise floor per frame: minimum tracking with a slow rise (3 dB/s), so speech never drags it up quickly.
 * Frames of digital silence (below -100 dBFS: lost packets filled with zeros, muted streams) carry no
 * information about the line's noise and leave the floor where it was.
 */
const NO_SIGNAL_DB = -100;
function noiseFloor(energyDb: Float64Array, frameMs: number): Float64Array {
  const out = new Float64Array(energyDb.length);
  // Start from the 5th percentile of the whole input (digital silence counting as -100 dBFS), so a stream that
  // opens with speech still gets a floor below it.
  const sorted = Array.from(energyDb, (v) => Math.max(v, NO_SIGNAL_DB)).sort((a, b) => a - b);
  let floor = sorted.length ? sorted[Math.floor(sorted.length * 0.05)]! : NO_SIGNAL_DB;
  const rise = (3 * frameMs) / 1000;
  for (let i = 0; i < energyDb.length; i++) {
    const e = energyDb[i]!;
    if (e > NO_SIGNAL_DB) floor = e < floor ? e : floor + rise;
    out[i] = floor;
  }
  return out;
}

export function detectSpeech(pcm: Int16Array, sampleRate: number, o: VadOptions = {}): SpeechSegment[] {
  const thresholdDb = o.thresholdDb ?? 15;
  const minDbfs = o.minSpeechDbfs ?? -55;
  const frame = Math.round(sampleRate / 100);
  const frameMs = 10;
  const minFrames = Math.max(1, Math.round((o.minSpeechMs ?? 40) / frameMs));
  const hangFrames = Math.max(1, Math.round((o.hangoverMs ?? 300) / frameMs));
  const e = frameEnergies(pcm, frame);
  const edb = e.map(db);
  const floor = noiseFloor(edb, frameMs);
  const speech = edb.map((v, i) => (v > floor[i]! + thresholdDb && v > minDbfs ? 1 : 0));

  const segments: Array<[number, number, number]> = []; // [firstFrame, lastFrame, floorDb]
  let run = 0;
  let open = -1;
  let last = -1;
  let silence = 0;
  for (let i = 0; i < speech.length; i++) {
    if (speech[i]) {
      run++;
      silence = 0;
      last = i;
      if (open < 0 && run >= minFrames) open = i - run + 1;
    } else {
      run = 0;
      if (open >= 0 && ++silence >= hangFrames) { segments.push([open, last, floor[open]!]); open = -1; }
    }
  }
  if (open >= 0) segments.push([open, last, floor[open]!]);

  // Edges at the sample, independent of where the 10 ms frame grid falls (the same audio analysed from another
  // starting point must give the same edges): from the first (last) above-threshold sample of the first (last)
  // speech frame, walk outwards over sub-threshold gaps shorter than EDGE_GAP_MS; the edge is the outermost
  // above-threshold sample reached, never past the neighbouring segment.
  const gap = Math.max(1, Math.round((EDGE_GAP_MS * sampleRate) / 1000));
  return segments.map(([f0, f1, floorDb], k) => {
    const thrAmp = Math.max(32768 * 10 ** ((floorDb + thresholdDb) / 20), 32768 * 10 ** (minDbfs / 20));
    const loud = (i: number) => Math.abs(pcm[i]!) > thrAmp;
    const lower = k > 0 ? (segments[k - 1]![1] + 1) * frame : 0;
    const upper = k + 1 < segments.length ? segments[k + 1]![0] * frame : pcm.length;
    let start = f0 * frame;
    for (let i = f0 * frame; i < Math.min(pcm.length, (f0 + 1) * frame); i++) if (loud(i)) { start = i; break; }
    for (let i = start - 1; i >= lower && start - i <= gap; i--) if (loud(i)) start = i;
    let last = Math.min(pcm.length, (f1 + 1) * frame) - 1;
    for (let i = last; i >= f1 * frame; i--) if (loud(i)) { last = i; break; }
    for (let i = last + 1; i < upper && i - last <= gap; i++) if (loud(i)) last = i;
    const end = last + 1;
    let peak = 0;
    for (let i = start; i < end; i++) peak = Math.max(peak, Math.abs(pcm[i]!));
    return { startSample: start, endSample: end, startMs: (start * 1000) / sampleRate, endMs: (end * 1000) / sampleRate, peakDbfs: 20 * Math.log10(Math.max(peak, 1) / 32768) };
  });
}

export function levelStats(pcm: Int16Array, sampleRate: number, o: VadOptions = {}): LevelStats {
  let sum = 0, peak = 0, clipped = 0;
  for (let i = 0; i < pcm.length; i++) {
    const v = pcm[i]!;
    sum += v * v;
    const a = Math.abs(v);
    if (a > peak) peak = a;
    if (v >= 32767 || v <= -32768) clipped++;
  }
  const segs = detectSpeech(pcm, sampleRate, o);
  const frame = Math.round(sampleRate / 100);
  const edb = frameEnergies(pcm, frame).map(db);
  const floor = edb.length ? Math.min(...noiseFloor(edb, 10)) : -120;
  let speechEnergy = 0, speechN = 0, speechMs = 0;
  for (const s of segs) {
    for (let i = s.startSample; i < s.endSample; i++) speechEnergy += pcm[i]! * pcm[i]!;
    speechN += s.endSample - s.startSample;
    speechMs += s.endMs - s.startMs;
  }
  let longest = 0, prev = 0;
  for (const s of segs) { longest = Math.max(longest, s.startMs - prev); prev = s.endMs; }
  longest = Math.max(longest, (pcm.length * 1000) / sampleRate - prev);
  const speechDb = speechN ? db(speechEnergy / speechN) : -120;
  return {
    rmsDbfs: pcm.length ? db(sum / pcm.length) : -120, peakDbfs: 20 * Math.log10(Math.max(peak, 1) / 32768), clippedFraction: pcm.length ? clipped / pcm.length : 0,
    noiseFloorDbfs: floor, snrDb: speechN ? speechDb - floor : 0, speechMs, longestSilenceMs: longest,
  };
}
