/**
 * Plane configuration: PlaneOptions (what a user may set, all optional) → CompiledPlaneOptions (defaults
 * applied, validated, frozen). `planeOptionsFromEnv` reads the documented environment variables.
 */
import { VigilError } from '@vigil/errors';
import { parseWebhooks, type WebhookConfig } from './notify.ts';

export interface PlaneOptions {
  /** postgres://… ; absent: PGlite in `pgliteDir` (or in memory). */
  databaseUrl?: string;
  pgliteDir?: string;
  /** nats://… ; absent: in-process run bus. */
  natsUrl?: string;
  /** @default "127.0.0.1" */
  host?: string;
  /** HTTP API and /metrics. @default 8080 */
  httpPort?: number;
  /** gRPC for probes. @default 8081 */
  grpcPort?: number;
  /** Bearer token for /v1/*; absent: the API is open (bind to localhost). */
  apiToken?: string;
  /** Probe tokens accepted in addition to the ones created through the API (bootstrap). */
  probeTokens?: string[];
  /** @default 1048576 */
  bodyLimitBytes?: number;
  /** How often the scheduler claims due schedules and drains the outbox. @default 1000 */
  schedulerTickMs?: number;
  /** Heartbeat period the plane asks of probes. @default 10000 */
  heartbeatIntervalMs?: number;
  /** Runs a probe may take at once (the plane's answer at registration). @default 4 */
  probeMaxConcurrency?: number;
  /** Ack wait for region queues. @default 30000 */
  runAckWaitMs?: number;
  /** Deliveries of one run before it is given up. @default 5 */
  runMaxDeliver?: number;
  /** JetStream stream name (tests isolate with their own). @default "VIGIL_RUNS" */
  natsStream?: string;
  /** JetStream subject prefix. @default "vigil.v1.runs" */
  natsSubjectPrefix?: string;
  /** pino level. @default "info" */
  logLevel?: string;
  /** The tenant whose evidence log this plane keeps. @default "default" */
  tenant?: string;
  /** The log's origin line in checkpoints (and its signing key's name). @default "vigil/<tenant>" */
  evidenceOrigin?: string;
  /** PEM (PKCS#8) Ed25519 key that signs checkpoints, manifests and plane records; absent: one is made and kept in the database. */
  evidenceKeyFile?: string;
  /** 32-byte key-encryption key (base64) that wraps run keys; absent: one is made and kept in the database. */
  evidenceKekFile?: string;
  /** A run with no result this long after its start time gets a plane-signed missed/interrupted record. @default 900000 */
  runDeadlineMs?: number;
  /** How often a new checkpoint is signed when the log grew. @default 10000 */
  checkpointIntervalMs?: number;
  /** Where people reach this plane's API (links in notifications). @default the listen address */
  publicUrl?: string;
  /** Drift notification webhooks: JSON array of {kind: json|slack|teams|pagerduty, url, routingKey?}. */
  notifyWebhooks?: string;
  /** Drift alarms of one series within this window go out as one message. @default 30000 */
  notifyGroupMs?: number;
  /** Content drift compares replies by embeddings from this OpenAI-compatible endpoint (with the model); unset: the lexical fallback. */
  embeddings?: { baseUrl: string; model: string; apiKey?: string };
}

export interface CompiledPlaneOptions {
  readonly databaseUrl: string | undefined;
  readonly pgliteDir: string | undefined;
  readonly natsUrl: string | undefined;
  readonly host: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly apiToken: string | undefined;
  readonly probeTokens: readonly string[];
  readonly bodyLimitBytes: number;
  readonly schedulerTickMs: number;
  readonly heartbeatIntervalMs: number;
  readonly probeMaxConcurrency: number;
  readonly runAckWaitMs: number;
  readonly runMaxDeliver: number;
  readonly natsStream: string;
  readonly natsSubjectPrefix: string;
  readonly logLevel: string;
  readonly tenant: string;
  readonly evidenceOrigin: string;
  readonly evidenceKeyFile: string | undefined;
  readonly evidenceKekFile: string | undefined;
  readonly runDeadlineMs: number;
  readonly checkpointIntervalMs: number;
  readonly publicUrl: string | undefined;
  readonly notifyWebhooks: readonly WebhookConfig[];
  readonly notifyGroupMs: number;
  readonly embeddings: { baseUrl: string; model: string; apiKey?: string } | undefined;
}

export const PLANE_DEFAULTS = {
  host: '127.0.0.1',
  httpPort: 8080,
  grpcPort: 8081,
  bodyLimitBytes: 1024 * 1024,
  schedulerTickMs: 1000,
  heartbeatIntervalMs: 10_000,
  probeMaxConcurrency: 4,
  runAckWaitMs: 30_000,
  runMaxDeliver: 5,
  natsStream: 'VIGIL_RUNS',
  natsSubjectPrefix: 'vigil.v1.runs',
  logLevel: 'info',
  tenant: 'default',
  runDeadlineMs: 15 * 60_000,
  checkpointIntervalMs: 10_000,
} as const;

function int(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new VigilError('VIGIL_E_CONFIG_INVALID', `${name} must be a whole number from ${min} to ${max}, got ${v}`, { field: name, fix: `set ${name} within range` });
  return v;
}

export function compilePlaneOptions(o: PlaneOptions = {}): CompiledPlaneOptions {
  const d = PLANE_DEFAULTS;
  if (o.databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(o.databaseUrl)) throw new VigilError('VIGIL_E_CONFIG_INVALID', 'DATABASE_URL must start with postgres://', { field: 'DATABASE_URL', fix: 'e.g. postgres://postgres@127.0.0.1:5432/vigil' });
  if (o.natsUrl !== undefined && !/^(nats|tls|ws|wss):\/\//.test(o.natsUrl)) throw new VigilError('VIGIL_E_CONFIG_INVALID', 'NATS_URL must start with nats://', { field: 'NATS_URL', fix: 'e.g. nats://127.0.0.1:4222' });
  if (o.publicUrl !== undefined && !/^https?:\/\/\S+$/.test(o.publicUrl)) throw new VigilError('VIGIL_E_CONFIG_INVALID', 'VIGIL_PUBLIC_URL must be an http(s) URL', { field: 'VIGIL_PUBLIC_URL', fix: 'e.g. https://vigil.example.com' });
  const tenant = o.tenant ?? d.tenant;
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(tenant)) throw new VigilError('VIGIL_E_CONFIG_INVALID', `VIGIL_TENANT "${tenant}" is not a tenant name`, { field: 'VIGIL_TENANT', fix: 'use lowercase letters, digits and dashes (e.g. "acme-bank")' });
  const origin = o.evidenceOrigin ?? `vigil/${tenant}`;
  if (!/^[\x21-\x7e]+$/.test(origin) || origin.includes('+')) throw new VigilError('VIGIL_E_CONFIG_INVALID', `VIGIL_EVIDENCE_ORIGIN "${origin}" must be one word of printable ASCII without "+"`, { field: 'VIGIL_EVIDENCE_ORIGIN', fix: 'use a schema-less URL-like name, e.g. "vigil.example.com/acme"' });
  return Object.freeze({
    databaseUrl: o.databaseUrl,
    pgliteDir: o.pgliteDir,
    natsUrl: o.natsUrl,
    host: o.host ?? d.host,
    httpPort: int('httpPort', o.httpPort ?? d.httpPort, 0, 65535),
    grpcPort: int('grpcPort', o.grpcPort ?? d.grpcPort, 0, 65535),
    apiToken: o.apiToken,
    probeTokens: Object.freeze([...(o.probeTokens ?? [])]),
    bodyLimitBytes: int('bodyLimitBytes', o.bodyLimitBytes ?? d.bodyLimitBytes, 1024, 64 * 1024 * 1024),
    schedulerTickMs: int('schedulerTickMs', o.schedulerTickMs ?? d.schedulerTickMs, 50, 60_000),
    heartbeatIntervalMs: int('heartbeatIntervalMs', o.heartbeatIntervalMs ?? d.heartbeatIntervalMs, 100, 600_000),
    probeMaxConcurrency: int('probeMaxConcurrency', o.probeMaxConcurrency ?? d.probeMaxConcurrency, 1, 1000),
    runAckWaitMs: int('runAckWaitMs', o.runAckWaitMs ?? d.runAckWaitMs, 1000, 3_600_000),
    runMaxDeliver: int('runMaxDeliver', o.runMaxDeliver ?? d.runMaxDeliver, 1, 100),
    natsStream: o.natsStream ?? d.natsStream,
    natsSubjectPrefix: o.natsSubjectPrefix ?? d.natsSubjectPrefix,
    logLevel: o.logLevel ?? d.logLevel,
    tenant,
    evidenceOrigin: origin,
    evidenceKeyFile: o.evidenceKeyFile,
    evidenceKekFile: o.evidenceKekFile,
    runDeadlineMs: int('runDeadlineMs', o.runDeadlineMs ?? d.runDeadlineMs, 1000, 7 * 86_400_000),
    checkpointIntervalMs: int('checkpointIntervalMs', o.checkpointIntervalMs ?? d.checkpointIntervalMs, 100, 3_600_000),
    publicUrl: o.publicUrl,
    notifyWebhooks: Object.freeze(parseWebhooks(o.notifyWebhooks)),
    notifyGroupMs: int('notifyGroupMs', o.notifyGroupMs ?? 30_000, 0, 3_600_000),
    embeddings: o.embeddings,
  });
}

function num(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new VigilError('VIGIL_E_CONFIG_INVALID', `${name} must be a number, got "${v}"`, { field: name, fix: `set ${name} to a number or unset it` });
  return n;
}

/** Reads the environment variables listed in the README's configuration reference. */
export function planeOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): PlaneOptions {
  const s = (n: string) => (env[n] === undefined || env[n] === '' ? undefined : env[n]);
  return {
    databaseUrl: s('DATABASE_URL'),
    pgliteDir: s('VIGIL_PGLITE_DIR'),
    natsUrl: s('NATS_URL'),
    host: s('VIGIL_HOST'),
    httpPort: num(env, 'VIGIL_HTTP_PORT'),
    grpcPort: num(env, 'VIGIL_GRPC_PORT'),
    apiToken: s('VIGIL_API_TOKEN'),
    probeTokens: s('VIGIL_PROBE_TOKENS')?.split(',').map((t) => t.trim()).filter(Boolean),
    bodyLimitBytes: num(env, 'VIGIL_BODY_LIMIT_BYTES'),
    schedulerTickMs: num(env, 'VIGIL_SCHEDULER_TICK_MS'),
    heartbeatIntervalMs: num(env, 'VIGIL_HEARTBEAT_INTERVAL_MS'),
    probeMaxConcurrency: num(env, 'VIGIL_PROBE_MAX_CONCURRENCY'),
    runAckWaitMs: num(env, 'VIGIL_RUN_ACK_WAIT_MS'),
    runMaxDeliver: num(env, 'VIGIL_RUN_MAX_DELIVER'),
    natsStream: s('VIGIL_NATS_STREAM'),
    natsSubjectPrefix: s('VIGIL_NATS_SUBJECT_PREFIX'),
    logLevel: s('VIGIL_LOG_LEVEL'),
    tenant: s('VIGIL_TENANT'),
    evidenceOrigin: s('VIGIL_EVIDENCE_ORIGIN'),
    evidenceKeyFile: s('VIGIL_EVIDENCE_KEY_FILE'),
    evidenceKekFile: s('VIGIL_EVIDENCE_KEK_FILE'),
    runDeadlineMs: num(env, 'VIGIL_RUN_DEADLINE_MS'),
    checkpointIntervalMs: num(env, 'VIGIL_CHECKPOINT_INTERVAL_MS'),
    publicUrl: s('VIGIL_PUBLIC_URL'),
    notifyWebhooks: s('VIGIL_NOTIFY_WEBHOOKS'),
    notifyGroupMs: num(env, 'VIGIL_NOTIFY_GROUP_MS'),
    ...embeddingsFromEnv(env),
  };
}

function embeddingsFromEnv(env: NodeJS.ProcessEnv): { embeddings?: { baseUrl: string; model: string; apiKey?: string } } {
  const base = env.VIGIL_EMBEDDINGS_BASE_URL || undefined;
  const model = env.VIGIL_EMBEDDINGS_MODEL || undefined;
  if (!base !== !model) throw new VigilError('VIGIL_E_CONFIG_INVALID', 'VIGIL_EMBEDDINGS_BASE_URL and VIGIL_EMBEDDINGS_MODEL go together', { field: base ? 'VIGIL_EMBEDDINGS_MODEL' : 'VIGIL_EMBEDDINGS_BASE_URL', fix: 'set both, or neither for the lexical fallback' });
  return base && model ? { embeddings: { baseUrl: base, model, ...(env.VIGIL_EMBEDDINGS_API_KEY ? { apiKey: env.VIGIL_EMBEDDINGS_API_KEY } : {}) } } : {};
}
