/** Probe configuration: ProbeOptions (env or a YAML/JSON file) → CompiledProbeOptions. */
import { readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REGION_PATTERN } from '@vigil/contract';
import { VigilError } from '@vigil/errors';

export interface ProbeOptions {
  /** Region whose queue this probe serves, e.g. "eu-west-1". Required. */
  region?: string;
  /** Stable id in the fleet view. @default "<hostname>-<region>" */
  probeId?: string;
  /** Plane gRPC address host:port. @default "127.0.0.1:8081" */
  planeAddress?: string;
  /** Use TLS to the plane (system roots). @default false */
  planeTls?: boolean;
  /** Probe token issued by the plane. Required. */
  token?: string;
  /** nats://… ; required unless an in-process bus is given. */
  natsUrl?: string;
  natsStream?: string;
  natsSubjectPrefix?: string;
  /** Runs at once; capped by the plane's answer at registration. @default 4 */
  concurrency?: number;
  /** Port for /ready, /healthz and /metrics; 0 picks one; -1 disables. @default 9464 */
  httpPort?: number;
  /** @default "127.0.0.1" */
  httpHost?: string;
  /** SIGTERM: how long in-flight runs may finish before they are cut (and redelivered elsewhere). @default 30000 */
  drainGraceMs?: number;
  /** @default "info" */
  logLevel?: string;
  /** PEM Ed25519 key that signs this probe's evidence records; made on first start. @default "~/.local/state/vigil/probe-<probeId>.key" */
  keyFile?: string;
}

export interface CompiledProbeOptions {
  readonly region: string;
  readonly probeId: string;
  readonly planeAddress: string;
  readonly planeTls: boolean;
  readonly token: string;
  readonly natsUrl: string | undefined;
  readonly natsStream: string | undefined;
  readonly natsSubjectPrefix: string | undefined;
  readonly concurrency: number;
  readonly httpPort: number;
  readonly httpHost: string;
  readonly drainGraceMs: number;
  readonly logLevel: string;
  readonly keyFile: string;
}

const fail = (field: string, message: string, fix: string) => new VigilError('VIGIL_E_CONFIG_INVALID', message, { field, fix });

export function compileProbeOptions(o: ProbeOptions): CompiledProbeOptions {
  if (!o.region) throw fail('VIGIL_REGION', 'the probe needs a region', 'set VIGIL_REGION (e.g. eu-west-1)');
  if (!REGION_PATTERN.test(o.region)) throw fail('VIGIL_REGION', `region "${o.region}" is not valid`, 'lowercase letters, digits and "-"');
  if (!o.token) throw fail('VIGIL_PROBE_TOKEN', 'the probe needs a token', 'issue one with POST /v1/probe-tokens (or VIGIL_PROBE_TOKENS on the plane) and set VIGIL_PROBE_TOKEN');
  const planeAddress = o.planeAddress ?? '127.0.0.1:8081';
  if (!/^[^\s:/]+:\d+$/.test(planeAddress) && !/^\[[0-9a-f:]+\]:\d+$/i.test(planeAddress)) throw fail('VIGIL_PLANE_ADDRESS', `plane address "${planeAddress}" is not host:port`, 'e.g. plane.internal:8081');
  const concurrency = o.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) throw fail('VIGIL_PROBE_CONCURRENCY', 'concurrency must be 1..1000', 'set VIGIL_PROBE_CONCURRENCY');
  const httpPort = o.httpPort ?? 9464;
  if (!Number.isInteger(httpPort) || httpPort < -1 || httpPort > 65535) throw fail('VIGIL_PROBE_HTTP_PORT', 'http port must be -1..65535', 'set VIGIL_PROBE_HTTP_PORT');
  const drainGraceMs = o.drainGraceMs ?? 30_000;
  if (!Number.isInteger(drainGraceMs) || drainGraceMs < 0) throw fail('VIGIL_PROBE_DRAIN_GRACE_MS', 'drain grace must be a whole number of ms', 'set VIGIL_PROBE_DRAIN_GRACE_MS');
  if (o.natsUrl !== undefined && !/^(nats|tls|ws|wss):\/\//.test(o.natsUrl)) throw fail('NATS_URL', 'NATS_URL must start with nats://', 'e.g. nats://127.0.0.1:4222');
  return Object.freeze({
    region: o.region, probeId: o.probeId ?? `${hostname()}-${o.region}`, planeAddress, planeTls: o.planeTls ?? false, token: o.token,
    natsUrl: o.natsUrl, natsStream: o.natsStream, natsSubjectPrefix: o.natsSubjectPrefix,
    concurrency, httpPort, httpHost: o.httpHost ?? '127.0.0.1', drainGraceMs, logLevel: o.logLevel ?? 'info',
    keyFile: o.keyFile ?? join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'vigil', `probe-${(o.probeId ?? `${hostname()}-${o.region}`).replace(/[^A-Za-z0-9._-]/g, '_')}.key`),
  });
}

/** Environment variables (see the README), overriding a config file's values when both are given. */
export function probeOptionsFromEnv(env: NodeJS.ProcessEnv = process.env, file?: string): ProbeOptions {
  let base: ProbeOptions = {};
  if (file) {
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch (e) { throw fail('--config', `cannot read ${file}: ${(e as Error).message}`, 'give the path of a YAML or JSON probe config'); }
    const parsed = parseYaml(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null) throw fail('--config', `${file} is not a map of probe options`, 'see the README\'s probe configuration');
    base = parsed as ProbeOptions;
  }
  const s = (n: string) => (env[n] === undefined || env[n] === '' ? undefined : env[n]);
  const n = (name: string) => {
    const v = s(name);
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isFinite(x)) throw fail(name, `${name} must be a number, got "${v}"`, `fix or unset ${name}`);
    return x;
  };
  const pick = <T>(a: T | undefined, b: T | undefined) => (a !== undefined ? a : b);
  return {
    region: pick(s('VIGIL_REGION'), base.region),
    probeId: pick(s('VIGIL_PROBE_ID'), base.probeId),
    planeAddress: pick(s('VIGIL_PLANE_ADDRESS'), base.planeAddress),
    planeTls: pick(s('VIGIL_PLANE_TLS') === undefined ? undefined : s('VIGIL_PLANE_TLS') === 'true', base.planeTls),
    token: pick(s('VIGIL_PROBE_TOKEN'), base.token),
    natsUrl: pick(s('NATS_URL'), base.natsUrl),
    natsStream: pick(s('VIGIL_NATS_STREAM'), base.natsStream),
    natsSubjectPrefix: pick(s('VIGIL_NATS_SUBJECT_PREFIX'), base.natsSubjectPrefix),
    concurrency: pick(n('VIGIL_PROBE_CONCURRENCY'), base.concurrency),
    httpPort: pick(n('VIGIL_PROBE_HTTP_PORT'), base.httpPort),
    httpHost: pick(s('VIGIL_PROBE_HTTP_HOST'), base.httpHost),
    drainGraceMs: pick(n('VIGIL_PROBE_DRAIN_GRACE_MS'), base.drainGraceMs),
    logLevel: pick(s('VIGIL_LOG_LEVEL'), base.logLevel),
    keyFile: pick(s('VIGIL_PROBE_KEY_FILE'), base.keyFile),
  };
}
