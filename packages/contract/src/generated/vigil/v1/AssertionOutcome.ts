// Original file: proto/vigil/v1/probe.proto

import type { Verdict as _vigil_v1_Verdict, Verdict__Output as _vigil_v1_Verdict__Output } from '../../vigil/v1/Verdict.ts';

export interface AssertionOutcome {
  'stepIndex'?: (number);
  'assertion'?: (string);
  'verdict'?: (_vigil_v1_Verdict);
  'expected'?: (string);
  'actual'?: (string);
  'message'?: (string);
  /**
   * What backs the verdict, as JSON (an LLM judge: model, prompt hash, samples with their raw responses).
   */
  'evidenceJson'?: (string);
}

export interface AssertionOutcome__Output {
  'stepIndex': (number);
  'assertion': (string);
  'verdict': (_vigil_v1_Verdict__Output);
  'expected': (string);
  'actual': (string);
  'message': (string);
  /**
   * What backs the verdict, as JSON (an LLM judge: model, prompt hash, samples with their raw responses).
   */
  'evidenceJson': (string);
}
