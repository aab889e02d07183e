/**
 * The speech layer. A Synthesizer is the caller's voice (text → audio); a Transcriber hears the bot (audio →
 * text). Local engines come from Debian (flite, espeak-ng, pocketsphinx); any OpenAI-compatible endpoint works
 * for both directions. Audio crosses these interfaces as 16-bit PCM with its sample rate.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI, { toFile } from 'openai';
import { VigilError } from '@vigil/errors';
import { readWav, resample, writeWav, type PcmAudio } from '@vigil/media';
import { buildArpa } from './arpa.ts';
import { normaliseWords } from './normalise.ts';
import { wordErrorRate } from './wer.ts';

const run = promisify(execFile);

export interface Synthesizer {
  readonly name: string;
  synthesize(text: string, opts?: { sampleRate?: number; signal?: AbortSignal }): Promise<PcmAudio>;
}

export interface Transcript {
  text: string;
  /** With a phrase set: the expected phrase the audio matched, or null when it matched none (rejected). */
  matchedPhrase?: string | null;
  engine: string;
}

export interface Transcriber {
  readonly name: string;
  transcribe(audio: PcmAudio, opts?: { phrases?: string[]; signal?: AbortSignal }): Promise<Transcript>;
}

function toRate(a: PcmAudio, rate: number | undefined): PcmAudio {
  let mono = a.samples;
  if (a.channels > 1) { mono = new Int16Array(a.samples.length / a.channels); for (let i = 0; i < mono.length; i++) mono[i] = a.samples[i * a.channels]!; }
  if (!rate || rate === a.sampleRate) return { sampleRate: a.sampleRate, channels: 1, samples: mono };
  return { sampleRate: rate, channels: 1, samples: resample(mono, a.sampleRate, rate) };
}

function missingTool(tool: string, pkg: string, e: unknown): VigilError {
  return new VigilError('VIGIL_E_CONFIG_INVALID', `${tool} is not installed or failed: ${(e as Error).message}`, { field: tool, fix: `apt-get install ${pkg}`, cause: e });
}

async function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-speech-'));
  try { return await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

/** Debian `flite` (8 kHz CMU voice). */
export class FliteSynthesizer implements Synthesizer {
  readonly name = 'flite';
  readonly #voice: string | undefined;
  constructor(o: { voice?: string } = {}) { this.#voice = o.voice; }
  synthesize(text: string, o: { sampleRate?: number; signal?: AbortSignal } = {}): Promise<PcmAudio> {
    return withTmp(async (dir) => {
      const out = join(dir, 'out.wav');
      try {
        await run('flite', [...(this.#voice ? ['-voice', this.#voice] : []), '-t', text, '-o', out], { signal: o.signal });
      } catch (e) { throw missingTool('flite', 'flite', e); }
      return toRate(readWav(await readFile(out), 'flite output'), o.sampleRate);
    });
  }
}

/** Debian `espeak-ng` (22.05 kHz; formant voice `en-us+f3` at 130 words/min by default, the variant ASR engines follow best). */
export class EspeakSynthesizer implements Synthesizer {
  readonly name = 'espeak-ng';
  readonly #voice: string;
  readonly #speed: number;
  constructor(o: { voice?: string; speed?: number } = {}) { this.#voice = o.voice ?? 'en-us+f3'; this.#speed = o.speed ?? 130; }
  synthesize(text: string, o: { sampleRate?: number; signal?: AbortSignal } = {}): Promise<PcmAudio> {
    return withTmp(async (dir) => {
      const out = join(dir, 'out.wav');
      try {
        await run('espeak-ng', ['-v', this.#voice, '-s', String(this.#speed), '-w', out, '--', text], { signal: o.signal });
      } catch (e) { throw missingTool('espeak-ng', 'espeak-ng', e); }
      return toRate(readWav(await readFile(out), 'espeak-ng output'), o.sampleRate);
    });
  }
}

/** Pre-recorded prompts: text → WAV file (exact text match after normalisation). */
export class WavFileSynthesizer implements Synthesizer {
  readonly name = 'wav-files';
  readonly #files = new Map<string, string>();
  constructor(files: Record<string, string>) { for (const [t, f] of Object.entries(files)) this.#files.set(normaliseWords(t).join(' '), f); }
  async synthesize(text: string, o: { sampleRate?: number } = {}): Promise<PcmAudio> {
    const f = this.#files.get(normaliseWords(text).join(' '));
    if (!f) throw new VigilError('VIGIL_E_REQUEST_INVALID', `no recording for "${text}"`, { field: 'say', fix: 'add a WAV file for this text to the synthesizer\'s files' });
    return toRate(readWav(await readFile(f), f), o.sampleRate);
  }
}

export interface OpenAiSpeechOptions { baseURL: string; apiKey?: string; model: string; voice?: string; headers?: Record<string, string> }

/** Shared by the OpenAI-compatible engines: one client per endpoint, no SDK retries (we measure latency). */
abstract class OpenAiEngine {
  readonly name: string;
  protected readonly client: OpenAI;
  protected readonly options: OpenAiSpeechOptions;
  constructor(o: OpenAiSpeechOptions) {
    this.options = o;
    this.name = `openai:${o.model}`;
    this.client = new OpenAI({ baseURL: o.baseURL, apiKey: o.apiKey ?? 'no-key', defaultHeaders: o.headers, maxRetries: 0 });
  }
}

/** Any OpenAI-compatible `/audio/speech` endpoint (asks for WAV). */
export class OpenAiSynthesizer extends OpenAiEngine implements Synthesizer {
  async synthesize(text: string, o: { sampleRate?: number; signal?: AbortSignal } = {}): Promise<PcmAudio> {
    let res: Response;
    try {
      res = await this.client.audio.speech.create({ model: this.options.model, voice: (this.options.voice ?? 'alloy') as 'alloy', input: text, response_format: 'wav' }, { signal: o.signal });
    } catch (e) {
      throw new VigilError('VIGIL_E_CHANNEL_UNREACHABLE', `TTS endpoint ${this.options.baseURL} failed: ${(e as Error).message}`, { fix: 'check the TTS endpoint and model', cause: e });
    }
    return toRate(readWav(new Uint8Array(await res.arrayBuffer()), 'TTS response'), o.sampleRate);
  }
}

/** Any OpenAI-compatible `/audio/transcriptions` endpoint (whisper-1, gpt-4o-transcribe, self-hosted). */
export class OpenAiTranscriber extends OpenAiEngine implements Transcriber {
  async transcribe(audio: PcmAudio, o: { phrases?: string[]; signal?: AbortSignal } = {}): Promise<Transcript> {
    let text: string;
    try {
      const r = await this.client.audio.transcriptions.create({
        file: await toFile(writeWav(audio), 'audio.wav', { type: 'audio/wav' }), model: this.options.model,
        ...(o.phrases?.length ? { prompt: o.phrases.join('. ') } : {}),
      }, { signal: o.signal });
      text = r.text;
    } catch (e) {
      throw new VigilError('VIGIL_E_CHANNEL_UNREACHABLE', `transcription endpoint ${this.options.baseURL} failed: ${(e as Error).message}`, { fix: 'check the ASR endpoint and model', cause: e });
    }
    return { text, engine: this.name, ...(o.phrases ? { matchedPhrase: matchPhrase(text, o.phrases) } : {}) };
  }
}

/** The phrase a transcript says, or null: the best phrase by WER, accepted when its WER is at most maxWer. */
export function matchPhrase(text: string, phrases: readonly string[], maxWer = 0.25): string | null {
  let best: string | null = null;
  let bestRate = Infinity;
  for (const p of phrases) {
    const r = wordErrorRate(p, text).rate;
    if (r < bestRate) { bestRate = r; best = p; }
  }
  return bestRate <= maxWer ? best : null;
}

const PS_MODEL = '/usr/share/pocketsphinx/model/en-us';
let dictWords: Set<string> | undefined;
let dictLines: Map<string, string[]> | undefined;
function pocketsphinxDict(): Set<string> {
  dictWords ??= new Set(pronunciations().keys());
  return dictWords;
}
/** cmudict lines per word (alternates like "read(2)" kept under "read"). */
function pronunciations(): Map<string, string[]> {
  if (!dictLines) {
    dictLines = new Map();
    for (const l of readFileSync(`${PS_MODEL}/cmudict-en-us.dict`, 'utf8').split('\n')) {
      const w = l.split(' ')[0];
      if (!w) continue;
      const base = w.replace(/\(\d+\)$/, '');
      const list = dictLines.get(base) ?? [];
      list.push(l);
      dictLines.set(base, list);
    }
  }
  return dictLines;
}

/**
 * Debian pocketsphinx (CMU Sphinx, en-us), run with `pocketsphinx_batch` on 16 kHz audio (8 kHz input is
 * resampled). Open vocabulary by default; with a phrase set it decodes with a bigram LM built from the phrases,
 * which still allows any sequence of their words, then accepts the closest phrase only within maxWer.
 * `transcribeMany` decodes several utterances with one model load (about 2 s).
 */
export class PocketsphinxTranscriber implements Transcriber {
  readonly name = 'pocketsphinx';
  readonly #maxWer: number;
  constructor(o: { maxWer?: number } = {}) {
    this.#maxWer = o.maxWer ?? 0.25;
    if (!existsSync(`${PS_MODEL}/en-us`)) throw new VigilError('VIGIL_E_CONFIG_INVALID', 'pocketsphinx models are not installed', { field: 'transcriber', fix: 'apt-get install pocketsphinx pocketsphinx-en-us' });
  }

  async transcribe(audio: PcmAudio, o: { phrases?: string[]; signal?: AbortSignal } = {}): Promise<Transcript> {
    return (await this.transcribeMany([audio], o))[0]!;
  }

  transcribeMany(audios: PcmAudio[], o: { phrases?: string[]; signal?: AbortSignal } = {}): Promise<Transcript[]> {
    return withTmp(async (dir) => {
      const ids = audios.map((_, i) => `u${String(i).padStart(5, '0')}`);
      await Promise.all(audios.map((a, i) => {
        const s = toRate(a, 16000).samples;
        return writeFile(join(dir, `${ids[i]}.raw`), Buffer.from(s.buffer, s.byteOffset, s.byteLength));
      }));
      await writeFile(join(dir, 'ctl'), `${ids.join('\n')}\n`);
      const args = ['-adcin', 'yes', '-cepdir', dir, '-cepext', '.raw', '-ctl', join(dir, 'ctl'), '-hyp', join(dir, 'hyp'), '-hmm', `${PS_MODEL}/en-us`, '-dict', `${PS_MODEL}/cmudict-en-us.dict`, '-logfn', join(dir, 'log')];
      if (o.phrases?.length) {
        const dict = pocketsphinxDict();
        const phrases = o.phrases.map((p) => normaliseWords(p).filter((w) => dict.has(w))).filter((p) => p.length > 0);
        if (phrases.length === 0) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'none of the expected phrases has words pocketsphinx knows', { field: 'phrases', fix: 'use English words, or an OpenAI-compatible transcriber' });
        await writeFile(join(dir, 'phrases.lm'), buildArpa(phrases));
        // A dictionary of just the phrases' words: loading the full cmudict is most of a short decode's time.
        const pron = pronunciations();
        const words = [...new Set(phrases.flat())];
        await writeFile(join(dir, 'phrases.dict'), `${words.flatMap((w) => pron.get(w) ?? []).join('\n')}\n`);
        const di = args.indexOf('-dict');
        args[di + 1] = join(dir, 'phrases.dict');
        args.push('-lm', join(dir, 'phrases.lm'));
      } else {
        args.push('-lm', `${PS_MODEL}/en-us.lm.bin`);
      }
      try {
        await run('pocketsphinx_batch', args, { signal: o.signal, maxBuffer: 16 * 1024 * 1024 });
      } catch (e) { throw missingTool('pocketsphinx_batch', 'pocketsphinx pocketsphinx-en-us', e); }
      const hyps = new Map<string, string>();
      for (const line of (await readFile(join(dir, 'hyp'), 'utf8')).split('\n')) {
        const m = /^(.*?)\s*\((u\d+)(?:\s+-?\d+)?\)$/.exec(line.trim());
        if (m) hyps.set(m[2]!, m[1]!.trim());
      }
      return ids.map((id) => {
        const text = hyps.get(id) ?? '';
        return { text, engine: this.name, ...(o.phrases ? { matchedPhrase: matchPhrase(text, o.phrases!, this.#maxWer) } : {}) };
      });
    });
  }
}
