export { LlmJudge, judgeFromEnv, JUDGE_PROMPT_VERSION, JUDGE_SYSTEM_PROMPT, type JudgeConfig, type JudgeInput, type JudgeOutcome, type JudgeSample } from './judge.ts';
export { calibrate, cohensKappa, type LabelledExample, type Calibration } from './calibrate.ts';
export { CallerSimulator, simulatorFromEnv, simulatorSystemPrompt, SIMULATOR_PROMPT_VERSION, type Persona, type SimulatorTurn } from './simulate.ts';
export { checksFromEnv } from './env.ts';
export { SemanticSimilarity, IntentClassifier, SlotExtractor, type SlotsResult, lexicalSimilarity, cosine, LEXICAL_SIMILARITY_VERSION, type SimilarityResult, type IntentResult } from './semantic.ts';
export { loadRubric, writeCalibration, rubricFlag, type Rubric, type RubricCalibration, type RubricFlag } from './rubric.ts';
