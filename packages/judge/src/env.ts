/** The LLM-backed parts of a run's checks (judge, caller simulator), from the probe's environment. */
import { judgeFromEnv } from './judge.ts';
import { CallerSimulator, simulatorFromEnv, SIMULATOR_PROMPT_VERSION } from './simulate.ts';

export function checksFromEnv(env: NodeJS.ProcessEnv = process.env): {
  judge?: ReturnType<typeof judgeFromEnv>;
  simulate?: CallerSimulator['next'];
  simulatorInfo?: (p: { persona: string; goal: string; constraints: string[] }) => Record<string, unknown>;
} {
  const judge = judgeFromEnv(env);
  const sim = simulatorFromEnv(env);
  return {
    ...(judge ? { judge } : {}),
    ...(sim ? { simulate: (p, conversation, o) => sim.next(p, conversation, o), simulatorInfo: (p) => ({ model: sim.model, promptVersion: SIMULATOR_PROMPT_VERSION, personaSha256: CallerSimulator.personaHash(p) }) } : {}),
  };
}
