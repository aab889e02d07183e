// Original file: proto/vigil/v1/probe.proto


export interface RunStarted {
  'journeyVersionId'?: (string);
  'targetId'?: (string);
  'region'?: (string);
  'channel'?: (string);
}

export interface RunStarted__Output {
  'journeyVersionId': (string);
  'targetId': (string);
  'region': (string);
  'channel': (string);
}
