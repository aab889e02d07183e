/** The LLM-backed parts of a run's checks (judge, caller simulator), from the probe's environment. */
import { VigilError } from '@vigil/errors';
import { judgeFromEnv } from './judge.ts';
import { loadRubric, rubricFlag } from './rubric.ts';
import { IntentClassifier, SemanticSimilarity, SlotExtractor } from './semantic.ts';
import { CallerSimulator, simulatorFromEnv, SIMULATOR_PROMPT_VERSION } from './simulate.ts';

export function checksFromEnv(env: NodeJS.ProcessEnv = process.env): {
  judge?: ReturnType<typeof judgeFromEnv>;
  simulate?: CallerSimulator['next'];
  simulatorInfo?: (p: { persona: string; goal: string; constraints: string[] }) => Record<string, unknown>;
  similarity: (a: string, b: string, signal: AbortSignal) => ReturnType<SemanticSimilarity['similarity']>;
  classify?: (text: string, labels: Record<string, string>, signal: AbortSignal) => ReturnType<IntentClassifier['classify']>;
  extract?: (text: string, slots: Record<string, string>, signal: AbortSignal) => ReturnType<SlotExtractor['extract']>;
  rubric: (path: string) => Promise<Awaited<ReturnType<typeof loadRubric>> & { flag: ReturnType<typeof rubricFlag> }>;
} {
  const judge = judgeFromEnv(env);
  const sim = simulatorFromEnv(env);
  if (!env.VIGIL_EMBEDDINGS_BASE_URL !== !env.VIGIL_EMBEDDINGS_MODEL) throw new VigilError('VIGIL_E_CONFIG_INVALID', 'VIGIL_EMBEDDINGS_BASE_URL and VIGIL_EMBEDDINGS_MODEL go together', { field: env.VIGIL_EMBEDDINGS_BASE_URL ? 'VIGIL_EMBEDDINGS_MODEL' : 'VIGIL_EMBEDDINGS_BASE_URL', fix: 'set both, or neither for the lexical fallback' });
  const semantic = new SemanticSimilarity(env.VIGIL_EMBEDDINGS_BASE_URL && env.VIGIL_EMBEDDINGS_MODEL ? { baseUrl: env.VIGIL_EMBEDDINGS_BASE_URL, model: env.VIGIL_EMBEDDINGS_MODEL, ...(env.VIGIL_EMBEDDINGS_API_KEY ? { apiKey: env.VIGIL_EMBEDDINGS_API_KEY } : {}) } : undefined);
  const llm = env.VIGIL_JUDGE_BASE_URL && env.VIGIL_JUDGE_MODEL ? { baseUrl: env.VIGIL_JUDGE_BASE_URL, model: env.VIGIL_JUDGE_MODEL, ...(env.VIGIL_JUDGE_API_KEY ? { apiKey: env.VIGIL_JUDGE_API_KEY } : {}) } : undefined;
  const extractor = llm ? new SlotExtractor(llm) : undefined;
  const classifier = env.VIGIL_INTENT_CLASSIFIER_URL || llm ? new IntentClassifier({ ...(llm ? { llm } : {}), ...(env.VIGIL_INTENT_CLASSIFIER_URL ? { classifierUrl: env.VIGIL_INTENT_CLASSIFIER_URL } : {}) }) : undefined;
  const minKappa = env.VIGIL_JUDGE_MIN_KAPPA === undefined ? 0.6 : Number(env.VIGIL_JUDGE_MIN_KAPPA);
  if (!(minKappa >= -1 && minKappa <= 1)) throw new VigilError('VIGIL_E_CONFIG_INVALID', `VIGIL_JUDGE_MIN_KAPPA must be -1..1, got ${env.VIGIL_JUDGE_MIN_KAPPA}`, { field: 'VIGIL_JUDGE_MIN_KAPPA', fix: 'e.g. 0.6' });
  return {
    rubric: async (path) => { const r = await loadRubric(path); return { ...r, flag: rubricFlag(r, env.VIGIL_JUDGE_MODEL ?? '', minKappa) }; },
    similarity: (a, b, signal) => semantic.similarity(a, b, signal),
    ...(extractor ? { extract: (text: string, slots: Record<string, string>, signal: AbortSignal) => extractor.extract(text, slots, signal) } : {}),
    ...(classifier ? { classify: (text: string, labels: Record<string, string>, signal: AbortSignal) => classifier.classify(text, labels, signal) } : {}),
    ...(judge ? { judge } : {}),
    ...(sim ? { simulate: (p, conversation, o) => sim.next(p, conversation, o), simulatorInfo: (p) => ({ model: sim.model, promptVersion: SIMULATOR_PROMPT_VERSION, personaSha256: CallerSimulator.personaHash(p) }) } : {}),
  };
}
