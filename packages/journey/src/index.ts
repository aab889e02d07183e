export {
  parseJourney, assertJourney, expectedPhrases, CHANNEL_STEPS, JOURNEY_FORMAT_VERSION, STEP_KINDS, ASSERTION_KINDS, DEFAULT_STEP_TIMEOUT_MS, NAME_PATTERN,
  type JourneyV1, type Step, type StepKind, type Assertion, type AssertionKind, type ParsedJourney, type JourneyIssue,
} from './format.ts';
export { journeyJsonSchema } from './schema.ts';
export { evaluateAssertion, describeAssertion, type ChatReply, type AssertionResult } from './assertions.ts';
export { runJourney, type SessionArtifact, type ChatSession, type CheckContext, type SendOptions, type EmitFn, type RunJourneyOptions, type RunSummary } from './runner.ts';
export { parseTelemetry, fetchTelemetry, telemetryFacts, type TargetTurn } from './telemetry.ts';
export { detectPii, redactPii, luhnValid, spokenDigitsToText, PII_KINDS, PII_DETECTORS_VERSION, type PiiKind, type PiiFinding } from './pii.ts';

/** Guardrail packs: ordinary journeys (prompt injection, jailbreak, PII extraction, off-topic, account takeover, disclosure). */
export const GUARDRAIL_PACK_DIR = new URL('../packs/guardrails/', import.meta.url).pathname;
