export { Probe, PROBE_VERSION, type ProbeState, type ProbeExtras } from './probe.ts';
export { compileProbeOptions, probeOptionsFromEnv, type ProbeOptions, type CompiledProbeOptions } from './options.ts';
export { PlaneClient, RunReporter, backoffMs, fromGrpcError } from './plane-client.ts';
export { RunRecord, Redactor, loadProbeKey, policyName } from './evidence.ts';
