// Original file: /work/main/proto/vigil/v1/probe.proto


export interface RegisterProbeResponse {
  'accepted'?: (boolean);
  'heartbeatIntervalMs'?: (number);
  'maxConcurrency'?: (number);
  'contractVersion'?: (number);
  'planeVersion'?: (string);
}

export interface RegisterProbeResponse__Output {
  'accepted': (boolean);
  'heartbeatIntervalMs': (number);
  'maxConcurrency': (number);
  'contractVersion': (number);
  'planeVersion': (string);
}
