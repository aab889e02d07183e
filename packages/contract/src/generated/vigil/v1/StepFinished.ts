// Original file: proto/vigil/v1/probe.proto

import type { Verdict as _vigil_v1_Verdict, Verdict__Output as _vigil_v1_Verdict__Output } from '../../vigil/v1/Verdict.ts';
import type { Long } from '@grpc/proto-loader';

export interface StepFinished {
  'stepIndex'?: (number);
  'kind'?: (string);
  'verdict'?: (_vigil_v1_Verdict);
  'durationMs'?: (number | string | Long);
  'errorCode'?: (string);
  'errorMessage'?: (string);
}

export interface StepFinished__Output {
  'stepIndex': (number);
  'kind': (string);
  'verdict': (_vigil_v1_Verdict__Output);
  'durationMs': (number);
  'errorCode': (string);
  'errorMessage': (string);
}
