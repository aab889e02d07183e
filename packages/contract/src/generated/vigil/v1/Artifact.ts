// Original file: proto/vigil/v1/probe.proto

import type { Long } from '@grpc/proto-loader';

export interface Artifact {
  'stepIndex'?: (number);
  'name'?: (string);
  'sha256'?: (string);
  'bytes'?: (number | string | Long);
  'mediaType'?: (string);
}

export interface Artifact__Output {
  'stepIndex': (number);
  'name': (string);
  'sha256': (string);
  'bytes': (number);
  'mediaType': (string);
}
