export { runLocal, resolveTarget, exitCodeFor, type RunLocalOptions } from './run-local.ts';
export { startDemo, followRuns, type Demo, type DemoOptions } from './demo.ts';
export { ApiClient, type ApiClientOptions } from './api-client.ts';
export { toJUnit } from './junit.ts';
