/**
 * DTMF three ways: RFC 4733 telephone-event payloads (send and receive), tone generation, and in-band
 * detection of the far end's tones with the Goertzel algorithm (8 kHz, 205-sample blocks, 50 % overlap),
 * with energy, twist and harmonic checks so speech does not trigger it.
 */
import { VigilError } from '@vigil/errors';

export const DTMF_DIGITS = '0123456789*#ABCD';
const ROWS = [697, 770, 852, 941];
const COLS = [1209, 1336, 1477, 1633];
const KEYPAD = ['123A', '456B', '789C', '*0#D'];

export function digitFrequencies(digit: string): [number, number] {
  for (let r = 0; r < 4; r++) {
    const c = KEYPAD[r]!.indexOf(digit.toUpperCase());
    if (c >= 0) return [ROWS[r]!, COLS[c]!];
  }
  throw new VigilError('VIGIL_E_REQUEST_INVALID', `"${digit}" is not a DTMF digit`, { field: 'dtmf', fix: `use one of ${DTMF_DIGITS}` });
}

/** RFC 4733 event codes: 0–9 digits, 10 '*', 11 '#', 12–15 A–D. */
export function digitToEvent(d: string): number {
  const i = DTMF_DIGITS.indexOf(d.toUpperCase());
  if (i < 0) throw new VigilError('VIGIL_E_REQUEST_INVALID', `"${d}" is not a DTMF digit`, { field: 'dtmf', fix: `use one of ${DTMF_DIGITS}` });
  return i;
}

export function eventToDigit(e: number): string | undefined {
  return e >= 0 && e < 16 ? DTMF_DIGITS[e] : undefined;
}

export interface TelephoneEvent { event: number; end: boolean; volume: number; duration: number }

export function encodeTelephoneEvent(e: TelephoneEvent): Uint8Array {
  return Uint8Array.of(e.event, (e.end ? 0x80 : 0) | (e.volume & 0x3f), (e.duration >> 8) & 0xff, e.duration & 0xff);
}

export function decodeTelephoneEvent(p: Uint8Array): TelephoneEvent {
  if (p.length < 4) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'telephone-event payload shorter than 4 bytes', { field: 'rtp.payload' });
  return { event: p[0]!, end: (p[1]! & 0x80) !== 0, volume: p[1]! & 0x3f, duration: (p[2]! << 8) | p[3]! };
}

export interface EventPacketPlan { marker: boolean; timestampOffset: number; payload: Uint8Array; atMs: number }

/**
 * The packets RFC 4733 §2.5 asks for one digit: all share the event's start timestamp; the first has the
 * marker bit; one per ptime with growing duration; the final one (E bit) is sent three times.
 */
export function planDigit(digit: string, durationMs: number, clockRate = 8000, ptimeMs = 20, volume = 10): EventPacketPlan[] {
  const event = digitToEvent(digit);
  const out: EventPacketPlan[] = [];
  const steps = Math.max(1, Math.round(durationMs / ptimeMs));
  for (let i = 1; i <= steps; i++) {
    const duration = Math.min(0xffff, Math.round((i * ptimeMs * clockRate) / 1000));
    const end = i === steps;
    const p = encodeTelephoneEvent({ event, end, volume, duration });
    for (let k = 0; k < (end ? 3 : 1); k++) out.push({ marker: i === 1 && k === 0, timestampOffset: 0, payload: p, atMs: (i - 1) * ptimeMs });
  }
  return out;
}

/**
 * Receives telephone-event payloads and reports each digit once, keyed by the event's RTP timestamp and code
 * (some senders restart every event at the same timestamp); a marker bit starts a new event.
 */
export class TelephoneEventReceiver {
  readonly #seen = new Map<string, { digit: string; ended: boolean; lastDuration: number }>();
  /** `endSentSamples`: when the end packet was sent, from the event's start (its duration less the last step). */
  readonly digits: Array<{ digit: string; timestamp: number; durationSamples: number; endSentSamples: number }> = [];

  /** Returns the digit when this packet completes it (E bit), once. */
  push(timestamp: number, payload: Uint8Array, marker = false): string | undefined {
    const e = decodeTelephoneEvent(payload);
    const digit = eventToDigit(e.event);
    if (!digit) return undefined;
    const key = `${timestamp}:${e.event}`;
    if (marker) this.#seen.delete(key);
    let s = this.#seen.get(key);
    if (!s) { s = { digit, ended: false, lastDuration: 0 }; this.#seen.set(key, s); if (this.#seen.size > 256) this.#seen.delete(this.#seen.keys().next().value as string); }
    if (e.end && !s.ended) {
      s.ended = true;
      // Packets go out as the event progresses, each saying how long it has lasted: the end packet left one
      // step (the packet interval) before the duration it reports, like the packet before it.
      this.digits.push({ digit, timestamp, durationSamples: e.duration, endSentSamples: s.lastDuration > 0 && s.lastDuration < e.duration ? s.lastDuration : 0 });
      return digit;
    }
    if (!e.end) s.lastDuration = Math.max(s.lastDuration, e.duration);
    return undefined;
  }
}

/** Generates a dual tone for a digit: each component at `levelDbfs` (default -10 dBFS). */
export function dtmfTone(digit: string, durationMs: number, sampleRate = 8000, levelDbfs = -10): Int16Array {
  const [f1, f2] = digitFrequencies(digit);
  const n = Math.round((durationMs * sampleRate) / 1000);
  const amp = 32767 * 10 ** (levelDbfs / 20);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * (Math.sin((2 * Math.PI * f1 * i) / sampleRate) + Math.sin((2 * Math.PI * f2 * i) / sampleRate)));
  return out;
}

const BLOCK = 205;
const HOP = 102;
const MIN_ENERGY = 2e6; // per-block power floor: about -45 dBFS tones
const TWIST_NORMAL_DB = 8; // column (high) weaker than row
const TWIST_REVERSE_DB = 6;
const RELATIVE_PEAK_DB = 8; // winner vs the other tones of its group
const TONE_SHARE = 0.75; // the two tones carry this share of the block energy: a tone must fill most of the block

function goertzel(x: Float64Array, freq: number, rate: number): number {
  const k = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0, s2 = 0;
  for (let i = 0; i < x.length; i++) { const s = x[i]! + k * s1 - s2; s2 = s1; s1 = s; }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

export interface DetectedDigit { digit: string; startSample: number; endSample: number }

/**
 * Detects DTMF digits in 8 kHz PCM. A digit is reported when two consecutive blocks (about 38 ms) agree,
 * and ends after two blocks without it. Resample other rates to 8 kHz first.
 */
export function detectDtmf(pcm: Int16Array, sampleRate = 8000): DetectedDigit[] {
  if (sampleRate !== 8000) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'in-band DTMF detection runs on 8 kHz audio', { field: 'sampleRate', fix: 'resample to 8000 Hz first' });
  const out: DetectedDigit[] = [];
  const block = new Float64Array(BLOCK);
  let current: string | null = null;
  let candidate: string | null = null;
  let agree = 0;
  let misses = 0;
  let start = 0;
  let lastHit = 0;
  for (let pos = 0; pos + BLOCK <= pcm.length; pos += HOP) {
    let energy = 0;
    for (let i = 0; i < BLOCK; i++) { const v = pcm[pos + i]!; block[i] = v; energy += v * v; }
    let hit: string | null = null;
    if (energy > 0) {
      const rows = ROWS.map((f) => goertzel(block, f, 8000));
      const cols = COLS.map((f) => goertzel(block, f, 8000));
      const r = rows.indexOf(Math.max(...rows));
      const c = cols.indexOf(Math.max(...cols));
      const rp = rows[r]!, cp = cols[c]!;
      // Goertzel power of a pure tone of amplitude A over N samples is (A N / 2)^2; its share of the block's
      // energy (sum x^2 = A^2 N / 2) is therefore (rp + cp) * 2 / (N * energy).
      const share = ((rp + cp) * 2) / (BLOCK * energy);
      const twistDb = 10 * Math.log10(cp / rp);
      const otherRows = rows.filter((_, i) => i !== r), otherCols = cols.filter((_, i) => i !== c);
      const peakOk = otherRows.every((p) => 10 * Math.log10(rp / Math.max(p, 1e-9)) >= RELATIVE_PEAK_DB) && otherCols.every((p) => 10 * Math.log10(cp / Math.max(p, 1e-9)) >= RELATIVE_PEAK_DB);
      if (rp + cp > MIN_ENERGY * BLOCK && share >= TONE_SHARE && twistDb > -TWIST_NORMAL_DB && twistDb < TWIST_REVERSE_DB && peakOk) hit = KEYPAD[r]![c]!;
    }
    if (hit && hit === candidate) agree++;
    else { candidate = hit; agree = hit ? 1 : 0; }
    if (current === null) {
      if (hit && agree >= 2) { current = hit; start = pos - HOP; lastHit = pos + BLOCK; misses = 0; }
    } else if (hit === current) {
      misses = 0;
      lastHit = pos + BLOCK;
    } else if (++misses >= 2 || (hit && agree >= 2)) {
      out.push({ digit: current, startSample: Math.max(0, start), endSample: lastHit });
      current = null;
      if (hit && agree >= 2) { current = hit; start = pos - HOP; lastHit = pos + BLOCK; misses = 0; }
    }
  }
  if (current !== null) out.push({ digit: current, startSample: Math.max(0, start), endSample: lastHit });
  return out;
}
