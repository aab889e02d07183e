// Original file: proto/vigil/v1/probe.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Published on JetStream subject vigil.v1.runs.<region>; Nats-Msg-Id = run_id. JSON-encoded (RunRequest in
 * @vigil/contract); this message documents the shape for non-TypeScript consumers.
 */
export interface RunRequest {
  'runId'?: (string);
  'region'?: (string);
  'journeyVersionId'?: (string);
  'journeyJson'?: (string);
  'targetJson'?: (string);
  'scheduledAtMs'?: (number | string | Long);
  'notBeforeMs'?: (number | string | Long);
  'journeyId'?: (string);
  'journeyVersion'?: (number);
  'scheduleId'?: (string);
}

/**
 * Published on JetStream subject vigil.v1.runs.<region>; Nats-Msg-Id = run_id. JSON-encoded (RunRequest in
 * @vigil/contract); this message documents the shape for non-TypeScript consumers.
 */
export interface RunRequest__Output {
  'runId': (string);
  'region': (string);
  'journeyVersionId': (string);
  'journeyJson': (string);
  'targetJson': (string);
  'scheduledAtMs': (number);
  'notBeforeMs': (number);
  'journeyId': (string);
  'journeyVersion': (number);
  'scheduleId': (string);
}
