/**
 * An LLM judge: a rubric and the conversation go to any OpenAI-compatible endpoint (the `openai` SDK, temperature
 * 0, structured output), `samples` times; the verdict is the majority of the samples that answered in shape, and
 * pass^k says whether every sample passed. A judge that cannot be reached, or answers out of shape every time,
 * gives `inconclusive` — never `pass`. Outcomes are cached by a hash of everything that decides them (model,
 * prompt version, rubric, conversation), and carry their evidence: model id, prompt hash, raw responses.
 */
import { createHash } from 'node:crypto';
import type OpenAI from 'openai';
import { llmClient, parseJsonAnswer } from './llm.ts';
import { VigilError } from '@vigil/errors';

export const JUDGE_PROMPT_VERSION = 1;
export const JUDGE_SYSTEM_PROMPT = [
  'You are a strict quality reviewer of a customer-service conversation between a caller and a bot.',
  'Judge what the request names (the LAST bot reply, in the context of the conversation, or the WHOLE conversation) against the rubric.',
  'Answer with JSON only: {"verdict": "pass" | "fail", "score": <0..1, how well the reply meets the rubric>, "rationale": "<one or two sentences>"}.',
  'If the rubric does not apply to the reply, judge whether the reply breaks it.',
].join('\n');

const RESPONSE_SCHEMA = {
  type: 'object', additionalProperties: false, required: ['verdict', 'score', 'rationale'],
  properties: { verdict: { type: 'string', enum: ['pass', 'fail'] }, score: { type: 'number', minimum: 0, maximum: 1 }, rationale: { type: 'string' } },
} as const;

export interface JudgeConfig {
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Samples per judgement (majority vote). @default 3 */
  samples?: number;
  timeoutMs?: number;
  /** Shared across judgements of a process; by default one per judge; false: ask every time. */
  cache?: Map<string, JudgeOutcome> | false;
}

export interface JudgeInput {
  rubric: string;
  /** The conversation so far; the last bot turn is the reply judged. */
  conversation: Array<{ speaker: 'caller' | 'bot'; text: string }>;
  /** What is judged. @default 'last_reply' */
  scope?: 'last_reply' | 'conversation';
}

export interface JudgeSample {
  verdict: 'pass' | 'fail' | null;
  score: number | null;
  rationale: string;
  /** The endpoint's answer as it came (or the error). */
  raw: string;
}

export interface JudgeOutcome {
  verdict: 'pass' | 'fail' | 'inconclusive';
  /** Mean score of the samples in shape; null when none was. */
  score: number | null;
  rationale: string;
  /** Every sample passed (pass^k over k samples). */
  passAll: boolean;
  votes: { pass: number; fail: number; invalid: number };
  model: string;
  promptVersion: number;
  /** sha256 of the system prompt and the user message sent (the same judgement has the same hash). */
  promptSha256: string;
  samples: JudgeSample[];
  cached: boolean;
}

function parseSample(content: string): JudgeSample {
  try {
    const j = parseJsonAnswer(content) as { verdict?: unknown; score?: unknown; rationale?: unknown };
    const verdict = j.verdict === 'pass' || j.verdict === 'fail' ? j.verdict : null;
    const score = typeof j.score === 'number' && j.score >= 0 && j.score <= 1 ? j.score : null;
    return { verdict, score: verdict ? score : null, rationale: typeof j.rationale === 'string' ? j.rationale : '', raw: content };
  } catch {
    return { verdict: null, score: null, rationale: '', raw: content };
  }
}

export class LlmJudge {
  readonly #client: OpenAI;
  readonly #cfg: Required<Omit<JudgeConfig, 'apiKey' | 'cache'>>;
  readonly #cache: Map<string, JudgeOutcome> | undefined;

  constructor(cfg: JudgeConfig) {
    this.#cfg = { baseUrl: cfg.baseUrl, model: cfg.model, samples: cfg.samples ?? 3, timeoutMs: cfg.timeoutMs ?? 30_000 };
    this.#client = llmClient({ baseUrl: cfg.baseUrl, ...(cfg.apiKey ? { apiKey: cfg.apiKey } : {}), timeoutMs: this.#cfg.timeoutMs });
    this.#cache = cfg.cache === false ? undefined : cfg.cache ?? new Map();
  }

  get model(): string { return this.#cfg.model; }

  async judge(input: JudgeInput, o: { samples?: number; signal?: AbortSignal } = {}): Promise<JudgeOutcome> {
    const k = Math.max(1, Math.min(15, o.samples ?? this.#cfg.samples));
    const user = [
      `RUBRIC:\n${input.rubric.trim()}`,
      `CONVERSATION:\n${input.conversation.map((t) => `${t.speaker === 'caller' ? 'CALLER' : 'BOT'}: ${t.text}`).join('\n')}`,
      input.scope === 'conversation' ? 'Judge the WHOLE conversation.' : 'Judge the last BOT reply.',
    ].join('\n\n');
    const promptSha256 = createHash('sha256').update(`${JUDGE_SYSTEM_PROMPT}\n\n${user}`).digest('hex');
    const key = createHash('sha256').update(JSON.stringify([this.#cfg.baseUrl, this.#cfg.model, JUDGE_PROMPT_VERSION, promptSha256, k])).digest('hex');
    const hit = this.#cache?.get(key);
    if (hit) return { ...hit, cached: true };

    const samples: JudgeSample[] = [];
    let unreachable = 0;
    for (let i = 0; i < k; i++) {
      try {
        const r = await this.#client.chat.completions.create({
          model: this.#cfg.model, temperature: 0, seed: i,
          messages: [{ role: 'system', content: JUDGE_SYSTEM_PROMPT }, { role: 'user', content: user }],
          response_format: { type: 'json_schema', json_schema: { name: 'judge_verdict', strict: true, schema: RESPONSE_SCHEMA } },
        }, o.signal ? { signal: o.signal } : undefined);
        samples.push(parseSample(r.choices[0]?.message?.content ?? ''));
      } catch (e) {
        if (o.signal?.aborted) throw e;
        unreachable++;
        samples.push({ verdict: null, score: null, rationale: '', raw: `error: ${(e as Error).message}` });
      }
    }
    const votes = { pass: samples.filter((s) => s.verdict === 'pass').length, fail: samples.filter((s) => s.verdict === 'fail').length, invalid: samples.filter((s) => s.verdict === null).length };
    const scored = samples.filter((s) => s.score !== null);
    const verdict = votes.pass > votes.fail ? 'pass' : votes.fail > votes.pass ? 'fail' : 'inconclusive';
    const lead = samples.find((s) => s.verdict === verdict);
    const outcome: JudgeOutcome = {
      verdict,
      score: scored.length ? scored.reduce((a, s) => a + s.score!, 0) / scored.length : null,
      rationale: verdict === 'inconclusive'
        ? (unreachable === k ? `the judge at ${this.#cfg.baseUrl} could not be reached` : votes.invalid === k ? 'the judge never answered in the verdict format' : `the samples split ${votes.pass}–${votes.fail}`)
        : lead?.rationale ?? '',
      passAll: votes.pass === k,
      votes, model: this.#cfg.model, promptVersion: JUDGE_PROMPT_VERSION, promptSha256, samples, cached: false,
    };
    // An unreachable judge is not remembered: the next run asks again.
    if (unreachable === 0) this.#cache?.set(key, outcome);
    return outcome;
  }
}

/**
 * The judge a probe (or `vigil run`) uses for `judge` assertions, from its environment: VIGIL_JUDGE_BASE_URL and
 * VIGIL_JUDGE_MODEL (both, or no judge), VIGIL_JUDGE_API_KEY, VIGIL_JUDGE_SAMPLES, VIGIL_JUDGE_CACHE=off (ask again
 * for every run instead of reusing the verdict on identical content; one cache per process otherwise).
 */
export function judgeFromEnv(env: NodeJS.ProcessEnv = process.env): ((input: JudgeInput, o: { samples?: number; signal: AbortSignal }) => Promise<{ verdict: JudgeOutcome['verdict']; score: number | null; rationale: string; evidence: unknown }>) | undefined {
  const baseUrl = env.VIGIL_JUDGE_BASE_URL;
  const model = env.VIGIL_JUDGE_MODEL;
  if (!baseUrl !== !model) throw new VigilError('VIGIL_E_CONFIG_INVALID', 'VIGIL_JUDGE_BASE_URL and VIGIL_JUDGE_MODEL go together', { field: baseUrl ? 'VIGIL_JUDGE_MODEL' : 'VIGIL_JUDGE_BASE_URL', fix: 'set both (an OpenAI-compatible endpoint and its model), or neither' });
  if (!baseUrl || !model) return undefined;
  const samples = env.VIGIL_JUDGE_SAMPLES;
  if (samples !== undefined && !(Number.isInteger(Number(samples)) && Number(samples) >= 1 && Number(samples) <= 15)) throw new VigilError('VIGIL_E_CONFIG_INVALID', `VIGIL_JUDGE_SAMPLES must be 1..15, got ${samples}`, { field: 'VIGIL_JUDGE_SAMPLES', fix: 'e.g. 3 (odd numbers avoid ties)' });
  if (env.VIGIL_JUDGE_CACHE !== undefined && env.VIGIL_JUDGE_CACHE !== 'on' && env.VIGIL_JUDGE_CACHE !== 'off') throw new VigilError('VIGIL_E_CONFIG_INVALID', `VIGIL_JUDGE_CACHE must be on or off, got ${env.VIGIL_JUDGE_CACHE}`, { field: 'VIGIL_JUDGE_CACHE', fix: 'off asks the judge again on every run' });
  const judge = new LlmJudge({ baseUrl, model, ...(env.VIGIL_JUDGE_API_KEY ? { apiKey: env.VIGIL_JUDGE_API_KEY } : {}), ...(env.VIGIL_JUDGE_SAMPLES ? { samples: Number(env.VIGIL_JUDGE_SAMPLES) } : {}), ...(env.VIGIL_JUDGE_CACHE === 'off' ? { cache: false as const } : {}) });
  return async (input, o) => {
    const r = await judge.judge(input, o);
    return {
      verdict: r.verdict, score: r.score, rationale: r.rationale,
      evidence: { judge: 'llm', model: r.model, promptVersion: r.promptVersion, promptSha256: r.promptSha256, votes: r.votes, passAll: r.passAll, cached: r.cached, samples: r.samples },
    };
  };
}
