/**
 * A pool of worker threads for audio analysis (VAD, levels), so the thread that paces and receives RTP never
 * stalls on it. Buffers are transferred, not copied.
 */
import { Worker } from 'node:worker_threads';
import { cpus } from 'node:os';
import type { LevelStats, SpeechSegment, VadOptions } from './vad.ts';

export class AnalysisPool {
  readonly #workers: Worker[] = [];
  readonly #idle: Worker[] = [];
  readonly #queue: Array<() => void> = [];
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 0;

  constructor(size = Math.max(1, cpus().length - 1)) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./analysis-worker.ts', import.meta.url));
      w.on('message', (m: { id: number; result?: unknown; error?: string }) => {
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (m.error) p?.reject(new Error(m.error)); else p?.resolve(m.result);
        w.unref(); // an idle pool does not keep the process alive
        this.#release(w);
      });
      w.unref();
      this.#workers.push(w);
      this.#idle.push(w);
    }
  }

  #release(w: Worker): void {
    const next = this.#queue.shift();
    if (next) { this.#idle.push(w); next(); } else this.#idle.push(w);
  }

  #run<T>(kind: 'speech' | 'levels', pcm: Int16Array, sampleRate: number, options?: VadOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const go = () => {
        const w = this.#idle.pop()!;
        w.ref(); // a pending job does
        const id = this.#next++;
        this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        const copy = pcm.slice(); // the caller keeps its buffer; the copy is transferred
        w.postMessage({ id, kind, pcm: copy, sampleRate, options }, [copy.buffer]);
      };
      if (this.#idle.length) go(); else this.#queue.push(go);
    });
  }

  detectSpeech(pcm: Int16Array, sampleRate: number, options?: VadOptions): Promise<SpeechSegment[]> {
    return this.#run('speech', pcm, sampleRate, options);
  }

  levelStats(pcm: Int16Array, sampleRate: number, options?: VadOptions): Promise<LevelStats> {
    return this.#run('levels', pcm, sampleRate, options);
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
