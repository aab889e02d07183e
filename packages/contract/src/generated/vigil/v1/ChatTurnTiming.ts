// Original file: proto/vigil/v1/probe.proto


/**
 * One chat exchange: the caller's message sent, the bot's reply received.
 */
export interface ChatTurnTiming {
  /**
   * From the request leaving the probe to the first reply byte/token.
   */
  'timeToFirstTokenMs'?: (number | string);
  /**
   * From the request leaving the probe to the last byte/token of the reply.
   */
  'timeToFullReplyMs'?: (number | string);
  'streamed'?: (boolean);
  'replyChars'?: (number);
}

/**
 * One chat exchange: the caller's message sent, the bot's reply received.
 */
export interface ChatTurnTiming__Output {
  /**
   * From the request leaving the probe to the first reply byte/token.
   */
  'timeToFirstTokenMs': (number);
  /**
   * From the request leaving the probe to the last byte/token of the reply.
   */
  'timeToFullReplyMs': (number);
  'streamed': (boolean);
  'replyChars': (number);
}
