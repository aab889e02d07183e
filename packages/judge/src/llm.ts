/** What every LLM-backed check here shares: one way to build the client, one way to read a JSON answer. */
import OpenAI from 'openai';

export interface LlmEndpoint { baseUrl: string; apiKey?: string; timeoutMs?: number }

/** An OpenAI-compatible client: one retry, a 30 s timeout by default, a placeholder key for keyless local servers. */
export function llmClient(e: LlmEndpoint): OpenAI {
  return new OpenAI({ baseURL: e.baseUrl, apiKey: e.apiKey ?? 'not-needed', maxRetries: 1, timeout: e.timeoutMs ?? 30_000 });
}

/** Parses a model's JSON answer, tolerating a ```json fence around it; throws when it is not JSON. */
export function parseJsonAnswer(text: string): unknown {
  return JSON.parse(text.replace(/^```(?:json)?\s*|\s*```$/g, ''));
}
