// Original file: proto/vigil/v1/probe.proto


export interface RegisterProbeRequest {
  'probeId'?: (string);
  'region'?: (string);
  'version'?: (string);
  /**
   * Contract version the probe speaks; the plane refuses a mismatch.
   */
  'contractVersion'?: (number);
  /**
   * Channel drivers the probe has, e.g. "chat.openai", "chat.http", "chat.websocket".
   */
  'capabilities'?: (string)[];
  'hostname'?: (string);
  /**
   * The probe's Ed25519 public key (raw 32 bytes, base64) that signs its evidence records; enrolled on first
   * sight, a new one rotates the old out.
   */
  'publicKey'?: (string);
}

export interface RegisterProbeRequest__Output {
  'probeId': (string);
  'region': (string);
  'version': (string);
  /**
   * Contract version the probe speaks; the plane refuses a mismatch.
   */
  'contractVersion': (number);
  /**
   * Channel drivers the probe has, e.g. "chat.openai", "chat.http", "chat.websocket".
   */
  'capabilities': (string)[];
  'hostname': (string);
  /**
   * The probe's Ed25519 public key (raw 32 bytes, base64) that signs its evidence records; enrolled on first
   * sight, a new one rotates the old out.
   */
  'publicKey': (string);
}
