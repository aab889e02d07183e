// Original file: proto/vigil/v1/probe.proto


export interface TtsTiming {
  /**
   * Text ready to first audio byte.
   */
  'timeToFirstByteMs'?: (number | string);
}

export interface TtsTiming__Output {
  /**
   * Text ready to first audio byte.
   */
  'timeToFirstByteMs': (number);
}
