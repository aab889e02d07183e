// Original file: proto/vigil/v1/probe.proto

import type { Long } from '@grpc/proto-loader';

export interface HeartbeatResponse {
  'receivedAtMs'?: (number | string | Long);
}

export interface HeartbeatResponse__Output {
  'receivedAtMs': (number);
}
