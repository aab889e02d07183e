/**
 * Meaning-level checks on a reply.
 * - Semantic similarity: cosine of embeddings from any OpenAI-compatible `/embeddings` endpoint; without one, a
 *   clearly labelled lexical fallback (cosine of word-count vectors after lower-casing and light suffix
 *   stripping), which sees shared words, not meaning.
 * - Intent: which of a labelled set a reply (or the caller's turn) expresses, by LLM classification (JSON
 *   answer, temperature 0) or by a classifier endpoint (POST {text, labels} → {intent, confidence}).
 */
import type OpenAI from 'openai';
import { llmClient, parseJsonAnswer } from './llm.ts';
import { VigilError } from '@vigil/errors';

export const LEXICAL_SIMILARITY_VERSION = 1;

const stem = (w: string) => w.replace(/(ing|edly|edly|ed|es|s|ly)$/u, '') || w;
function bag(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const w of text.toLowerCase().normalize('NFKD').replace(/[^\p{L}\p{N}\s']/gu, ' ').split(/\s+/).filter(Boolean)) {
    const s = stem(w.replace(/'/g, ''));
    m.set(s, (m.get(s) ?? 0) + 1);
  }
  return m;
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i]! * b[i]!; na += a[i]! * a[i]!; nb += b[i]! * b[i]!; }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/** Lexical stand-in for semantic similarity (0..1): cosine of word-count vectors. */
export function lexicalSimilarity(a: string, b: string): number {
  const x = bag(a), y = bag(b);
  const words = [...new Set([...x.keys(), ...y.keys()])];
  return cosine(words.map((w) => x.get(w) ?? 0), words.map((w) => y.get(w) ?? 0));
}

export interface SimilarityResult { similarity: number; method: 'embeddings' | 'lexical-fallback'; model: string | null }

export class SemanticSimilarity {
  readonly #client: OpenAI | undefined;
  readonly #model: string | undefined;

  constructor(cfg?: { baseUrl: string; model: string; apiKey?: string }) {
    this.#client = cfg ? llmClient(cfg) : undefined;
    this.#model = cfg?.model;
  }

  /** What comparisons use: embeddings (with the model), or the lexical fallback. */
  get method(): { method: 'embeddings' | 'lexical-fallback'; model: string | null } {
    return this.#client && this.#model ? { method: 'embeddings', model: this.#model } : { method: 'lexical-fallback', model: null };
  }

  /** Embeds texts in batches (embeddings endpoint configured only). */
  async embed(texts: readonly string[], signal?: AbortSignal): Promise<number[][]> {
    if (!this.#client || !this.#model) throw new VigilError('VIGIL_E_CONFIG_INVALID', 'no embeddings endpoint is configured', { field: 'VIGIL_EMBEDDINGS_BASE_URL', fix: 'set VIGIL_EMBEDDINGS_BASE_URL and VIGIL_EMBEDDINGS_MODEL' });
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += 64) {
      const batch = texts.slice(i, i + 64);
      try {
        const r = await this.#client.embeddings.create({ model: this.#model, input: [...batch] }, signal ? { signal } : undefined);
        const vs = [...r.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
        if (vs.length !== batch.length || vs.some((v) => !Array.isArray(v) || v.length !== vs[0]!.length)) throw new Error('the endpoint returned no vector of equal length for every text');
        out.push(...vs);
      } catch (e) {
        if (signal?.aborted) throw e;
        throw new VigilError('VIGIL_E_LLM_UNAVAILABLE', `the embeddings endpoint did not answer: ${(e as Error).message}`, { field: 'VIGIL_EMBEDDINGS_BASE_URL', fix: 'check the endpoint and model, or unset it to use the lexical fallback' });
      }
    }
    return out;
  }

  async similarity(a: string, b: string, signal?: AbortSignal): Promise<SimilarityResult> {
    if (!this.#client || !this.#model) return { similarity: lexicalSimilarity(a, b), method: 'lexical-fallback', model: null };
    try {
      const r = await this.#client.embeddings.create({ model: this.#model, input: [a, b] }, signal ? { signal } : undefined);
      const [x, y] = [r.data[0]?.embedding, r.data[1]?.embedding];
      if (!x || !y || x.length !== y.length) throw new Error('the endpoint returned no pair of equal-length vectors');
      return { similarity: cosine(x, y), method: 'embeddings', model: this.#model };
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new VigilError('VIGIL_E_LLM_UNAVAILABLE', `the embeddings endpoint did not answer: ${(e as Error).message}`, { field: 'VIGIL_EMBEDDINGS_BASE_URL', fix: 'check the endpoint and model, or unset it to use the lexical fallback' });
    }
  }
}

export interface IntentResult { intent: string | null; confidence: number | null; method: 'llm' | 'classifier'; model: string | null; raw: string }

/** Classifies text into one of `labels` (name → description). */
export class IntentClassifier {
  readonly #llm: { client: OpenAI; model: string } | undefined;
  readonly #url: string | undefined;

  constructor(cfg: { llm?: { baseUrl: string; model: string; apiKey?: string }; classifierUrl?: string }) {
    this.#llm = cfg.llm ? { client: llmClient(cfg.llm), model: cfg.llm.model } : undefined;
    this.#url = cfg.classifierUrl;
  }

  async classify(text: string, labels: Record<string, string>, signal?: AbortSignal): Promise<IntentResult> {
    const names = Object.keys(labels);
    if (this.#url) {
      const res = await fetch(this.#url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text, labels: names }), ...(signal ? { signal } : {}) })
        .catch((e: Error) => { throw new VigilError('VIGIL_E_LLM_UNAVAILABLE', `the intent classifier did not answer: ${e.message}`, { field: 'VIGIL_INTENT_CLASSIFIER_URL', fix: 'check the classifier endpoint' }); });
      const raw = await res.text();
      let j: { intent?: unknown; confidence?: unknown } = {};
      try { j = JSON.parse(raw); } catch { /* out of shape: no intent */ }
      return { intent: typeof j.intent === 'string' && names.includes(j.intent) ? j.intent : null, confidence: typeof j.confidence === 'number' ? j.confidence : null, method: 'classifier', model: null, raw };
    }
    if (!this.#llm) throw new VigilError('VIGIL_E_CONFIG_INVALID', 'no intent classifier is configured', { field: 'VIGIL_INTENT_CLASSIFIER_URL', fix: 'set VIGIL_INTENT_CLASSIFIER_URL, or VIGIL_JUDGE_BASE_URL/_MODEL for LLM classification' });
    const system = `Classify the text into exactly one intent. Intents:\n${names.map((n) => `- ${n}: ${labels[n]}`).join('\n')}\nAnswer with JSON only: {"intent": "<one of ${names.join(', ')}>", "confidence": <0..1>}.`;
    let raw: string;
    try {
      const r = await this.#llm.client.chat.completions.create({
        model: this.#llm.model, temperature: 0, messages: [{ role: 'system', content: system }, { role: 'user', content: text }],
        response_format: { type: 'json_schema', json_schema: { name: 'intent', strict: true, schema: { type: 'object', additionalProperties: false, required: ['intent', 'confidence'], properties: { intent: { type: 'string', enum: names }, confidence: { type: 'number' } } } } },
      }, signal ? { signal } : undefined);
      raw = r.choices[0]?.message?.content ?? '';
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new VigilError('VIGIL_E_LLM_UNAVAILABLE', `the intent classifier did not answer: ${(e as Error).message}`, { field: 'VIGIL_JUDGE_BASE_URL', fix: 'check the endpoint, model and key' });
    }
    let j: { intent?: unknown; confidence?: unknown } = {};
    try { j = parseJsonAnswer(raw) as typeof j; } catch { /* out of shape */ }
    return { intent: typeof j.intent === 'string' && names.includes(j.intent) ? j.intent : null, confidence: typeof j.confidence === 'number' ? j.confidence : null, method: 'llm', model: this.#llm.model, raw };
  }
}

export interface SlotsResult { values: Record<string, string | null>; model: string; raw: string }

/** Entity/slot extraction by LLM: each named slot's value in the text, or null (JSON schema, temperature 0). */
export class SlotExtractor {
  readonly #client: OpenAI;
  readonly #model: string;

  constructor(cfg: { baseUrl: string; model: string; apiKey?: string }) {
    this.#client = llmClient(cfg);
    this.#model = cfg.model;
  }

  async extract(text: string, slots: Record<string, string>, signal?: AbortSignal): Promise<SlotsResult> {
    const names = Object.keys(slots);
    const system = `Extract these slots from the text; a slot the text does not state is null. Copy values as written.\n${names.map((n) => `- ${n}: ${slots[n]}`).join('\n')}\nAnswer with JSON only.`;
    let raw: string;
    try {
      const r = await this.#client.chat.completions.create({
        model: this.#model, temperature: 0, messages: [{ role: 'system', content: system }, { role: 'user', content: text }],
        response_format: { type: 'json_schema', json_schema: { name: 'slots', strict: true, schema: { type: 'object', additionalProperties: false, required: names, properties: Object.fromEntries(names.map((n) => [n, { type: ['string', 'null'] }])) } } },
      }, signal ? { signal } : undefined);
      raw = r.choices[0]?.message?.content ?? '';
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new VigilError('VIGIL_E_LLM_UNAVAILABLE', `the slot extractor did not answer: ${(e as Error).message}`, { field: 'VIGIL_JUDGE_BASE_URL', fix: 'check the endpoint, model and key' });
    }
    let j: Record<string, unknown> = {};
    try { j = parseJsonAnswer(raw) as Record<string, unknown>; } catch { /* out of shape: all null */ }
    return { values: Object.fromEntries(names.map((n) => [n, typeof j[n] === 'string' || typeof j[n] === 'number' ? String(j[n]) : null])), model: this.#model, raw };
  }
}
