// Original file: proto/vigil/v1/probe.proto


/**
 * The bot's speech recognition, as the target reports it or as measured around it.
 */
export interface AsrTiming {
  /**
   * Caller's last speech sample to final transcript.
   */
  'finalTranscriptMs'?: (number | string);
}

/**
 * The bot's speech recognition, as the target reports it or as measured around it.
 */
export interface AsrTiming__Output {
  /**
   * Caller's last speech sample to final transcript.
   */
  'finalTranscriptMs': (number);
}
