// Original file: proto/vigil/v1/probe.proto

import type { RunStarted as _vigil_v1_RunStarted, RunStarted__Output as _vigil_v1_RunStarted__Output } from '../../vigil/v1/RunStarted.ts';
import type { StepStarted as _vigil_v1_StepStarted, StepStarted__Output as _vigil_v1_StepStarted__Output } from '../../vigil/v1/StepStarted.ts';
import type { StepFinished as _vigil_v1_StepFinished, StepFinished__Output as _vigil_v1_StepFinished__Output } from '../../vigil/v1/StepFinished.ts';
import type { LayerTiming as _vigil_v1_LayerTiming, LayerTiming__Output as _vigil_v1_LayerTiming__Output } from '../../vigil/v1/LayerTiming.ts';
import type { Transcript as _vigil_v1_Transcript, Transcript__Output as _vigil_v1_Transcript__Output } from '../../vigil/v1/Transcript.ts';
import type { AssertionOutcome as _vigil_v1_AssertionOutcome, AssertionOutcome__Output as _vigil_v1_AssertionOutcome__Output } from '../../vigil/v1/AssertionOutcome.ts';
import type { Artifact as _vigil_v1_Artifact, Artifact__Output as _vigil_v1_Artifact__Output } from '../../vigil/v1/Artifact.ts';
import type { RunFinished as _vigil_v1_RunFinished, RunFinished__Output as _vigil_v1_RunFinished__Output } from '../../vigil/v1/RunFinished.ts';
import type { Long } from '@grpc/proto-loader';

export interface RunEvent {
  'runId'?: (string);
  /**
   * Delivery attempt of the run request (1 on first delivery); a redelivered run starts again at seq 1.
   */
  'attempt'?: (number);
  /**
   * 1-based, gap-free within (run_id, attempt).
   */
  'seq'?: (number | string | Long);
  'atMs'?: (number | string | Long);
  'probeId'?: (string);
  'runStarted'?: (_vigil_v1_RunStarted | null);
  'stepStarted'?: (_vigil_v1_StepStarted | null);
  'stepFinished'?: (_vigil_v1_StepFinished | null);
  'timing'?: (_vigil_v1_LayerTiming | null);
  'transcript'?: (_vigil_v1_Transcript | null);
  'assertion'?: (_vigil_v1_AssertionOutcome | null);
  'artifact'?: (_vigil_v1_Artifact | null);
  'runFinished'?: (_vigil_v1_RunFinished | null);
  'body'?: "runStarted"|"stepStarted"|"stepFinished"|"timing"|"transcript"|"assertion"|"artifact"|"runFinished";
}

export interface RunEvent__Output {
  'runId': (string);
  /**
   * Delivery attempt of the run request (1 on first delivery); a redelivered run starts again at seq 1.
   */
  'attempt': (number);
  /**
   * 1-based, gap-free within (run_id, attempt).
   */
  'seq': (number);
  'atMs': (number);
  'probeId': (string);
  'runStarted'?: (_vigil_v1_RunStarted__Output | null);
  'stepStarted'?: (_vigil_v1_StepStarted__Output | null);
  'stepFinished'?: (_vigil_v1_StepFinished__Output | null);
  'timing'?: (_vigil_v1_LayerTiming__Output | null);
  'transcript'?: (_vigil_v1_Transcript__Output | null);
  'assertion'?: (_vigil_v1_AssertionOutcome__Output | null);
  'artifact'?: (_vigil_v1_Artifact__Output | null);
  'runFinished'?: (_vigil_v1_RunFinished__Output | null);
  'body'?: "runStarted"|"stepStarted"|"stepFinished"|"timing"|"transcript"|"assertion"|"artifact"|"runFinished";
}
