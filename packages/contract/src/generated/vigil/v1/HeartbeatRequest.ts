// Original file: proto/vigil/v1/probe.proto

import type { Long } from '@grpc/proto-loader';

export interface HeartbeatRequest {
  'probeId'?: (string);
  'inFlight'?: (number);
  'runIds'?: (string)[];
  'sentAtMs'?: (number | string | Long);
}

export interface HeartbeatRequest__Output {
  'probeId': (string);
  'inFlight': (number);
  'runIds': (string)[];
  'sentAtMs': (number);
}
