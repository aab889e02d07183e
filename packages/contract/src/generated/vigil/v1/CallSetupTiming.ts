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
}
