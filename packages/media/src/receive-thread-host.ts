/**
 * RTP reception on its own thread: a worker owns the UDP socket and does the per-packet work, so the thread
 * that paces outgoing media (and runs journeys) never waits behind incoming packets. `collect()` returns each
 * stream's statistics and its audio rebuilt on the media clock (G.711 payloads), mapped to wall-clock time
 * (Unix ms) of its first sample.
 */
import { Worker } from 'node:worker_threads';
import type { ReceiveStats } from './receiver.ts';

export interface ReceivedTrack {
  ssrc: number;
  stats: ReceiveStats;
  pcm: Int16Array;
  gaps: Array<[number, number]>;
  /** Unix ms at which the track's first sample was (earliest) heard. */
  firstSampleLocalMs: number;
}

export class RtpReceiveThread {
  readonly port: number;
  readonly #w: Worker;

  private constructor(w: Worker, port: number) {
    this.#w = w;
    this.port = port;
  }

  static start(o: { host?: string; port?: number } = {}): Promise<RtpReceiveThread> {
    const w = new Worker(new URL('./receive-thread.ts', import.meta.url), { workerData: { host: o.host ?? '127.0.0.1', port: o.port ?? 0 } });
    return new Promise((resolve, reject) => {
      w.once('error', reject);
      w.once('message', (m: { type: string; port: number }) => resolve(new RtpReceiveThread(w, m.port)));
    });
  }

  collect(): Promise<{ tracks: ReceivedTrack[]; malformed: number; rtcp: number }> {
    return new Promise((resolve) => {
      const on = (m: { type: string; tracks: ReceivedTrack[]; malformed: number; rtcp: number }) => {
        if (m.type !== 'tracks') return;
        this.#w.off('message', on);
        resolve({ tracks: m.tracks, malformed: m.malformed, rtcp: m.rtcp });
      };
      this.#w.on('message', on);
      this.#w.postMessage({ type: 'collect' });
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#w.once('message', () => resolve());
      this.#w.postMessage({ type: 'close' });
    });
    await this.#w.terminate();
  }
}
