/**
 * Simulated callers: an LLM plays a persona with a goal, one caller turn at a time, against the bot under test.
 * Each turn asks any OpenAI-compatible endpoint for the caller's next line as JSON ({"say", "done"}), with the
 * run's seed (temperature 0.7 by default; an endpoint that honours `seed` repeats the same conversation).
 */
import { createHash } from 'node:crypto';
import type OpenAI from 'openai';
import { llmClient, parseJsonAnswer } from './llm.ts';
import { VigilError } from '@vigil/errors';

export const SIMULATOR_PROMPT_VERSION = 1;

export interface Persona {
  persona: string;
  goal: string;
  constraints: string[];
}

export interface SimulatorTurn {
  /** The caller's next line; null when the caller is done. */
  say: string | null;
  done: boolean;
  /** The endpoint's answer as it came. */
  raw: string;
}

const SCHEMA = {
  type: 'object', additionalProperties: false, required: ['say', 'done'],
  properties: { say: { type: ['string', 'null'] }, done: { type: 'boolean' } },
} as const;

export function simulatorSystemPrompt(p: Persona): string {
  return [
    'You play a CALLER talking to a customer-service bot. Stay in character; never say you are an AI.',
    `PERSONA: ${p.persona}`,
    `GOAL: ${p.goal}`,
    ...(p.constraints.length ? [`CONSTRAINTS:\n${p.constraints.map((c) => `- ${c}`).join('\n')}`] : []),
    'Write only the caller\'s next line, short and natural, as JSON {"say": "<line>", "done": false}.',
    'When the goal is reached, or it clearly cannot be, answer {"say": null, "done": true}.',
  ].join('\n');
}

export class CallerSimulator {
  readonly #client: OpenAI;
  readonly model: string;
  readonly #temperature: number;

  constructor(cfg: { baseUrl: string; model: string; apiKey?: string; temperature?: number; timeoutMs?: number }) {
    this.#client = llmClient(cfg);
    this.model = cfg.model;
    this.#temperature = cfg.temperature ?? 0.7;
  }

  /** The caller's next turn given the conversation so far (bot lines are what the caller heard). */
  async next(p: Persona, conversation: Array<{ speaker: 'caller' | 'bot'; text: string }>, o: { seed: number; signal?: AbortSignal }): Promise<SimulatorTurn> {
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      { role: 'system', content: simulatorSystemPrompt(p) },
      // From the simulator's side the bot is the "user" and the caller is the assistant it plays.
      ...conversation.map((t): OpenAI.Chat.Completions.ChatCompletionMessageParam => (t.speaker === 'bot' ? { role: 'user', content: t.text } : { role: 'assistant', content: JSON.stringify({ say: t.text, done: false }) })),
    ];
    if (conversation.length === 0) messages.push({ role: 'user', content: '(the call is connected; you speak first)' });
    let content: string;
    try {
      const r = await this.#client.chat.completions.create({
        model: this.model, temperature: this.#temperature, seed: o.seed, messages,
        response_format: { type: 'json_schema', json_schema: { name: 'caller_turn', strict: true, schema: SCHEMA } },
      }, o.signal ? { signal: o.signal } : undefined);
      content = r.choices[0]?.message?.content ?? '';
    } catch (e) {
      if (o.signal?.aborted) throw e;
      throw new VigilError('VIGIL_E_LLM_UNAVAILABLE', `the caller simulator at ${this.#client.baseURL} did not answer: ${(e as Error).message}`, { field: 'VIGIL_SIMULATOR_BASE_URL', fix: 'check the simulator endpoint, model and key', cause: e });
    }
    try {
      const j = parseJsonAnswer(content) as { say?: unknown; done?: unknown };
      const done = j.done === true || j.say === null;
      if (!done && (typeof j.say !== 'string' || j.say.trim() === '')) throw new Error('no line');
      return { say: done ? null : (j.say as string).trim(), done, raw: content };
    } catch {
      throw new VigilError('VIGIL_E_LLM_UNAVAILABLE', `the caller simulator answered out of shape: ${content.slice(0, 200)}`, { field: 'VIGIL_SIMULATOR_MODEL', fix: 'use a model that follows JSON instructions' });
    }
  }

  static personaHash(p: Persona): string {
    return createHash('sha256').update(JSON.stringify([SIMULATOR_PROMPT_VERSION, simulatorSystemPrompt(p)])).digest('hex');
  }
}

/** The simulator from the environment: VIGIL_SIMULATOR_BASE_URL/_MODEL/_API_KEY, else the judge's endpoint. */
export function simulatorFromEnv(env: NodeJS.ProcessEnv = process.env): CallerSimulator | undefined {
  const baseUrl = env.VIGIL_SIMULATOR_BASE_URL ?? env.VIGIL_JUDGE_BASE_URL;
  const model = env.VIGIL_SIMULATOR_MODEL ?? env.VIGIL_JUDGE_MODEL;
  if (!baseUrl || !model) return undefined;
  const apiKey = env.VIGIL_SIMULATOR_API_KEY ?? (env.VIGIL_SIMULATOR_BASE_URL ? undefined : env.VIGIL_JUDGE_API_KEY);
  return new CallerSimulator({ baseUrl, model, ...(apiKey ? { apiKey } : {}) });
}
