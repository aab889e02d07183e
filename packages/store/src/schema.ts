/** drizzle table definitions; migrations/0001_init.sql creates exactly these (a test checks the columns). */
import { bigserial, boolean, customType, doublePrecision, bigint, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const targets = pgTable('targets', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  channel: text('channel').notNull(),
  endpoint: text('endpoint').notNull(),
  credentialsRef: text('credentials_ref'),
  config: jsonb('config').$type<Record<string, unknown>>().notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const journeys = pgTable('journeys', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  latestVersion: integer('latest_version').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const journeyVersions = pgTable('journey_versions', {
  id: text('id').primaryKey(),
  journeyId: text('journey_id').notNull().references(() => journeys.id),
  version: integer('version').notNull(),
  source: text('source').notNull(),
  definition: jsonb('definition').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const schedules = pgTable('schedules', {
  id: text('id').primaryKey(),
  journeyId: text('journey_id').notNull().references(() => journeys.id),
  journeyVersionId: text('journey_version_id').references(() => journeyVersions.id),
  targetId: text('target_id').notNull().references(() => targets.id),
  regions: text('regions').array().notNull(),
  intervalMs: integer('interval_ms'),
  cron: text('cron'),
  jitterMaxMs: integer('jitter_max_ms').notNull(),
  enabled: boolean('enabled').notNull().default(true),
  nextDueAt: ts('next_due_at').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const runs = pgTable('runs', {
  id: text('id').primaryKey(),
  scheduleId: text('schedule_id').references(() => schedules.id),
  journeyId: text('journey_id').notNull().references(() => journeys.id),
  journeyVersionId: text('journey_version_id').notNull().references(() => journeyVersions.id),
  targetId: text('target_id').notNull().references(() => targets.id),
  region: text('region').notNull(),
  status: text('status').$type<'queued' | 'published' | 'running' | 'finished'>().notNull(),
  verdict: text('verdict').$type<'pass' | 'fail' | 'error' | 'inconclusive'>(),
  request: jsonb('request').notNull(),
  scheduledAt: ts('scheduled_at').notNull(),
  notBefore: ts('not_before').notNull(),
  publishedAt: ts('published_at'),
  startedAt: ts('started_at'),
  finishedAt: ts('finished_at'),
  probeId: text('probe_id'),
  attempt: integer('attempt'),
  durationMs: doublePrecision('duration_ms'),
  errorCode: text('error_code'),
  errorMessage: text('error_message'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const runEvents = pgTable('run_events', {
  runId: text('run_id').notNull().references(() => runs.id),
  attempt: integer('attempt').notNull(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  kind: text('kind').notNull(),
  at: ts('at').notNull(),
  probeId: text('probe_id').notNull(),
  body: jsonb('body').notNull(),
  receivedAt: ts('received_at').notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.runId, t.attempt, t.seq] })]);

export const probeTokens = pgTable('probe_tokens', {
  id: text('id').primaryKey(),
  tokenSha256: text('token_sha256').notNull().unique(),
  label: text('label').notNull(),
  region: text('region'),
  createdAt: ts('created_at').notNull().defaultNow(),
  revokedAt: ts('revoked_at'),
});

export const probes = pgTable('probes', {
  id: text('id').primaryKey(),
  region: text('region').notNull(),
  version: text('version').notNull(),
  contractVersion: integer('contract_version').notNull(),
  capabilities: text('capabilities').array().notNull(),
  hostname: text('hostname').notNull(),
  tokenId: text('token_id').notNull().references(() => probeTokens.id),
  inFlight: integer('in_flight').notNull().default(0),
  registeredAt: ts('registered_at').notNull(),
  lastHeartbeatAt: ts('last_heartbeat_at').notNull(),
});


// --- evidence (migrations/0002_evidence.sql) --------------------------------------------------------------------

// node-postgres hands bytea back as a Buffer, PGlite as a Uint8Array: both become Buffers.
const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({ dataType: () => 'bytea', fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v)) });

export const evidenceKeys = pgTable('evidence_keys', {
  keyId: text('key_id').primaryKey(),
  tenant: text('tenant').notNull(),
  kind: text('kind').$type<'probe' | 'log'>().notNull(),
  probeId: text('probe_id'),
  publicKey: text('public_key').notNull(),
  validFrom: ts('valid_from').notNull(),
  validUntil: ts('valid_until'),
  revokedAt: ts('revoked_at'),
  revokeReason: text('revoke_reason'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const evidenceEntries = pgTable('evidence_entries', {
  tenant: text('tenant').notNull(),
  idx: bigint('idx', { mode: 'number' }).notNull(),
  integratedMs: bigint('integrated_ms', { mode: 'number' }).notNull(),
  kind: text('kind').$type<'run' | 'erasure'>().notNull(),
  runId: text('run_id').notNull(),
  outcome: text('outcome'),
  verdict: text('verdict'),
  journeyId: text('journey_id'),
  targetId: text('target_id'),
  region: text('region'),
  scheduledAt: ts('scheduled_at'),
  keyId: text('key_id').notNull().references(() => evidenceKeys.keyId),
  envelope: jsonb('envelope').notNull(),
  leafHash: bytea('leaf_hash').notNull(),
}, (t) => [primaryKey({ columns: [t.tenant, t.idx] })]);

export const evidencePending = pgTable('evidence_pending', {
  seq: bigserial('seq', { mode: 'number' }).primaryKey(),
  tenant: text('tenant').notNull(),
  kind: text('kind').$type<'run' | 'erasure'>().notNull(),
  runId: text('run_id').notNull(),
  outcome: text('outcome'),
  verdict: text('verdict'),
  journeyId: text('journey_id'),
  targetId: text('target_id'),
  region: text('region'),
  scheduledAt: ts('scheduled_at'),
  keyId: text('key_id').notNull().references(() => evidenceKeys.keyId),
  envelope: jsonb('envelope').notNull(),
  queuedAt: ts('queued_at').notNull().defaultNow(),
});

export const evidenceCheckpoints = pgTable('evidence_checkpoints', {
  tenant: text('tenant').notNull(),
  size: bigint('size', { mode: 'number' }).notNull(),
  rootHash: bytea('root_hash').notNull(),
  note: text('note').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.tenant, t.size] })]);

export const runKeys = pgTable('run_keys', {
  runId: text('run_id').primaryKey().references(() => runs.id),
  wrappedKey: bytea('wrapped_key'),
  salt: bytea('salt'),
  createdAt: ts('created_at').notNull().defaultNow(),
  erasedAt: ts('erased_at'),
  eraseReason: text('erase_reason'),
});

export const artifacts = pgTable('artifacts', {
  runId: text('run_id').notNull().references(() => runs.id),
  attempt: integer('attempt').notNull(),
  name: text('name').notNull(),
  sha256: text('sha256').notNull(),
  bytes: bigint('bytes', { mode: 'number' }).notNull(),
  mediaType: text('media_type').notNull(),
  retention: text('retention').notNull(),
  redactions: text('redactions').array().notNull(),
  sealed: bytea('sealed'),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.runId, t.attempt, t.name] })]);

export const planeSecrets = pgTable('plane_secrets', {
  name: text('name').primaryKey(),
  value: bytea('value').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});


// --- drift (migrations/0003_drift.sql) --------------------------------------------------------------------------

export const baselines = pgTable('baselines', {
  id: text('id').primaryKey(),
  journeyId: text('journey_id').notNull().references(() => journeys.id),
  targetId: text('target_id').notNull().references(() => targets.id),
  region: text('region').notNull(),
  version: integer('version').notNull(),
  since: ts('since').notNull(),
  until: ts('until').notNull(),
  runs: integer('runs').notNull(),
  stats: jsonb('stats').$type<BaselineStats>().notNull(),
  createdBy: text('created_by').notNull(),
  reason: text('reason').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/** Per (layer.metric): centre and spread of ln(max(ms, floor)); pass counts; and what drift detection reads besides. */
export interface BaselineStats {
  latency: Record<string, { center: number; spread: number; n: number; floor?: number }>;
  pass: { passes: number; runs: number };
  /**
   * Per step (by index) and text ("reply": what the bot answered; "heard": what the target's telemetry says it
   * heard): the distinct accepted texts with counts and the content detector's threshold; the intents seen.
   * Absent on baselines made before content drift.
   */
  content?: Record<string, { step: string; texts: Record<'reply' | 'heard', { values: Array<{ text: string; n: number }>; threshold: number; spread: number } | undefined>; intents: string[] }>;
  /** How texts were compared: embeddings (with the model) or the lexical fallback. */
  similarity?: { method: 'embeddings' | 'lexical-fallback'; model: string | null };
  /** Failure signatures ("step: assertion" or "step: VIGIL_E_…") seen in the window, with counts. */
  failures?: Record<string, number>;
  /** The target versions reported by the window's last run. */
  versions?: Record<string, string>;
  /** Audio quality: centre and spread of ln(4.5 − MOS) (the impairment), as for latency. */
  quality?: { mos?: { center: number; spread: number; n: number; floor?: number } };
  /** The run whose texts are the accepted content (a marked golden run), when one was named. */
  goldenRunId?: string;
}

export const driftAlarms = pgTable('drift_alarms', {
  baselineId: text('baseline_id').notNull().references(() => baselines.id),
  detector: text('detector').notNull(),
  kind: text('kind').$type<'latency' | 'pass_rate' | 'content' | 'new_failure' | 'quality'>().notNull(),
  direction: text('direction').notNull(),
  changeRunId: text('change_run_id').references(() => runs.id),
  changeAt: ts('change_at'),
  alarmRunId: text('alarm_run_id').notNull().references(() => runs.id),
  ratio: doublePrecision('ratio'),
  pValue: doublePrecision('p_value'),
  raisedAt: ts('raised_at').notNull().defaultNow(),
  /** The layer the alarm names (asr, llm, intent, tts, call_setup, voice_turn, chat_turn…), when one can be named. */
  layer: text('layer'),
  /** What backs it: distance and threshold, the signature, example text, the target version change it lines up with. */
  detail: jsonb('detail').$type<Record<string, unknown>>(),
}, (t) => [primaryKey({ columns: [t.baselineId, t.detector] })]);

export const driftNotifications = pgTable('drift_notifications', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  baselineId: text('baseline_id').notNull().references(() => baselines.id),
  status: text('status').$type<'firing' | 'resolved'>().notNull(),
  webhook: text('webhook').notNull(),
  detectors: text('detectors').array().notNull(),
  delivered: boolean('delivered').notNull(),
  httpStatus: integer('http_status'),
  attempts: integer('attempts').notNull(),
  error: text('error'),
  sentAt: ts('sent_at').notNull().defaultNow(),
});

export const tables = { targets, journeys, journeyVersions, schedules, runs, runEvents, probeTokens, probes, evidenceKeys, evidenceEntries, evidencePending, evidenceCheckpoints, runKeys, artifacts, planeSecrets, baselines, driftAlarms, driftNotifications };
