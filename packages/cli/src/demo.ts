/**
 * `vigil demo` — the embedded default: a plane, one local probe and the reference chat bot in one process,
 * with the example journeys on a schedule. No external services: PGlite when DATABASE_URL is unset and an
 * in-process run bus when NATS_URL is unset; with both set the same command runs on Postgres and NATS.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryBus } from '@vigil/bus';
import { VigilError } from '@vigil/errors';
import { planeOptionsFromEnv, startPlane, createLogger, type Plane } from '@vigil/plane';
import { Probe } from '@vigil/probe';
import { EXAMPLE_JOURNEYS_DIR, type RefBot } from '@vigil/refbot';
import { CONTACT_CENTER_JOURNEYS_DIR, serveApi, startContactCenter, type ContactCenter } from '@vigil/refcc';
import { ApiClient } from './api-client.ts';

export interface DemoOptions {
  /** Stop after this many runs finished (0: run until SIGINT/SIGTERM). */
  runs?: number;
  intervalMs?: number;
  out?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

export interface Demo {
  plane: Plane;
  probe: Probe;
  /** The reference contact center: IVR, voice bot, agent queue, CRM and the chat entrance. */
  center: ContactCenter;
  bot: Pick<RefBot, 'url'>;
  api: ApiClient;
  stop(): Promise<void>;
}

export async function startDemo(o: DemoOptions = {}): Promise<Demo> {
  const env = o.env ?? process.env;
  const out = o.out ?? process.stdout;
  const logger = createLogger(env.VIGIL_LOG_LEVEL ?? 'warn', 'vigil-demo');
  // Fixed ports by default, so targets stored by an earlier demo (Postgres or a PGlite directory) still point
  // at the contact center.
  const center = await startContactCenter({ chatPort: Number(env.VIGIL_DEMO_BOT_PORT ?? 8090), sipPort: Number(env.VIGIL_DEMO_SIP_PORT ?? 5070) });
  const ccApi = await serveApi(center, { port: Number(env.VIGIL_DEMO_CC_PORT ?? 8091) });
  const bot = { url: center.chatUrl, close: async () => { await ccApi.close(); await center.stop(); } };
  const token = `vgp_demo_${randomBytes(16).toString('hex')}`;
  const planeOpts = planeOptionsFromEnv(env);
  const bus = planeOpts.natsUrl ? undefined : new MemoryBus();
  let plane: Plane;
  try {
    plane = await startPlane({ ...planeOpts, probeTokens: [...(planeOpts.probeTokens ?? []), token], heartbeatIntervalMs: planeOpts.heartbeatIntervalMs ?? 5000 }, { logger, bus });
  } catch (e) {
    await bot.close();
    throw e;
  }
  const region = env.VIGIL_REGION ?? 'local';
  const probe = new Probe({
    region, token, probeId: `demo-probe-${region}`, planeAddress: plane.grpcAddress, natsUrl: planeOpts.natsUrl,
    natsStream: planeOpts.natsStream, natsSubjectPrefix: planeOpts.natsSubjectPrefix, httpPort: Number(env.VIGIL_PROBE_HTTP_PORT ?? 0), logLevel: env.VIGIL_LOG_LEVEL ?? 'warn',
  }, { logger, bus });
  await probe.start();
  const api = new ApiClient({ baseUrl: plane.httpUrl, token: planeOpts.apiToken });

  const targets = [
    { name: 'refbot-openai', channel: 'chat.openai', endpoint: `${bot.url}/v1`, config: { model: 'vigil-refbot', stream: true } },
    { name: 'refbot-webhook', channel: 'chat.http', endpoint: `${bot.url}/webhook`, config: { replyPath: '$.reply', sessionPath: '$.session_id' } },
    { name: 'refbot-ws', channel: 'chat.websocket', endpoint: `${bot.url.replace('http', 'ws')}/ws`, config: { replyPath: '$.text', filter: { path: '$.type', equals: 'reply' } } },
    // The journeys' cross-system checks query the contact center's API (CRM, agent desktop): {{vars.cc}}.
    { name: 'refcc-ivr', channel: 'voice.sip', endpoint: center.ivrUri, config: { allowlist: [center.ivrUri, center.botUri, center.agentsUri], vars: { cc: ccApi.url }, httpAllow: [ccApi.url] } },
    { name: 'refcc-bot', channel: 'voice.sip', endpoint: center.botUri, config: { allowlist: [center.botUri, center.agentsUri], vars: { cc: ccApi.url }, httpAllow: [ccApi.url] } },
  ];
  for (const t of targets) {
    try {
      await api.request('POST', '/v1/targets', t);
    } catch (e) {
      if (!(e instanceof VigilError && e.code === 'VIGIL_E_CONFLICT')) throw e;
      // A persistent database from an earlier demo already has it.
    }
  }
  for (const dir of [EXAMPLE_JOURNEYS_DIR, CONTACT_CENTER_JOURNEYS_DIR]) {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml')).sort()) {
      await api.request('POST', `/v1/journeys?file=${encodeURIComponent(f)}`, readFileSync(join(dir, f), 'utf8'), 'application/yaml');
    }
  }
  const intervalMs = o.intervalMs ?? Number(env.VIGIL_DEMO_INTERVAL_MS ?? 30_000);
  const existing = await api.request<{ schedules: unknown[] }>('GET', '/v1/schedules');
  if (existing.schedules.length === 0) {
    for (const [journey, target] of [['balance-inquiry', 'refbot-openai'], ['card-lost', 'refbot-webhook'], ['balance-inquiry', 'refbot-ws'], ['ivr-billing', 'refcc-ivr'], ['ivr-agent-transfer', 'refcc-ivr'], ['bot-lost-card', 'refcc-bot']] as const) {
      await api.request('POST', '/v1/schedules', { journey, target, regions: [region], intervalMs, jitterMaxMs: Math.min(2000, Math.floor(intervalMs / 10)) });
    }
  }
  out.write([
    '',
    'Vigil demo is running.',
    `  API           ${plane.httpUrl}/v1   (docs ${plane.httpUrl}/docs, OpenAPI ${plane.httpUrl}/openapi.json)`,
    `  metrics       ${plane.httpUrl}/metrics`,
    `  probe         ${probe.options.probeId} in region ${region}; /ready and /metrics on http://127.0.0.1:${probe.httpPort}`,
    `  contact center IVR ${center.ivrUri}, voice bot ${center.botUri}, agents ${center.agentsUri}`,
    `                chat ${bot.url} (OpenAI-compatible /v1, webhook /webhook, WebSocket /ws)`,
    `                ground truth, CRM and fault switches ${ccApi.url}/v1/calls, /v1/crm/cases, PUT /v1/faults`,
    `  storage       ${plane.store.database.kind}${planeOpts.databaseUrl ? '' : ' (set DATABASE_URL for Postgres)'}; run bus ${plane.bus.kind}${planeOpts.natsUrl ? '' : ' (set NATS_URL for JetStream)'}`,
    `  schedules     6 (3 chat; 3 voice: IVR billing, IVR → agent transfer, voice bot + CRM check), every ${Math.round(intervalMs / 1000)} s`,
    '',
    `Try: VIGIL_API_URL=${plane.httpUrl} node packages/cli/src/main.ts runs list`,
    '',
  ].join('\n'));

  let stopping: Promise<void> | undefined;
  return {
    plane, probe, bot, center, api,
    stop() {
      stopping ??= (async () => {
        await probe.stop(5000);
        await plane.close();
        await bot.close();
      })();
      return stopping;
    },
  };
}

/** Prints each finished run until `runs` have finished (or forever when runs = 0). Returns the verdicts. */
export async function followRuns(demo: Demo, runs: number, out: NodeJS.WritableStream, signal: AbortSignal): Promise<string[]> {
  const seen = new Set<string>();
  const verdicts: string[] = [];
  while (!signal.aborted && (runs === 0 || verdicts.length < runs)) {
    const { runs: list } = await demo.api.request<{ runs: Array<{ id: string; journey: { name: string }; target: { name: string }; region: string; verdict: string | null; durationMs: number | null }> }>('GET', '/v1/runs?status=finished&limit=50');
    for (const r of list.reverse()) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      verdicts.push(r.verdict ?? 'unknown');
      out.write(`${new Date().toISOString()}  ${String(r.verdict).toUpperCase().padEnd(5)} ${r.journey.name} → ${r.target.name} [${r.region}] ${Math.round(r.durationMs ?? 0)} ms  run ${r.id}\n`);
      if (runs !== 0 && verdicts.length >= runs) break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return verdicts;
}
