/**
 * Band-limited resampling (windowed sinc, Blackman window, 32 zero crossings): any rate to any rate, with the
 * cutoff at the lower Nyquist frequency so downsampling does not alias. Offline and exact enough for ASR input
 * (8 kHz telephone audio → 16 kHz) and for analysis at a common rate.
 */
const HALF_WIDTH = 16;

export function resample(input: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return input.slice();
  const ratio = toRate / fromRate;
  const cutoff = Math.min(1, ratio); // relative to the input Nyquist
  const outLen = Math.floor(input.length * ratio);
  const out = new Int16Array(outLen);
  const width = Math.ceil(HALF_WIDTH / cutoff);
  for (let j = 0; j < outLen; j++) {
    const center = j / ratio;
    const lo = Math.max(0, Math.ceil(center - width));
    const hi = Math.min(input.length - 1, Math.floor(center + width));
    let acc = 0;
    let norm = 0;
    for (let i = lo; i <= hi; i++) {
      const x = (i - center) * cutoff;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const w = (i - center) / width; // -1..1
      const win = 0.42 + 0.5 * Math.cos(Math.PI * w) + 0.08 * Math.cos(2 * Math.PI * w);
      const k = sinc * win;
      acc += input[i]! * k;
      norm += k;
    }
    const v = norm !== 0 ? acc / norm : 0;
    out[j] = v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
  }
  return out;
}
