/** Target definitions: what each chat channel needs, validated with errors that name the field and the fix. */
import { CHANNELS, type Channel, type TargetSpec } from '@vigil/contract';
import { VigilError } from '@vigil/errors';
import { PII_KINDS, type PiiKind } from '@vigil/journey';

export interface OpenAiTargetConfig {
  model: string;
  /** System prompt sent first in every conversation. */
  system?: string;
  /** Stream the reply (SSE) and measure time to first token. @default true */
  stream?: boolean;
  headers?: Record<string, string>;
  temperature?: number;
}

export interface HttpTargetConfig {
  /** JSON body with "{{message}}" and "{{session_id}}" placeholders. @default {"session_id":"{{session_id}}","message":"{{message}}"} */
  bodyTemplate?: unknown;
  /** JSONPath to the reply text in the response body. @default "$.reply" */
  replyPath?: string;
  /** JSONPath to a session id the bot assigns in its first answer; the first turn sends an empty {{session_id}}, later turns the bot's. Absent: the probe's own id per run. */
  sessionPath?: string;
  headers?: Record<string, string>;
}

export interface WebSocketTargetConfig {
  /** JSON message with "{{message}}" and "{{session_id}}" placeholders. @default {"type":"message","session_id":"{{session_id}}","text":"{{message}}"} */
  sendTemplate?: unknown;
  /** JSONPath to the reply text in a bot message. @default "$.text" */
  replyPath?: string;
  /** Only messages where this JSONPath equals the value count as replies (e.g. {path:"$.type", equals:"reply"}). */
  filter?: { path: string; equals: unknown };
  /** Streaming bots: chunks are concatenated until a message where this JSONPath equals the value. */
  done?: { path: string; equals: unknown };
  headers?: Record<string, string>;
}

export const DEFAULT_HTTP_BODY = { session_id: '{{session_id}}', message: '{{message}}' };
export const DEFAULT_WS_MESSAGE = { type: 'message', session_id: '{{session_id}}', text: '{{message}}' };

export interface TargetInput {
  name?: unknown;
  channel?: unknown;
  endpoint?: unknown;
  credentialsRef?: unknown;
  config?: unknown;
}

function bad(field: string, message: string, fix: string): VigilError {
  return new VigilError('VIGIL_E_TARGET_INVALID', message, { field, fix });
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkHeaders(field: string, v: unknown): void {
  if (v === undefined) return;
  if (!isObj(v) || !Object.values(v).every((x) => typeof x === 'string')) throw bad(field, `${field} must map header names to strings`, 'e.g. {"x-test-call": "vigil"}');
  for (const k of Object.keys(v)) {
    if (/^authorization$/i.test(k)) throw bad(`${field}.${k}`, 'secrets do not belong in target headers', 'store the secret on the probe and set credentialsRef (e.g. "env:BOT_TOKEN")');
  }
}

function checkJsonPath(field: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== 'string' || !v.startsWith('$')) throw bad(field, `${field} must be a JSONPath starting with $`, 'e.g. "$.reply.text"');
}

function checkMatch(field: string, v: unknown): void {
  if (v === undefined) return;
  if (!isObj(v) || typeof v.path !== 'string' || !v.path.startsWith('$') || !('equals' in v)) throw bad(field, `${field} must be {path: "$.<field>", equals: <value>}`, 'e.g. {"path": "$.type", "equals": "reply"}');
}

function checkTemplate(field: string, v: unknown): void {
  if (v === undefined) return;
  if (!JSON.stringify(v).includes('{{message}}')) throw bad(field, `${field} must contain the placeholder "{{message}}"`, 'put "{{message}}" where the caller\'s text goes');
}

/** Validates a target definition from the API or the CLI and returns it with defaults filled in. */
function checkCheckConfig(config: Record<string, unknown>): void {
  const nameOk = (k: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k);
  if (config.vars !== undefined && (!isObj(config.vars) || !Object.entries(config.vars).every(([k, v]) => nameOk(k) && typeof v === 'string'))) {
    throw bad('config.vars', 'config.vars must map names (letters, digits, _) to strings', 'e.g. { "crm_url": "https://crm.staging.example" }, used in journeys as {{vars.crm_url}}');
  }
  if (config.secrets !== undefined && (!isObj(config.secrets) || !Object.entries(config.secrets).every(([k, v]) => nameOk(k) && typeof v === 'string' && /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/.test(v)))) {
    throw bad('config.secrets', 'config.secrets must map names to "env:NAME" or "file:/path" references', 'e.g. { "crm_token": "env:CRM_TOKEN" }; the probe resolves them, the plane never sees the values');
  }
  if (config.httpAllow !== undefined) {
    const list = config.httpAllow;
    const origin = (u: unknown) => { try { const x = new URL(String(u)); return (x.protocol === 'http:' || x.protocol === 'https:') && x.origin === String(u).replace(/\/$/, ''); } catch { return false; } };
    if (!Array.isArray(list) || !list.every(origin)) throw bad('config.httpAllow', 'config.httpAllow must list origins (scheme://host[:port], no path)', 'e.g. ["https://crm.staging.example"]: the only places journeys\' http checks may call');
  }
  if (config.telemetry !== undefined) {
    const t = config.telemetry;
    const fix = 'e.g. {"url": "https://bot.example/v1/telemetry?runId={{run.id}}", "waitMs": 2000}: where the target reports each caller turn (what it heard, its intent, ASR/LLM/TTS ms)';
    if (!isObj(t) || Object.keys(t).some((k) => k !== 'url' && k !== 'waitMs')) throw bad('config.telemetry', 'config.telemetry must be {url, waitMs?}', fix);
    let u: URL | undefined;
    try { u = new URL(String(t.url)); } catch { /* reported below */ }
    if (typeof t.url !== 'string' || !u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password) throw bad('config.telemetry.url', 'config.telemetry.url must be an http(s) URL without credentials ({{run.id}} is filled in)', fix);
    if (t.waitMs !== undefined && (typeof t.waitMs !== 'number' || !Number.isInteger(t.waitMs) || t.waitMs < 0 || t.waitMs > 60_000)) throw bad('config.telemetry.waitMs', 'config.telemetry.waitMs must be an integer from 0 to 60000', 'how long to wait for the target to report every turn, e.g. 2000');
  }
}

export function validateTarget(input: TargetInput, id = ''): TargetSpec {
  if (typeof input.name !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,99}$/.test(input.name)) throw bad('name', 'name is required: lowercase letters, digits, ".", "_" or "-"', 'e.g. "support-bot-staging"');
  if (typeof input.channel !== 'string' || !(CHANNELS as readonly string[]).includes(input.channel)) throw bad('channel', `channel must be one of: ${CHANNELS.join(', ')}`, 'pick the protocol the bot speaks');
  const channel = input.channel as Channel;
  if (typeof input.endpoint !== 'string') throw bad('endpoint', 'endpoint is required', 'set endpoint to the bot\'s URL');
  let url: URL;
  try { url = new URL(input.endpoint); } catch { throw bad('endpoint', `endpoint is not a URL: ${input.endpoint}`, 'use an absolute URL such as http://bot.example:8080/v1'); }
  const schemes = channel === 'chat.websocket' ? ['ws:', 'wss:'] : channel === 'voice.sip' ? ['sip:'] : ['http:', 'https:'];
  if (!schemes.includes(url.protocol)) throw bad('endpoint', `a ${channel} endpoint must use ${schemes.join(' or ')}`, `change the URL scheme to ${schemes[0]?.slice(0, -1)}`);
  if (url.username || url.password) throw bad('endpoint', 'credentials do not belong in the endpoint URL', 'store them on the probe and set credentialsRef');
  if (input.credentialsRef !== undefined && (typeof input.credentialsRef !== 'string' || !/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/.test(input.credentialsRef))) {
    throw bad('credentialsRef', 'credentialsRef must be "env:NAME" or "file:/absolute/path"', 'name where the probe finds the secret; the secret never goes to the plane');
  }
  const config = input.config === undefined ? {} : input.config;
  if (!isObj(config)) throw bad('config', 'config must be an object', 'see the README\'s target reference for each channel');
  const allowed: Record<Channel, string[]> = {
    'chat.openai': ['model', 'system', 'stream', 'headers', 'temperature'],
    'chat.http': ['bodyTemplate', 'replyPath', 'sessionPath', 'headers'],
    'chat.websocket': ['sendTemplate', 'replyPath', 'filter', 'done', 'headers'],
    'voice.sip': ['server', 'transport', 'codecs', 'allowlist', 'headers', 'tts', 'asr', 'silenceMs', 'authUsername', 'tlsCaFile', 'tlsServerName', 'register', 'domain', 'sessionExpiresS', 'srtp'],
  };
  // Every channel: what journeys' cross-system checks may use (http steps, {{vars.x}}, {{secrets.x}}).
  const common = ['vars', 'secrets', 'httpAllow', 'redaction', 'telemetry'];
  for (const k of Object.keys(config)) {
    if (!allowed[channel].includes(k) && !common.includes(k)) throw bad(`config.${k}`, `unknown field config.${k} for channel ${channel}`, `allowed: ${allowed[channel].join(', ')}`);
  }
  checkHeaders('config.headers', config.headers);
  checkCheckConfig(config);
  redactionPolicy(config);
  switch (channel) {
    case 'chat.openai':
      if (typeof config.model !== 'string' || config.model === '') throw bad('config.model', 'config.model is required for chat.openai', 'set the model id the endpoint serves, e.g. "gpt-4o-mini"');
      if (config.system !== undefined && typeof config.system !== 'string') throw bad('config.system', 'config.system must be a string', 'the system prompt text');
      if (config.stream !== undefined && typeof config.stream !== 'boolean') throw bad('config.stream', 'config.stream must be true or false', 'true streams and measures time to first token');
      if (config.temperature !== undefined && (typeof config.temperature !== 'number' || config.temperature < 0 || config.temperature > 2)) throw bad('config.temperature', 'config.temperature must be a number from 0 to 2', 'use 0 for repeatable answers');
      break;
    case 'chat.http':
      checkTemplate('config.bodyTemplate', config.bodyTemplate);
      checkJsonPath('config.replyPath', config.replyPath);
      checkJsonPath('config.sessionPath', config.sessionPath);
      break;
    case 'voice.sip': {
      if (config.transport !== undefined && !['udp', 'tcp', 'tls', 'ws', 'wss'].includes(config.transport as string)) throw bad('config.transport', 'config.transport must be one of udp, tcp, tls, ws, wss', 'what the trunk or SBC listens on');
      const overWs = config.transport === 'ws' || config.transport === 'wss';
      if (overWs && (typeof config.server !== 'string' || !new RegExp(`^${config.transport}://[^\\s/]+(/\\S*)?$`).test(config.server))) throw bad('config.server', `config.server must be a ${config.transport}:// URL for transport ${config.transport}`, `the SIP-over-WebSocket front end, e.g. "${config.transport}://sbc.example:8443/sip"`);
      if (!overWs && config.server !== undefined && (typeof config.server !== 'string' || !/^[^\s:/]+:\d{1,5}$/.test(config.server))) throw bad('config.server', 'config.server must be host:port', 'the outbound proxy or SBC, e.g. "sbc.example:5060"; absent: the endpoint\'s host');
      if (config.tlsCaFile !== undefined && (typeof config.tlsCaFile !== 'string' || !config.tlsCaFile.startsWith('/'))) throw bad('config.tlsCaFile', 'config.tlsCaFile must be an absolute path to a PEM file on the probe', 'the CA that signed the SBC\'s certificate when it is not a public one');
      if (config.tlsServerName !== undefined && typeof config.tlsServerName !== 'string') throw bad('config.tlsServerName', 'config.tlsServerName must be a host name', 'the name in the SBC\'s certificate when it differs from the server address');
      if (config.register !== undefined && typeof config.register !== 'boolean') throw bad('config.register', 'config.register must be true or false', 'true registers (REGISTER) before calling, for trunks that demand it');
      if (config.domain !== undefined && (typeof config.domain !== 'string' || !/^[A-Za-z0-9.-]+$/.test(config.domain))) throw bad('config.domain', 'config.domain must be a host name', 'the host part of the probe\'s address-of-record (From, REGISTER), e.g. "trunk.example"');
      if (config.sessionExpiresS !== undefined && (typeof config.sessionExpiresS !== 'number' || !Number.isInteger(config.sessionExpiresS) || config.sessionExpiresS < 90)) throw bad('config.sessionExpiresS', 'config.sessionExpiresS must be an integer of at least 90', 'RFC 4028 session interval in seconds, e.g. 1800');
      if (config.srtp !== undefined && !['off', 'optional', 'required'].includes(config.srtp as string)) throw bad('config.srtp', 'config.srtp must be "off", "optional" or "required"', '"required" when the trunk only accepts RTP/SAVP with SDES keys');
      if (config.codecs !== undefined && (!Array.isArray(config.codecs) || !config.codecs.every((c) => ['PCMU', 'PCMA', 'opus'].includes(String(c))))) throw bad('config.codecs', 'config.codecs must list PCMU, PCMA and/or opus', 'e.g. ["PCMU", "PCMA"]');
      if (config.allowlist !== undefined && (!Array.isArray(config.allowlist) || !config.allowlist.every((c) => typeof c === 'string'))) throw bad('config.allowlist', 'config.allowlist must be a list of numbers or SIP URIs', 'e.g. ["+442071234567", "sip:ivr@sbc.example"]');
      if (config.tts !== undefined && !['flite', 'espeak-ng'].includes(config.tts as string)) throw bad('config.tts', 'config.tts must be "flite" or "espeak-ng"', 'the caller\'s voice');
      if (config.asr !== undefined && config.asr !== 'pocketsphinx') throw bad('config.asr', 'config.asr must be "pocketsphinx"', 'OpenAI-compatible transcription arrives with its endpoint settings');
      if (config.authUsername !== undefined && (typeof config.authUsername !== 'string' || !input.credentialsRef)) throw bad('config.authUsername', 'config.authUsername needs a string and a credentialsRef for the password', 'e.g. "authUsername": "probe-eu1", "credentialsRef": "env:SIP_PASSWORD"');
      if (config.silenceMs !== undefined && (typeof config.silenceMs !== 'number' || config.silenceMs < 200 || config.silenceMs > 10_000)) throw bad('config.silenceMs', 'config.silenceMs must be 200..10000', 'silence that ends the far end\'s utterance');
      break;
    }
    case 'chat.websocket':
      checkTemplate('config.sendTemplate', config.sendTemplate);
      checkJsonPath('config.replyPath', config.replyPath);
      checkMatch('config.filter', config.filter);
      checkMatch('config.done', config.done);
      break;
  }
  const spec: TargetSpec = { id: id || input.name, name: input.name, channel, endpoint: input.endpoint, config };
  if (typeof input.credentialsRef === 'string') spec.credentialsRef = input.credentialsRef;
  return spec;
}

/** The target's redaction policy: `config.redaction: { dtmf: true, pii: true | [kinds] }`; both default on. */
export interface RedactionPolicy { dtmf: boolean; pii: readonly PiiKind[] }

export function redactionPolicy(config: Record<string, unknown>): RedactionPolicy {
  const r = config.redaction as { dtmf?: unknown; pii?: unknown } | undefined;
  if (r !== undefined && (typeof r !== 'object' || r === null)) throw new VigilError('VIGIL_E_TARGET_INVALID', 'config.redaction must be a map', { field: 'config.redaction', fix: 'e.g. { dtmf: true, pii: true } or { pii: [card, cvv] }' });
  const dtmf = r?.dtmf === undefined ? true : r.dtmf === true;
  let pii: readonly PiiKind[] = PII_KINDS;
  if (r?.pii === false) pii = [];
  else if (Array.isArray(r?.pii)) {
    const bad = r.pii.find((k) => !PII_KINDS.includes(k as PiiKind));
    if (bad !== undefined) throw new VigilError('VIGIL_E_TARGET_INVALID', `config.redaction.pii names an unknown kind ${String(bad)}`, { field: 'config.redaction.pii', fix: `use ${PII_KINDS.join(', ')}` });
    pii = r.pii as PiiKind[];
  }
  return { dtmf, pii };
}

