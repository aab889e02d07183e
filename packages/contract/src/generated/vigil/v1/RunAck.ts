// Original file: proto/vigil/v1/probe.proto

import type { Verdict as _vigil_v1_Verdict, Verdict__Output as _vigil_v1_Verdict__Output } from '../../vigil/v1/Verdict.ts';
import type { Long } from '@grpc/proto-loader';

export interface RunAck {
  'runId'?: (string);
  'attempt'?: (number);
  /**
   * Highest seq stored so far with every lower seq also stored.
   */
  'ackedSeq'?: (number | string | Long);
  /**
   * True once the run's final result is stored (by this or by an earlier attempt).
   */
  'finalStored'?: (boolean);
  'finalVerdict'?: (_vigil_v1_Verdict);
  /**
   * Set when the plane refuses the stream; the probe stops retrying when error_retryable is false.
   */
  'errorCode'?: (string);
  'errorMessage'?: (string);
  'errorRetryable'?: (boolean);
}

export interface RunAck__Output {
  'runId': (string);
  'attempt': (number);
  /**
   * Highest seq stored so far with every lower seq also stored.
   */
  'ackedSeq': (number);
  /**
   * True once the run's final result is stored (by this or by an earlier attempt).
   */
  'finalStored': (boolean);
  'finalVerdict': (_vigil_v1_Verdict__Output);
  /**
   * Set when the plane refuses the stream; the probe stops retrying when error_retryable is false.
   */
  'errorCode': (string);
  'errorMessage': (string);
  'errorRetryable': (boolean);
}
