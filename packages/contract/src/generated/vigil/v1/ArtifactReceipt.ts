// Original file: proto/vigil/v1/probe.proto

import type { Long } from '@grpc/proto-loader';

export interface ArtifactReceipt {
  'sha256'?: (string);
  'bytes'?: (number | string | Long);
  /**
   * The run's salt for hashed identifiers in its record (kept with the run key; erasure destroys it).
   */
  'salt'?: (Buffer | Uint8Array | string);
}

export interface ArtifactReceipt__Output {
  'sha256': (string);
  'bytes': (number);
  /**
   * The run's salt for hashed identifiers in its record (kept with the run key; erasure destroys it).
   */
  'salt': (Buffer);
}
