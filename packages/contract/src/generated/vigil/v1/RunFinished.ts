// Original file: proto/vigil/v1/probe.proto

import type { Verdict as _vigil_v1_Verdict, Verdict__Output as _vigil_v1_Verdict__Output } from '../../vigil/v1/Verdict.ts';
import type { Long } from '@grpc/proto-loader';

export interface RunFinished {
  'verdict'?: (_vigil_v1_Verdict);
  'durationMs'?: (number | string | Long);
  'errorCode'?: (string);
  'errorMessage'?: (string);
  'stepsPassed'?: (number);
  'stepsFailed'?: (number);
}

export interface RunFinished__Output {
  'verdict': (_vigil_v1_Verdict__Output);
  'durationMs': (number);
  'errorCode': (string);
  'errorMessage': (string);
  'stepsPassed': (number);
  'stepsFailed': (number);
}
