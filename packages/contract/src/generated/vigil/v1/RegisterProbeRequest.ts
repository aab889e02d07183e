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
}
