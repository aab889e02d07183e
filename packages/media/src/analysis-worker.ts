// Worker side of AnalysisPool: runs VAD and level analysis off the RTP event loop.
import { parentPort } from 'node:worker_threads';
import { detectSpeech, levelStats, type VadOptions } from './vad.ts';

parentPort!.on('message', (m: { id: number; kind: 'speech' | 'levels'; pcm: Int16Array; sampleRate: number; options?: VadOptions }) => {
  try {
    const result = m.kind === 'speech' ? detectSpeech(m.pcm, m.sampleRate, m.options) : levelStats(m.pcm, m.sampleRate, m.options);
    parentPort!.postMessage({ id: m.id, result });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message });
  }
});
