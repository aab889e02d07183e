// Original file: proto/vigil/v1/probe.proto


export interface RegisterProbeResponse {
  'accepted'?: (boolean);
  'heartbeatIntervalMs'?: (number);
  'maxConcurrency'?: (number);
  'contractVersion'?: (number);
  'planeVersion'?: (string);
  /**
   * Redelivery timeout of the region queues; the probe signals progress (working) well within it.
   */
  'runAckWaitMs'?: (number);
}

export interface RegisterProbeResponse__Output {
  'accepted': (boolean);
  'heartbeatIntervalMs': (number);
  'maxConcurrency': (number);
  'contractVersion': (number);
  'planeVersion': (string);
  /**
   * Redelivery timeout of the region queues; the probe signals progress (working) well within it.
   */
  'runAckWaitMs': (number);
}
