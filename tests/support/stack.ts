/**
 * A full Vigil stack on real services: a fresh Postgres database, a fresh JetStream stream, the reference bot,
 * a plane in this process, and probes as separate `vigil probe` processes.
 */
import { randomBytes } from 'node:crypto';
import { startPlane, createLogger, type Plane, type PlaneOptions } from '@vigil/plane';
import { startRefBot, type RefBot } from '@vigil/refbot';
import { createTestDatabase, freePort, natsNames, NATS_URL, waitFor } from './services.ts';
import { spawnVigil, type Spawned } from './processes.ts';

export interface Stack {
  plane: Plane;
  bot: RefBot;
  token: string;
  databaseUrl: string;
  nats: { stream: string; prefix: string };
  httpPort: number;
  grpcPort: number;
  api<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: T }>;
  /** Starts the plane (again, after plane.close()), with these options changed from the stack's from now on. */
  startPlane(changes?: Partial<PlaneOptions>): Promise<Plane>;
  spawnProbe(probeId: string, region: string, extraEnv?: Record<string, string>): Promise<Spawned & { httpPort: number }>;
  metric(name: string, labels: Record<string, string>): Promise<number | undefined>;
  waitForRun(runId: string, timeoutMs?: number): Promise<RunDetail>;
  close(): Promise<void>;
}

export interface RunDetail {
  run: { id: string; status: string; verdict: string | null; attempt: number | null; probeId: string | null; errorCode: string | null; journey: { name: string }; target: { name: string }; region: string };
  attempts: Array<{ attempt: number; probeId: string; events: number; finished: boolean }>;
  events: Array<{ attempt: number; seq: number; kind: string; body: Record<string, unknown> }>;
  turns: Array<{ stepIndex: number; caller: string | null; bot: string | null; timeToFirstTokenMs: number; timeToFullReplyMs: number }>;
}

export async function startStack(opts: Partial<PlaneOptions> = {}): Promise<Stack> {
  const db = await createTestDatabase();
  const nats = natsNames();
  const bot = await startRefBot({ latencyMs: 10 });
  const token = `vgp_test_${randomBytes(12).toString('hex')}`;
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const probes: Spawned[] = [];
  let planeOptions: PlaneOptions = {
    databaseUrl: db.url, natsUrl: NATS_URL, natsStream: nats.stream, natsSubjectPrefix: nats.prefix, httpPort, grpcPort,
    probeTokens: [token], schedulerTickMs: 200, heartbeatIntervalMs: 1000, runAckWaitMs: 4000, ...opts,
  };
  const logger = createLogger(process.env.VIGIL_TEST_LOG_LEVEL ?? 'silent', 'vigil-plane-test');
  const stack: Stack = {
    plane: undefined as unknown as Plane,
    bot, token, databaseUrl: db.url, nats, httpPort, grpcPort,
    async startPlane(changes = {}) {
      planeOptions = { ...planeOptions, ...changes };
      stack.plane = await startPlane(planeOptions, { logger });
      return stack.plane;
    },
    async api<T>(method: string, path: string, body?: unknown, contentType = 'application/json') {
      const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
        method, headers: body === undefined ? {} : { 'content-type': contentType }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    async spawnProbe(probeId, region, extraEnv = {}) {
      const port = await freePort();
      const p = spawnVigil(['probe'], {
        VIGIL_REGION: region, VIGIL_PROBE_ID: probeId, VIGIL_PROBE_TOKEN: token, VIGIL_PLANE_ADDRESS: `127.0.0.1:${grpcPort}`,
        NATS_URL, VIGIL_NATS_STREAM: nats.stream, VIGIL_NATS_SUBJECT_PREFIX: nats.prefix, VIGIL_PROBE_HTTP_PORT: String(port),
        VIGIL_PROBE_DRAIN_GRACE_MS: '10000', VIGIL_LOG_LEVEL: 'info', ...extraEnv,
      }, `probe-${probeId}`);
      probes.push(p);
      await waitFor(`probe ${probeId} ready`, async () => {
        if (p.child.exitCode !== null) throw new Error(`probe exited ${p.child.exitCode}: ${p.output().slice(-2000)}`);
        const r = await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined);
        return r?.status === 200;
      }, 30_000);
      return { ...p, httpPort: port };
    },
    async metric(name, labels) {
      const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return undefined;
    },
    async waitForRun(runId, timeoutMs = 60_000) {
      return waitFor(`run ${runId} to finish`, async () => {
        const r = await stack.api<RunDetail>('GET', `/v1/runs/${runId}`);
        return r.body.run.status === 'finished' ? r.body : undefined;
      }, timeoutMs, 200);
    },
    async close() {
      for (const p of probes) if (p.child.exitCode === null && p.child.signalCode === null) { p.child.kill('SIGKILL'); await p.exited; }
      await stack.plane?.close(0).catch(() => undefined);
      await bot.close();
      await nats.drop();
      await db.drop();
    },
  };
  await stack.startPlane();
  return stack;
}

export const CHAT_TARGET = (bot: RefBot, name = 'refbot-openai') => ({ name, channel: 'chat.openai', endpoint: `${bot.url}/v1`, config: { model: 'vigil-refbot' } });
