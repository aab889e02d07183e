/**
 * One registry of error codes for every Vigil boundary (HTTP API, gRPC, NATS, channel drivers, CLI).
 * A code is stable forever once released: clients switch on it. `retryable` says whether the same call may
 * succeed later unchanged (transient) or needs a fix first (fatal).
 */

export interface ErrorSpec {
  /** HTTP status the API answers with. */
  readonly http: number;
  /** gRPC status code (numeric, @grpc/grpc-js `status`). */
  readonly grpc: number;
  readonly retryable: boolean;
  /** What the code means, for the README's error table. */
  readonly meaning: string;
}

// gRPC status numbers (kept here so this package has no dependency on @grpc/grpc-js).
const G = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, FAILED_PRECONDITION: 9, UNAVAILABLE: 14, INTERNAL: 13, UNAUTHENTICATED: 16, RESOURCE_EXHAUSTED: 8, DEADLINE_EXCEEDED: 4 } as const;

export const ERROR_CODES = {
  VIGIL_E_REQUEST_INVALID: { http: 400, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'A request field is missing or has the wrong type or value.' },
  VIGIL_E_REQUEST_TOO_LARGE: { http: 413, grpc: G.RESOURCE_EXHAUSTED, retryable: false, meaning: 'The request body is larger than the configured limit.' },
  VIGIL_E_REQUEST_MEDIA_TYPE: { http: 415, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'The request body has a content type the endpoint does not take.' },
  VIGIL_E_AUTH_REQUIRED: { http: 401, grpc: G.UNAUTHENTICATED, retryable: false, meaning: 'No credentials were sent, or they are not known.' },
  VIGIL_E_AUTH_PROBE_TOKEN: { http: 401, grpc: G.UNAUTHENTICATED, retryable: false, meaning: 'The probe token is unknown or revoked.' },
  VIGIL_E_NOT_FOUND: { http: 404, grpc: G.NOT_FOUND, retryable: false, meaning: 'The named resource does not exist.' },
  VIGIL_E_CONFLICT: { http: 409, grpc: G.ALREADY_EXISTS, retryable: false, meaning: 'A resource with that unique name already exists.' },
  VIGIL_E_JOURNEY_YAML: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'The journey is not well-formed YAML.' },
  VIGIL_E_JOURNEY_INVALID: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'The journey does not follow the journey format (unknown step kind, missing field, wrong type).' },
  VIGIL_E_TARGET_INVALID: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'The target definition is incomplete or inconsistent with its channel.' },
  VIGIL_E_SCHEDULE_INVALID: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'The schedule has neither a valid interval nor a valid cron expression, or names no region.' },
  VIGIL_E_CONFIG_INVALID: { http: 500, grpc: G.FAILED_PRECONDITION, retryable: false, meaning: 'A configuration value (environment or file) is missing or invalid.' },
  VIGIL_E_PROBE_VERSION: { http: 409, grpc: G.FAILED_PRECONDITION, retryable: false, meaning: 'The probe speaks a contract version the plane does not accept.' },
  VIGIL_E_RUN_UNKNOWN: { http: 404, grpc: G.NOT_FOUND, retryable: false, meaning: 'A run event names a run the plane never scheduled.' },
  VIGIL_E_RUN_EVENT_INVALID: { http: 400, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'A run event is malformed (no run id, no sequence number, no body).' },
  VIGIL_E_DIAL_NOT_ALLOWED: { http: 403, grpc: G.PERMISSION_DENIED, retryable: false, meaning: 'The number or SIP URI is not on the target\'s allowlist, or the dial string is malformed (toll-fraud guard).' },
  VIGIL_E_CHANNEL_UNSUPPORTED: { http: 422, grpc: G.FAILED_PRECONDITION, retryable: false, meaning: 'No channel driver is registered for the target\'s channel.' },
  VIGIL_E_CHANNEL_UNREACHABLE: { http: 502, grpc: G.UNAVAILABLE, retryable: true, meaning: 'The target did not accept a connection or answered with a 5xx/transport error.' },
  VIGIL_E_CHANNEL_PROTOCOL: { http: 502, grpc: G.FAILED_PRECONDITION, retryable: false, meaning: 'The target answered, but not in the shape the target definition says (4xx, bad JSON, reply path not found).' },
  VIGIL_E_CHANNEL_TIMEOUT: { http: 504, grpc: G.DEADLINE_EXCEEDED, retryable: true, meaning: 'The target did not answer within the step timeout.' },
  VIGIL_E_CHANNEL_AUTH: { http: 502, grpc: G.PERMISSION_DENIED, retryable: false, meaning: 'The target (or its proxy/registrar) refused our credentials (401/403/407 after a digest answer).' },
  VIGIL_E_CHECK_NOT_ALLOWED: { http: 403, grpc: G.PERMISSION_DENIED, retryable: false, meaning: 'A journey\'s http check names an origin the target\'s config.httpAllow does not list.' },
  VIGIL_E_CHECK_UNREACHABLE: { http: 502, grpc: G.UNAVAILABLE, retryable: true, meaning: 'The system a cross-system check queries did not answer (connection refused, timeout).' },
  VIGIL_E_TELEMETRY_INVALID: { http: 502, grpc: G.FAILED_PRECONDITION, retryable: false, meaning: 'The target\'s turn telemetry (config.telemetry.url) is not in the Vigil turn telemetry format.' },
  VIGIL_E_TELEMETRY_UNAVAILABLE: { http: 502, grpc: G.UNAVAILABLE, retryable: true, meaning: 'The target\'s turn telemetry (config.telemetry.url) did not answer in time; the run stands, without the layer split.' },
  VIGIL_E_LLM_UNAVAILABLE: { http: 502, grpc: G.UNAVAILABLE, retryable: true, meaning: 'An LLM the run depends on (the caller simulator) did not answer, or not in the shape asked for.' },
  VIGIL_E_CREDENTIALS_MISSING: { http: 422, grpc: G.FAILED_PRECONDITION, retryable: false, meaning: 'The target names a credentials reference the probe cannot resolve.' },
  VIGIL_E_DB_UNAVAILABLE: { http: 503, grpc: G.UNAVAILABLE, retryable: true, meaning: 'Postgres is not reachable.' },
  VIGIL_E_BUS_UNAVAILABLE: { http: 503, grpc: G.UNAVAILABLE, retryable: true, meaning: 'NATS is not reachable.' },
  VIGIL_E_PLANE_UNAVAILABLE: { http: 503, grpc: G.UNAVAILABLE, retryable: true, meaning: 'The control plane is not reachable.' },
  VIGIL_E_SHUTTING_DOWN: { http: 503, grpc: G.UNAVAILABLE, retryable: true, meaning: 'The process is draining and takes no new work.' },
  VIGIL_E_EVIDENCE_SIGNATURE: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'An evidence record\'s DSSE signature does not verify with the key it names (the record was changed after signing).' },
  VIGIL_E_EVIDENCE_KEY_UNKNOWN: { http: 422, grpc: G.FAILED_PRECONDITION, retryable: false, meaning: 'An evidence record is signed by a key the trust root does not hold, or outside that key\'s validity window.' },
  VIGIL_E_EVIDENCE_KEY_REVOKED: { http: 422, grpc: G.FAILED_PRECONDITION, retryable: false, meaning: 'An evidence record was signed by a probe key at or after the time the key was revoked.' },
  VIGIL_E_EVIDENCE_INCLUSION: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'A record\'s inclusion proof does not lead to the checkpoint\'s root (changed, reordered or moved leaf).' },
  VIGIL_E_EVIDENCE_LEAF_MISSING: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'A log entry the bundle\'s signed manifest covers is missing from the bundle (a deleted leaf).' },
  VIGIL_E_EVIDENCE_CHECKPOINT: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'A checkpoint note is malformed or its signature does not verify with the log\'s key (forged checkpoint).' },
  VIGIL_E_EVIDENCE_CONSISTENCY: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'The log\'s current checkpoint is not an append-only extension of the checkpoint the auditor holds.' },
  VIGIL_E_EVIDENCE_MANIFEST: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'The bundle\'s manifest is missing, malformed or its signature does not verify.' },
  VIGIL_E_EVIDENCE_ARTIFACT_HASH: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'An artifact\'s bytes do not hash to the sha256 its signed record names.' },
  VIGIL_E_EVIDENCE_ARTIFACT_MISSING: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'A bundle exported with artifacts lacks one that a record names and no erasure record covers.' },
  VIGIL_E_EVIDENCE_INCOMPLETE: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'A scheduled run the manifest lists has no terminal evidence record.' },
  VIGIL_E_EVIDENCE_DUPLICATE: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'A run has more than one terminal evidence record.' },
  VIGIL_E_EVIDENCE_RECORD_INVALID: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'An evidence record is not an in-toto Statement v1 with a Vigil predicate, or it does not match the run it claims.' },
  VIGIL_E_EVIDENCE_BUNDLE_INVALID: { http: 422, grpc: G.INVALID_ARGUMENT, retryable: false, meaning: 'The bundle file cannot be read as a Vigil evidence bundle (not NDJSON, wrong format version).' },
  VIGIL_E_RUN_MISSED: { http: 504, grpc: G.DEADLINE_EXCEEDED, retryable: false, meaning: 'No probe started the run before its deadline (VIGIL_RUN_DEADLINE_MS); the plane logged a missed record.' },
  VIGIL_E_RUN_INTERRUPTED: { http: 504, grpc: G.DEADLINE_EXCEEDED, retryable: false, meaning: 'A probe started the run and no result came before its deadline; the plane logged an interrupted record.' },
  VIGIL_E_ARTIFACT_ERASED: { http: 410, grpc: G.NOT_FOUND, retryable: false, meaning: 'The artifact was erased: its run key is destroyed and only its hash remains.' },
  VIGIL_E_INTERNAL: { http: 500, grpc: G.INTERNAL, retryable: true, meaning: 'An unexpected failure; the log carries the details.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface VigilErrorOptions {
  /** The input field at fault, as a dotted path or JSON pointer (e.g. `steps[2].say`, `body.endpoint`). */
  field?: string;
  /** How to fix it, in one sentence. */
  fix?: string;
  /** Extra structured detail safe to show a client (never secrets or caller data). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class VigilError extends Error {
  override name = 'VigilError';
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly fix: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: VigilErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.field = opts.field;
    this.fix = opts.fix;
    this.details = opts.details;
  }

  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  get grpcStatus(): number {
    return ERROR_CODES[this.code].grpc;
  }

  /** The body every API error answers with. */
  toJSON(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.field !== undefined) body.field = this.field;
    if (this.fix !== undefined) body.fix = this.fix;
    if (this.details !== undefined) body.details = this.details;
    return body;
  }
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  field?: string;
  fix?: string;
  details?: Record<string, unknown>;
}

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && Object.hasOwn(ERROR_CODES, v);
}

export function isVigilError(e: unknown): e is VigilError {
  return e instanceof VigilError;
}

/** Wraps anything thrown into a VigilError; already-typed errors pass through. */
export function toVigilError(e: unknown, fallback: ErrorCode = 'VIGIL_E_INTERNAL'): VigilError {
  if (e instanceof VigilError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new VigilError(fallback, message, { cause: e });
}

/** Whether a failure is worth retrying. Unknown errors count as transient: a loop backs off rather than dies. */
export function isRetryable(e: unknown): boolean {
  return e instanceof VigilError ? e.retryable : true;
}
