// Original file: proto/vigil/v1/probe.proto


export interface LlmTiming {
  'timeToFirstTokenMs'?: (number | string);
  'totalMs'?: (number | string);
}

export interface LlmTiming__Output {
  'timeToFirstTokenMs': (number);
  'totalMs': (number);
}
