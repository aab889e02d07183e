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
  /**
   * Id of the enrolled key; the probe's DSSE signatures name it.
   */
  'keyId'?: (string);
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
  /**
   * Id of the enrolled key; the probe's DSSE signatures name it.
   */
  'keyId': (string);
}
