export { startPlane, createLogger, type Plane, type PlaneExtras } from './plane.ts';
export { compilePlaneOptions, planeOptionsFromEnv, PLANE_DEFAULTS, type PlaneOptions, type CompiledPlaneOptions } from './options.ts';
export { buildApp, toErrorBody, type App, type AppDeps } from './app.ts';
export { Scheduler, nextDue, parseCron, defaultJitterMs } from './scheduler.ts';
export { PlaneMetrics } from './metrics.ts';
export { ProbeGrpcServer, PLANE_VERSION } from './grpc.ts';
export { DriftService, attribute, alarmView, type AlarmView } from './drift.ts';
export { DriftNotifier, parseWebhooks, type WebhookConfig, type Delivery, type NotifiedAlarm } from './notify.ts';
