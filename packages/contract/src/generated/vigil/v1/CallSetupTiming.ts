// Original file: proto/vigil/v1/probe.proto


/**
 * SIP call establishment.
 */
export interface CallSetupTiming {
  /**
   * INVITE sent to first 18x.
   */
  'postDialDelayMs'?: (number | string);
  /**
   * INVITE sent to 200 OK.
   */
  'answerMs'?: (number | string);
  /**
   * INVITE sent to ACK sent.
   */
  'setupMs'?: (number | string);
  /**
   * The final response to the INVITE (200 when answered).
   */
  'finalStatus'?: (number);
  /**
   * Whether the far end sent media before answering (183 with SDP).
   */
  'earlyMedia'?: (boolean);
}

/**
 * SIP call establishment.
 */
export interface CallSetupTiming__Output {
  /**
   * INVITE sent to first 18x.
   */
  'postDialDelayMs': (number);
  /**
   * INVITE sent to 200 OK.
   */
  'answerMs': (number);
  /**
   * INVITE sent to ACK sent.
   */
  'setupMs': (number);
  /**
   * The final response to the INVITE (200 when answered).
   */
  'finalStatus': (number);
  /**
   * Whether the far end sent media before answering (183 with SDP).
   */
  'earlyMedia': (boolean);
}
