/** WAV (RIFF) reading and writing for 16-bit PCM, mono or stereo; other formats are refused by name. */
import { VigilError } from '@vigil/errors';

export interface PcmAudio {
  sampleRate: number;
  channels: number;
  /** Interleaved when channels > 1. */
  samples: Int16Array;
}

export function readWav(buf: Uint8Array, name = 'audio.wav'): PcmAudio {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const bad = (why: string) => new VigilError('VIGIL_E_REQUEST_INVALID', `${name}: ${why}`, { field: name, fix: 'convert to 16-bit PCM WAV, e.g. sox in.wav -b 16 -e signed-integer out.wav' });
  if (b.length < 12 || b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw bad('not a RIFF/WAVE file');
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      fmt = { format: b.readUInt16LE(body), channels: b.readUInt16LE(body + 2), rate: b.readUInt32LE(body + 4), bits: b.readUInt16LE(body + 14) };
      if (fmt.format === 0xfffe && size >= 26) fmt.format = b.readUInt16LE(body + 24);
    } else if (id === 'data') {
      if (!fmt) throw bad('data chunk before fmt chunk');
      if (fmt.format !== 1 || fmt.bits !== 16) throw bad(`format ${fmt.format}/${fmt.bits}-bit is not 16-bit PCM`);
      const len = Math.min(size, b.length - body) & ~1;
      const samples = new Int16Array(len / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = b.readInt16LE(body + i * 2);
      return { sampleRate: fmt.rate, channels: fmt.channels, samples };
    }
    off = body + size + (size & 1);
  }
  throw bad('no data chunk');
}

export function writeWav(a: PcmAudio): Buffer {
  const data = a.samples.length * 2;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(a.channels, 22);
  b.writeUInt32LE(a.sampleRate, 24);
  b.writeUInt32LE(a.sampleRate * a.channels * 2, 28);
  b.writeUInt16LE(a.channels * 2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(data, 40);
  for (let i = 0; i < a.samples.length; i++) b.writeInt16LE(a.samples[i]!, 44 + i * 2);
  return b;
}

/** Interleaves two mono tracks into stereo (left, right); the shorter one is padded with silence. */
export function interleave(left: Int16Array, right: Int16Array): Int16Array {
  const n = Math.max(left.length, right.length);
  const out = new Int16Array(n * 2);
  for (let i = 0; i < n; i++) { out[2 * i] = left[i] ?? 0; out[2 * i + 1] = right[i] ?? 0; }
  return out;
}
