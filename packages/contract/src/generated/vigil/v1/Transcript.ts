// Original file: proto/vigil/v1/probe.proto


export interface Transcript {
  'stepIndex'?: (number);
  /**
   * "caller" or "bot".
   */
  'speaker'?: (string);
  'text'?: (string);
  /**
   * Structured reply, JSON-encoded, when the channel returns one.
   */
  'structuredJson'?: (string);
}

export interface Transcript__Output {
  'stepIndex': (number);
  /**
   * "caller" or "bot".
   */
  'speaker': (string);
  'text': (string);
  /**
   * Structured reply, JSON-encoded, when the channel returns one.
   */
  'structuredJson': (string);
}
