// Original file: proto/vigil/v1/probe.proto


/**
 * The first chunk carries the metadata; every chunk carries data (the last may be empty).
 */
export interface ArtifactChunk {
  'runId'?: (string);
  'attempt'?: (number);
  'name'?: (string);
  'mediaType'?: (string);
  /**
   * Retention class, e.g. "recording" or "transcript".
   */
  'retention'?: (string);
  /**
   * Redactions applied before upload, e.g. "dtmf", "pii:card_number".
   */
  'redactions'?: (string)[];
  'data'?: (Buffer | Uint8Array | string);
}

/**
 * The first chunk carries the metadata; every chunk carries data (the last may be empty).
 */
export interface ArtifactChunk__Output {
  'runId': (string);
  'attempt': (number);
  'name': (string);
  'mediaType': (string);
  /**
   * Retention class, e.g. "recording" or "transcript".
   */
  'retention': (string);
  /**
   * Redactions applied before upload, e.g. "dtmf", "pii:card_number".
   */
  'redactions': (string)[];
  'data': (Buffer);
}
