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
  /**
   * The run's evidence record: a DSSE envelope (JSON) over an in-toto Statement v1 with the Vigil run
   * predicate, signed with the probe's enrolled key. Required; the plane checks it against the run and logs it.
   */
  'evidenceDsseJson'?: (string);
}

export interface RunFinished__Output {
  'verdict': (_vigil_v1_Verdict__Output);
  'durationMs': (number);
  'errorCode': (string);
  'errorMessage': (string);
  'stepsPassed': (number);
  'stepsFailed': (number);
  /**
   * The run's evidence record: a DSSE envelope (JSON) over an in-toto Statement v1 with the Vigil run
   * predicate, signed with the probe's enrolled key. Required; the plane checks it against the run and logs it.
   */
  'evidenceDsseJson': (string);
}
