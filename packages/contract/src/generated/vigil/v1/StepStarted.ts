// Original file: proto/vigil/v1/probe.proto


export interface StepStarted {
  'stepIndex'?: (number);
  'kind'?: (string);
  'name'?: (string);
}

export interface StepStarted__Output {
  'stepIndex': (number);
  'kind': (string);
  'name': (string);
}
