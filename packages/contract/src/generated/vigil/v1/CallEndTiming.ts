// Original file: proto/vigil/v1/probe.proto


/**
 * The whole call, reported when it ends: how long, who hung up, and the media quality over the call.
 */
export interface CallEndTiming {
  /**
   * Answer to the end of the call (BYE sent or received).
   */
  'durationMs'?: (number | string);
  /**
   * "local" (we hung up) or "remote" (the far end did).
   */
  'endedBy'?: (string);
  'lossPercent'?: (number | string);
  'jitterMs'?: (number | string);
  /**
   * From RTCP; 0 when no report came back.
   */
  'rttMs'?: (number | string);
  /**
   * E-model (ITU-T G.107) estimate from codec, delay and loss.
   */
  'mos'?: (number | string);
  'packetsReceived'?: (number);
  /**
   * SRTP suite in use, empty for plain RTP.
   */
  'srtpSuite'?: (string);
}

/**
 * The whole call, reported when it ends: how long, who hung up, and the media quality over the call.
 */
export interface CallEndTiming__Output {
  /**
   * Answer to the end of the call (BYE sent or received).
   */
  'durationMs': (number);
  /**
   * "local" (we hung up) or "remote" (the far end did).
   */
  'endedBy': (string);
  'lossPercent': (number);
  'jitterMs': (number);
  /**
   * From RTCP; 0 when no report came back.
   */
  'rttMs': (number);
  /**
   * E-model (ITU-T G.107) estimate from codec, delay and loss.
   */
  'mos': (number);
  'packetsReceived': (number);
  /**
   * SRTP suite in use, empty for plain RTP.
   */
  'srtpSuite': (string);
}
