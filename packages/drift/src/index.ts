export { LatencyCusum, latencyBaseline, MIN_SPREAD, MIN_EFFECT_MS, MIN_RELATIVE, type Baseline, type CusumOptions, type CusumState, type LatencyVerdict } from './latency.ts';
export { PassRateDetector, binomialCdf, type PassRateOptions, type PassRateVerdict } from './pass-rate.ts';
export { LayerAttribution, type LayerShift } from './attribution.ts';
export { ContentDetector, NewFailureDetector, contentBaseline, contentDistance, type ContentBaseline, type ContentOptions, type ContentVerdict } from './content.ts';
