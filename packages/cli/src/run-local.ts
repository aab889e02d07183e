/**
 * `vigil run <journey.yaml> --target <url|name>`: runs one journey from this machine, without a plane.
 * Exit code: 0 pass, 1 fail (or inconclusive), 2 error (the run could not be judged, or bad input).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { chatDrivers, checkContextFor, validateTarget, WebhookListener, webhookListenerFromEnv } from '@vigil/chat';
import { checksFromEnv } from '@vigil/judge';
import { sipVoiceDriver } from '@vigil/sip';
import type { RunEventBody, TargetSpec, Verdict } from '@vigil/contract';
import { VigilError } from '@vigil/errors';
import { expectedPhrases, parseJourney, runJourney, type RunSummary } from '@vigil/journey';
import { ApiClient } from './api-client.ts';
import { toJUnit } from './junit.ts';

export interface RunLocalOptions {
  journeyFile: string;
  target: string;
  channel?: string;
  model?: string;
  credentials?: string;
  headers?: string[];
  replyPath?: string;
  /** voice.sip: outbound proxy host:port and transport. */
  server?: string;
  transport?: string;
  /**
   * voice.sip: further numbers/URIs the call may reach (transfer targets, redirects); http(s) origins go to
   * config.httpAllow, the systems the journey's http checks may query.
   */
  allow?: string[];
  /** name=value pairs for {{vars.name}} (config.vars). */
  vars?: string[];
  json?: boolean;
  junit?: string;
  out?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

export function exitCodeFor(v: Verdict): number {
  return v === 'pass' ? 0 : v === 'error' ? 2 : 1;
}

function parseHeaders(list: string[] | undefined): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const h of list) {
    const i = h.indexOf(':');
    if (i <= 0) throw new VigilError('VIGIL_E_REQUEST_INVALID', `--header "${h}" is not name:value`, { field: '--header', fix: 'e.g. --header "x-test-call: vigil"' });
    out[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  return out;
}

/** --var name=value and the http(s) origins among --allow: what an ad-hoc target's checks may use. */
function checkConfig(o: RunLocalOptions): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const origins = (o.allow ?? []).filter((a) => /^https?:\/\//.test(a)).map((a) => {
    try { return new URL(a).origin; } catch { throw new VigilError('VIGIL_E_REQUEST_INVALID', `--allow ${a} is not a URL`, { field: '--allow', fix: 'e.g. --allow http://crm.local:8091' }); }
  });
  if (origins.length) config.httpAllow = origins;
  if (o.vars?.length) {
    const vars: Record<string, string> = {};
    for (const v of o.vars) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(v);
      if (!m) throw new VigilError('VIGIL_E_REQUEST_INVALID', `--var "${v}" is not name=value`, { field: '--var', fix: 'e.g. --var crm=http://127.0.0.1:8091' });
      vars[m[1]!] = m[2]!;
    }
    config.vars = vars;
  }
  return config;
}

/** A URL becomes an ad-hoc target; anything else is a target name looked up on the plane. */
export async function resolveTarget(o: RunLocalOptions): Promise<TargetSpec> {
  const env = o.env ?? process.env;
  if (o.target.startsWith('sip:')) {
    const config: Record<string, unknown> = checkConfig(o);
    if (o.server) config.server = o.server;
    if (o.transport) config.transport = o.transport;
    const sipAllow = (o.allow ?? []).filter((a) => !/^https?:\/\//.test(a));
    if (sipAllow.length) config.allowlist = [o.target.split(';')[0], ...sipAllow];
    const headers = parseHeaders(o.headers);
    if (headers) config.headers = headers;
    return validateTarget({ name: 'cli-target', channel: 'voice.sip', endpoint: o.target, config });
  }
  if (!/^(https?|wss?):\/\//.test(o.target)) {
    const t = await new ApiClient().request<{ id: string; name: string; channel: string; endpoint: string; credentialsRef: string | null; config: Record<string, unknown> }>('GET', `/v1/targets/${encodeURIComponent(o.target)}`);
    return validateTarget({ ...t, credentialsRef: t.credentialsRef ?? undefined }, t.id);
  }
  const url = new URL(o.target);
  const channel = o.channel
    ? (o.channel.startsWith('chat.') ? o.channel : `chat.${o.channel}`)
    : url.protocol.startsWith('ws') ? 'chat.websocket' : /\/v1\/?$/.test(url.pathname) ? 'chat.openai' : 'chat.http';
  const config: Record<string, unknown> = checkConfig(o);
  const headers = parseHeaders(o.headers);
  if (headers) config.headers = headers;
  let credentialsRef = o.credentials;
  if (channel === 'chat.openai') {
    config.model = o.model ?? env.OPENAI_MODEL;
    if (!config.model) throw new VigilError('VIGIL_E_TARGET_INVALID', 'an OpenAI-compatible target needs a model', { field: '--model', fix: 'pass --model <id> or set OPENAI_MODEL' });
    if (!credentialsRef && env.OPENAI_API_KEY) credentialsRef = 'env:OPENAI_API_KEY';
  } else if (o.replyPath) {
    config.replyPath = o.replyPath;
  }
  return validateTarget({ name: 'cli-target', channel, endpoint: o.target, credentialsRef, config });
}

const mark: Record<Verdict, string> = { pass: 'PASS', fail: 'FAIL', error: 'ERROR', inconclusive: 'INCONCLUSIVE' };

export async function runLocal(o: RunLocalOptions): Promise<{ summary: RunSummary; events: RunEventBody[] }> {
  const out = o.out ?? process.stdout;
  let source: string;
  try {
    source = await readFile(o.journeyFile, 'utf8');
  } catch (e) {
    throw new VigilError('VIGIL_E_REQUEST_INVALID', `cannot read ${o.journeyFile}: ${(e as Error).message}`, { field: 'journey', fix: 'give the path of a journey YAML file' });
  }
  const parsed = parseJourney(source, o.journeyFile);
  const target = await resolveTarget(o);
  const driver = [...chatDrivers(), sipVoiceDriver].find((d) => d.channel === target.channel);
  if (!driver) throw new VigilError('VIGIL_E_CHANNEL_UNSUPPORTED', `no driver for ${target.channel}`, { fix: 'use a chat or SIP target' });
  const channelFamily = target.channel.startsWith('voice.') ? 'voice' : 'chat';
  if (parsed.journey.channel !== channelFamily) throw new VigilError('VIGIL_E_REQUEST_INVALID', `a ${parsed.journey.channel} journey cannot run against a ${target.channel} target`, { field: '--target', fix: `use a ${parsed.journey.channel} target` });
  const events: RunEventBody[] = [];
  const runId = randomUUID();
  const say = (s: string) => { if (!o.json) out.write(`${s}\n`); };
  say(`vigil run ${parsed.journey.name} → ${target.endpoint} (${target.channel})`);
  const emit = (b: RunEventBody) => {
    events.push(b);
    switch (b.kind) {
      case 'transcript': say(`    ${b.speaker === 'caller' ? 'caller' : 'bot   '}: ${b.text}`); break;
      case 'timing':
        if (b.timing.layer === 'chat_turn') say(`    timing: first token ${b.timing.timeToFirstTokenMs.toFixed(0)} ms, full reply ${b.timing.timeToFullReplyMs.toFixed(0)} ms`);
        else if (b.timing.layer === 'call_setup') say(`    call setup: post-dial delay ${b.timing.postDialDelayMs.toFixed(0)} ms, answer ${b.timing.answerMs.toFixed(0)} ms, setup ${b.timing.setupMs.toFixed(0)} ms`);
        else if (b.timing.layer === 'call_end') say(`    call end: ${(b.timing.durationMs / 1000).toFixed(1)} s, hung up by ${b.timing.endedBy === 'local' ? 'us' : 'the far end'}, loss ${b.timing.lossPercent.toFixed(1)} %, jitter ${b.timing.jitterMs.toFixed(1)} ms, MOS ${b.timing.mos.toFixed(2)}${b.timing.srtpSuite ? `, ${b.timing.srtpSuite}` : ''}`);
        else if (b.timing.layer === 'voice_turn') say(`    voice: ${b.timing.timeToFirstAudioMs ? `first audio ${b.timing.timeToFirstAudioMs.toFixed(0)} ms` : `turn latency ${b.timing.turnLatencyMs.toFixed(0)} ms`}`);
        else if (b.timing.layer === 'asr') say(`    target asr: ${b.timing.finalTranscriptMs.toFixed(0)} ms`);
        else if (b.timing.layer === 'llm') say(`    target llm: ${b.timing.totalMs.toFixed(0)} ms`);
        else if (b.timing.layer === 'tts') say(`    target tts: ${b.timing.timeToFirstByteMs.toFixed(0)} ms`);
        break;
      case 'assertion': if (b.verdict !== 'pass') say(`    ✗ ${b.assertion}: ${b.message}`); break;
      case 'step_finished': say(`  ${b.verdict === 'pass' ? '✓' : '✗'} step ${b.stepIndex + 1} ${b.stepKind} ${mark[b.verdict]} (${b.durationMs.toFixed(0)} ms)${b.errorCode ? ` ${b.errorCode}: ${b.errorMessage}` : ''}`); break;
      default: break;
    }
  };
  // Webhooks: the configured listener, or (when the journey waits for one) one on a free local port.
  const usesWebhooks = parsed.journey.steps.some((st) => st.kind === 'wait_webhook') || parsed.source.includes('{{webhook.url}}');
  const listener = (await webhookListenerFromEnv(o.env ?? process.env)) ?? (usesWebhooks ? await WebhookListener.start() : undefined);
  const hook = listener?.open(runId);
  const summary = await runJourney({
    journey: parsed.journey, emit,
    meta: { journeyVersionId: parsed.contentHash, targetId: target.id, region: 'local', channel: target.channel },
    checks: { ...checkContextFor(target, runId, o.env ?? process.env), ...checksFromEnv(o.env ?? process.env), ...(hook ? { webhook: hook } : {}) },
    open: (signal) => driver.open(target, { runId, sessionId: `vigil-${runId}`, signal, env: o.env ?? process.env, phrases: expectedPhrases(parsed.journey) }),
  });
  hook?.close();
  await listener?.close();
  say(`${mark[summary.verdict]} ${parsed.journey.name}: ${summary.stepsPassed} steps passed, ${summary.stepsFailed} failed, ${summary.durationMs.toFixed(0)} ms${summary.errorCode ? ` (${summary.errorCode}: ${summary.errorMessage})` : ''}`);
  if (o.json) out.write(`${JSON.stringify({ runId, journey: parsed.journey.name, version: parsed.contentHash, target: target.endpoint, ...summary, events }, null, 2)}\n`);
  if (o.junit) await writeFile(o.junit, toJUnit(parsed.journey.name, target.endpoint, events));
  return { summary, events };
}
