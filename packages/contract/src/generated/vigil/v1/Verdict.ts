// Original file: proto/vigil/v1/probe.proto

export const Verdict = {
  VERDICT_UNSPECIFIED: 'VERDICT_UNSPECIFIED',
  VERDICT_PASS: 'VERDICT_PASS',
  VERDICT_FAIL: 'VERDICT_FAIL',
  VERDICT_ERROR: 'VERDICT_ERROR',
  VERDICT_INCONCLUSIVE: 'VERDICT_INCONCLUSIVE',
} as const;

export type Verdict =
  | 'VERDICT_UNSPECIFIED'
  | 0
  | 'VERDICT_PASS'
  | 1
  | 'VERDICT_FAIL'
  | 2
  | 'VERDICT_ERROR'
  | 3
  | 'VERDICT_INCONCLUSIVE'
  | 4

export type Verdict__Output = typeof Verdict[keyof typeof Verdict]
