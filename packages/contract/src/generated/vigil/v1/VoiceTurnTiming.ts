// Original file: proto/vigil/v1/probe.proto


/**
 * What a caller hears in one voice turn.
 */
export interface VoiceTurnTiming {
  /**
   * Caller's last speech sample to the bot's first speech sample.
   */
  'turnLatencyMs'?: (number | string);
  'timeToFirstAudioMs'?: (number | string);
  'bargeInStopMs'?: (number | string);
}

/**
 * What a caller hears in one voice turn.
 */
export interface VoiceTurnTiming__Output {
  /**
   * Caller's last speech sample to the bot's first speech sample.
   */
  'turnLatencyMs': (number);
  'timeToFirstAudioMs': (number);
  'bargeInStopMs': (number);
}
