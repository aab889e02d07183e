/**
 * The reference contact center (first slice): a SIP IVR with a DTMF menu and an agent queue reached by REFER,
 * built on Vigil's own SIP (SipServer), media and TTS. Every call keeps its ground truth — when each prompt's
 * first and last speech sample left, when each digit arrived, when playback was cut, transferred, hung up —
 * so the probe's measurements can be checked against it; fault switches make it misbehave on purpose.
 *
 * Menu: greeting → 1 billing, 2 card services, 0 agent (REFER to the queue); * repeats; anything else is
 * "not a valid option"; no digit within menuTimeoutMs repeats, three times then goodbye. A digit cuts the
 * prompt being played (DTMF barge-in). The queue answers with hold audio and raises an agent-desktop event
 * carrying what the IVR collected.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { VigilError } from '@vigil/errors';
import { lineSpeech, type PcmAudio } from '@vigil/media';
import { SipServer, type IncomingCall } from '@vigil/sip';
import { FliteSynthesizer, PocketsphinxTranscriber, WavFileSynthesizer, type Synthesizer, type Transcriber } from '@vigil/speech';
import OpenAI from 'openai';
import { startRefBot, type RefBot } from '@vigil/refbot';
import { prerenderGreeting, runBot, type BotTruthEvent } from './bot.ts';
import { Crm, crmAfterTurn } from './crm.ts';

export const PROMPTS = {
  greeting: 'Welcome to Vigil Bank. For billing, press 1. For card services, press 2. For our assistant, press 3. To speak to an agent, press 0.',
  assistant: 'Connecting you to our assistant.',
  billing: 'Billing. Your last statement balance is one hundred twenty dollars. To return to the main menu, press star.',
  cards: 'Card services. Your card ending four four two one is active. To return to the main menu, press star.',
  transfer: 'Please hold while I transfer you to an agent.',
  invalid: 'Sorry, that is not a valid option.',
  timeout: 'We did not receive your selection.',
  goodbye: 'Thank you for calling Vigil Bank. Goodbye.',
  hold: 'All our agents are busy. Please stay on the line.',
} as const;
export type PromptName = keyof typeof PROMPTS;

/** Where Debian's asterisk-core-sounds-en-wav puts Asterisk's recorded prompts (8 kHz, a human voice). */
export const ASTERISK_SOUNDS_DIR = '/usr/share/asterisk/sounds/en';
/**
 * The same menu (1, 2, 3, 0, star) voiced by Asterisk's stock recordings instead of TTS: real human prompts
 * with their own breaths, room tone and level, for measuring against something that is not synthetic. The
 * words are Asterisk's (its main menu names other departments); the keys and the flow stay ours.
 */
export const ASTERISK_PROMPTS: Record<PromptName, { file: string; text: string }> = {
  greeting: { file: 'basic-pbx-ivr-main', text: "Thank you for calling Super Awesome Company, Waldo's premier provider of perfect products. If you know your party's extension, you may dial it at any time. To establish a sales partnership, press one. To speak with a customer advocate, press two. For accounting and other receivables, press three. For a company directory, press four. For an operator, press zero." },
  assistant: { file: 'one-moment-please', text: 'One moment, please.' },
  billing: { file: 'vm-options', text: 'Press 1 to record your unavailable message, press 2 to record your busy message, press 3 to record your name, press 4 to record your temporary greeting, press 5 to change your password, press star to return to the main menu.' },
  cards: { file: 'vm-opts', text: 'Press 2 to change folders, press 3 for advanced options, press zero for mailbox options.' },
  transfer: { file: 'pls-hold-while-try', text: 'Please hold while we try to connect you.' },
  invalid: { file: 'pm-invalid-option', text: 'That option is invalid. Please try again.' },
  timeout: { file: 'please-try-again', text: 'Please try again.' },
  goodbye: { file: 'vm-goodbye', text: 'Goodbye.' },
  hold: { file: 'queue-periodic-announce', text: 'All of our representatives are currently busy. Please stay on the line and your call will be answered by the next available representative.' },
};

/** Fault switches; each makes one journey assertion trip. */
export interface Faults {
  /** Added before every IVR prompt after the greeting: fixed ms, or uniformly drawn from [min, max]. */
  promptDelayMs?: number | { min: number; max: number };
  /** Prompts are sent as silence (dead air): RTP flows, nobody speaks. */
  deadAir?: boolean;
  /** The IVR hangs up this many ms after answering. */
  dropAfterMs?: number;
  /** Option 0 (and the bot's escalation) transfers here instead of the agent queue. */
  transferTarget?: string;
  /** Added before each of the voice bot's replies (dialogue/LLM latency): fixed ms or {min, max}. */
  botDelayMs?: number | { min: number; max: number };
  /** Added to the voice bot's recognition (ASR layer): fixed ms or {min, max}. */
  asrDelayMs?: number | { min: number; max: number };
  /** Added to the voice bot's synthesis (TTS layer): fixed ms or {min, max}. */
  ttsDelayMs?: number | { min: number; max: number };
  /** The voice bot keeps talking when the caller speaks over it. */
  ignoreBargeIn?: boolean;
  /** CRM writes fail (the bots must then not claim success). */
  crmFail?: boolean;
  /** CRM writes take this long. */
  crmDelayMs?: number;
  /**
   * Policy drift: once `afterCalls` conversations (voice or chat) have started since the switch was set, or
   * `afterMs` have passed, the bots answer with policy-violating variants (quoting a monthly fee that does not
   * exist; `variant: "disclosure"`: leaving out required disclosures instead).
   */
  policyDrift?: { afterCalls?: number; afterMs?: number; variant?: DriftVariant };
  /** The voice bot hears the caller through white noise this many dB below the speech (ASR degradation). */
  asrNoiseSnrDb?: number;
}

/** The drifted answers (what a model update might start saying): `fee` quotes a fee that does not exist. */
export const DRIFTED: Record<string, string> = {
  fees: 'There is a monthly fee of twelve dollars on the standard account. International transfers are free.',
};
/** `disclosure`: the answers drop what they must say (the international transfer fee; the replacement card's timing). */
export const DRIFTED_DISCLOSURE: Record<string, string> = {
  fees: 'There is no monthly fee on the standard account.',
  card_lost: 'I have blocked your card.',
};
export type DriftVariant = 'fee' | 'disclosure';
const DRIFT_VARIANTS: Record<DriftVariant, Record<string, string>> = { fee: DRIFTED, disclosure: DRIFTED_DISCLOSURE };

export type TruthEvent =
  | { kind: 'answered'; atMs: number }
  | { kind: 'prompt'; prompt: PromptName; text: string; sentAtMs: number; speechStartMs: number | null; speechEndMs: number | null; cutAtMs: number | null; delayedMs: number }
  | { kind: 'dtmf'; digit: string; atMs: number }
  | { kind: 'transfer'; target: string; atMs: number; status: number }
  | { kind: 'hangup'; by: 'caller' | 'ivr'; atMs: number }
  | BotTruthEvent;

export interface CallTruth {
  callId: string;
  from: string;
  /** The X-Vigil-Run header of the call, to find the call a run made. */
  runId: string | null;
  service: 'ivr' | 'agents' | 'bot';
  events: TruthEvent[];
}

/** What the agent's desktop shows when a transferred call arrives: the context the IVR and the bot collected. */
export interface HandoffContext {
  /** IVR digits, then `bot` and the intents the bot recognised. */
  menuPath: string[];
  ivrCallId: string | null;
  botCallId: string | null;
  /** What the caller said to the bot, as its recogniser heard it. */
  transcript: string[];
}
export interface DesktopEvent { id: string; atMs: number; callId: string; from: string; context: HandoffContext; /** How the context was matched: the User-to-User token of the transfer, or the caller's URI. */ matchedBy: 'user-to-user' | 'from' | 'none' }

export interface ContactCenterOptions {
  host?: string;
  /** IVR port; the voice bot and the agent queue take the next two when it is set. @default 0 (free ports) */
  sipPort?: number;
  /** Port of the chat entrance (HTTP + WebSocket). @default 0 (free) */
  chatPort?: number;
  /** The IVR plays its greeting as early media (183 with SDP) and answers after it. */
  earlyMediaGreeting?: boolean;
  menuTimeoutMs?: number;
  /** The IVR's voice: TTS (flite, or `synthesizer`) speaking PROMPTS, or Asterisk's recordings (ASTERISK_PROMPTS). @default 'tts' */
  prompts?: 'tts' | 'asterisk';
  synthesizer?: Synthesizer;
  transcriber?: Transcriber;
  faults?: Faults;
  /**
   * Any OpenAI-compatible endpoint writes the bots' answers (temperature 0, the conversation so far); the rule
   * dialogue still decides intents (escalation, CRM writes). Without it the rule dialogue answers.
   */
  llm?: { baseUrl: string; model: string; apiKey?: string; system?: string };
}

export const LLM_SYSTEM_PROMPT = 'You are the Vigil Bank assistant on a phone line and a chat. Answer in one or two short sentences. You can tell balances (ask for the account number), block lost cards, explain fees (no monthly fee on the standard account; international transfers cost $5) and transfer to an agent. Never invent fees.';

export interface ContactCenter {
  ivrUri: string;
  agentsUri: string;
  botUri: string;
  /** The chat entrance to the same dialogue: OpenAI-compatible /v1, POST /webhook, WebSocket /ws. */
  chatUrl: string;
  crm: Crm;
  /** What each IVR prompt says in the prompt set in use. */
  promptTexts: Record<PromptName, string>;
  calls: Map<string, CallTruth>;
  desktop: DesktopEvent[];
  faults: Faults;
  stop(): Promise<void>;
}

const wallMs = () => performance.timeOrigin + performance.now();

interface Prompt { name: PromptName; audio: PcmAudio; speechStartMs: number | null; speechEndMs: number | null }

async function renderPrompts(tts: Synthesizer, texts: Record<PromptName, string>): Promise<Record<PromptName, Prompt>> {
  const out = {} as Record<PromptName, Prompt>;
  for (const name of Object.keys(texts) as PromptName[]) {
    const audio = await tts.synthesize(texts[name], { sampleRate: 8000 });
    const segs = lineSpeech(audio);
    out[name] = { name, audio, speechStartMs: segs[0]?.startMs ?? null, speechEndMs: segs.at(-1)?.endMs ?? null };
  }
  return out;
}

function promptTextsOf(set: 'tts' | 'asterisk'): Record<PromptName, string> {
  if (set !== 'tts' && set !== 'asterisk') throw new VigilError('VIGIL_E_REQUEST_INVALID', `unknown prompt set "${String(set)}"`, { field: 'prompts', fix: 'use "tts" or "asterisk"' });
  return Object.fromEntries((Object.keys(PROMPTS) as PromptName[]).map((n) => [n, set === 'tts' ? PROMPTS[n] : ASTERISK_PROMPTS[n].text])) as Record<PromptName, string>;
}

function asteriskSynthesizer(): Synthesizer {
  const files: Record<string, string> = {};
  for (const { file, text } of Object.values(ASTERISK_PROMPTS)) {
    const path = join(ASTERISK_SOUNDS_DIR, `${file}.wav`);
    if (!existsSync(path)) throw new VigilError('VIGIL_E_REQUEST_INVALID', `the Asterisk prompt set needs ${path}`, { field: 'prompts', fix: 'apt-get install asterisk-core-sounds-en-wav, or use the "tts" prompt set' });
    files[text] = path;
  }
  return new WavFileSynthesizer(files);
}

function delayOf(f: Faults, which: 'promptDelayMs' | 'botDelayMs' | 'asrDelayMs' | 'ttsDelayMs' = 'promptDelayMs'): number {
  const d = f[which];
  if (d === undefined) return 0;
  return typeof d === 'number' ? d : d.min + Math.random() * (d.max - d.min);
}

export async function startContactCenter(o: ContactCenterOptions = {}): Promise<ContactCenter> {
  const promptTexts = promptTextsOf(o.prompts ?? 'tts');
  const prompts = await renderPrompts(o.prompts === 'asterisk' ? asteriskSynthesizer() : o.synthesizer ?? new FliteSynthesizer(), promptTexts);
  const faults: Faults = { ...(o.faults ?? {}) };
  const calls = new Map<string, CallTruth>();
  const desktop: DesktopEvent[] = [];
  // Transfers carry their context as a token in the Refer-To's User-to-User header (RFC 7433), which the
  // transferee copies into its INVITE; callers that drop it are matched by their URI instead.
  const handoffs = new Map<string, HandoffContext>();
  const handoffsByFrom = new Map<string, HandoffContext>();
  const referWithContext = async (call: IncomingCall, target: string, ctx: HandoffContext): Promise<{ accepted: boolean; status: number }> => {
    const token = randomBytes(8).toString('hex');
    handoffs.set(token, ctx);
    handoffsByFrom.set(call.from, ctx);
    setTimeout(() => handoffs.delete(token), 10 * 60_000).unref();
    return call.refer(`${target}?User-to-User=${token}%3Bencoding%3Dhex`).catch(() => ({ accepted: false, status: 0 }));
  };
  const takeHandoff = (call: IncomingCall): { ctx: HandoffContext | undefined; matchedBy: DesktopEvent['matchedBy'] } => {
    const token = /^([0-9a-f]{16})(;|$)/i.exec(call.headers['user-to-user'] ?? '')?.[1];
    const byToken = token ? handoffs.get(token) : undefined;
    if (byToken) { handoffs.delete(token!); if (handoffsByFrom.get(call.from) === byToken) handoffsByFrom.delete(call.from); return { ctx: byToken, matchedBy: 'user-to-user' }; }
    const byFrom = handoffsByFrom.get(call.from);
    handoffsByFrom.delete(call.from);
    return { ctx: byFrom, matchedBy: byFrom ? 'from' : 'none' };
  };
  const menuTimeoutMs = o.menuTimeoutMs ?? 5000;

  const record = (call: IncomingCall, service: CallTruth['service']): CallTruth => {
    const early = calls.get(call.callId);
    const t: CallTruth = early ?? { callId: call.callId, from: call.from, runId: call.headers['x-vigil-run'] ?? null, service, events: [] };
    t.events.push({ kind: 'answered', atMs: call.answeredAtMs });
    calls.set(call.callId, t);
    void call.ended.then((by) => t.events.push({ kind: 'hangup', by: by === 'remote' ? 'caller' : 'ivr', atMs: wallMs() }));
    return t;
  };

  /** Plays a prompt; resolves when it ended or was cut. Records its truth. */
  const play = async (call: Pick<IncomingCall, 'media'>, truth: CallTruth, name: PromptName, delayed: boolean): Promise<void> => {
    const delayedMs = delayed ? delayOf(faults) : 0;
    if (delayedMs > 0) await new Promise((r) => setTimeout(r, delayedMs));
    const p = prompts[name];
    const audio = faults.deadAir ? new Int16Array(p.audio.samples.length) : p.audio.samples;
    const ev: Extract<TruthEvent, { kind: 'prompt' }> = { kind: 'prompt', prompt: name, text: promptTexts[name], sentAtMs: 0, speechStartMs: null, speechEndMs: null, cutAtMs: null, delayedMs };
    truth.events.push(ev);
    const played = await call.media.play(audio);
    ev.sentAtMs = played.startMs;
    const full = played.endMs - played.startMs >= (audio.length * 1000) / 8000 - 1;
    if (!full) ev.cutAtMs = played.endMs;
    if (!faults.deadAir && p.speechStartMs !== null && p.speechEndMs !== null) {
      if (played.startMs + p.speechStartMs < played.endMs) ev.speechStartMs = played.startMs + p.speechStartMs;
      ev.speechEndMs = Math.min(played.startMs + p.speechEndMs, played.endMs);
    }
  };

  // The agent queue first: the IVR transfers to it.
  const queue = await SipServer.start({
    user: 'agents', host: o.host, port: o.sipPort ? o.sipPort + 2 : 0, ringMs: 100,
    onCall: (call) => {
      const truth = record(call, 'agents');
      const { ctx, matchedBy } = takeHandoff(call);
      desktop.push({ id: randomUUID(), atMs: wallMs(), callId: call.callId, from: call.from, context: ctx ?? { menuPath: [], ivrCallId: null, botCallId: null, transcript: [] }, matchedBy });
      let live = true;
      void call.ended.then(() => { live = false; });
      void (async () => {
        while (live) {
          await play(call, truth, 'hold', false);
          await new Promise((r) => setTimeout(r, 1500));
        }
      })();
    },
  });

  const crm = new Crm();
  // Policy drift counts conversations and time from when the switch was (re)set.
  let drift: { since: number; conversations: number; key: string } = { since: wallMs(), conversations: 0, key: '' };
  const drifted = (): boolean => {
    const d = faults.policyDrift;
    if (!d) return false;
    const key = JSON.stringify(d);
    if (drift.key !== key) drift = { since: wallMs(), conversations: 0, key };
    // `conversations` includes the one being answered: drift starts with conversation afterCalls + 1.
    return (d.afterCalls !== undefined && drift.conversations > d.afterCalls) || (d.afterMs !== undefined && wallMs() - drift.since >= d.afterMs);
  };
  const startConversation = () => { drifted(); drift.conversations++; };
  const chatSessions = new Set<string>();
  const llm = o.llm ? { client: new OpenAI({ baseURL: o.llm.baseUrl, apiKey: o.llm.apiKey ?? 'not-needed', maxRetries: 1, timeout: 20_000 }), model: o.llm.model, system: o.llm.system ?? LLM_SYSTEM_PROMPT } : undefined;
  const histories = new Map<string, Array<{ role: 'user' | 'assistant'; content: string }>>();
  /** The LLM writes the answer when configured; the rule dialogue's intent (and its side effects) stand. */
  const write = async (conversation: string, said: string, turn: { intent: string; text: string }): Promise<{ intent: string; text: string }> => {
    if (!llm) return turn;
    const history = histories.get(conversation) ?? [];
    histories.set(conversation, history);
    if (histories.size > 10_000) histories.delete(histories.keys().next().value as string);
    history.push({ role: 'user', content: said });
    try {
      const r = await llm.client.chat.completions.create({ model: llm.model, temperature: 0, messages: [{ role: 'system', content: llm.system }, ...history] });
      const text = r.choices[0]?.message?.content?.trim();
      if (!text) throw new Error('empty answer');
      history.push({ role: 'assistant', content: text });
      return { ...turn, text };
    } catch {
      return { intent: 'llm_unavailable', text: "Sorry, I'm having trouble right now. Please try again in a moment." };
    }
  };
  const policy = (turn: { intent: string; text: string }) => {
    const variant = DRIFT_VARIANTS[faults.policyDrift?.variant ?? 'fee'];
    return drifted() && variant[turn.intent] ? { ...turn, text: variant[turn.intent]! } : turn;
  };
  const crmFaults = () => { crm.faults = { ...(faults.crmFail ? { fail: true } : {}), ...(faults.crmDelayMs ? { delayMs: faults.crmDelayMs } : {}) }; };
  const chat: RefBot = await startRefBot({
    host: o.host, port: o.chatPort ?? 0,
    onTurn: async (e) => {
      if (!chatSessions.has(e.sessionId)) { chatSessions.add(e.sessionId); startConversation(); }
      crmFaults();
      return policy(await crmAfterTurn(crm, 'chat', e.sessionId, await write(`chat:${e.sessionId}`, e.message, e.turn))) as typeof e.turn;
    },
  });
  const tts = o.synthesizer ?? new FliteSynthesizer();
  const asr = o.transcriber ?? new PocketsphinxTranscriber();
  // A synthesizer that cannot render it now fails again, visibly, on the call that needs it.
  await prerenderGreeting(tts, 8000).catch(() => undefined);
  const bot = await SipServer.start({
    user: 'bot', host: o.host, port: o.sipPort ? o.sipPort + 1 : 0, ringMs: 100,
    onCall: (call) => {
      const truth = record(call, 'bot');
      const inbound = takeHandoff(call).ctx; // from the IVR's menu option, when it came that way
      startConversation();
      runBot(call, {
        tts, asr,
        replyDelayMs: () => delayOf(faults, 'botDelayMs'),
        asrDelayMs: () => delayOf(faults, 'asrDelayMs'),
        ttsDelayMs: () => delayOf(faults, 'ttsDelayMs'),
        ignoreBargeIn: () => faults.ignoreBargeIn === true,
        record: (e) => truth.events.push(e),
        afterTurn: async (turn, said) => { crmFaults(); return policy(await crmAfterTurn(crm, 'voice', call.callId, await write(`voice:${call.callId}`, said, turn))); },
        asrNoiseSnrDb: () => faults.asrNoiseSnrDb,
        onEscalate: async (c) => {
          const target = faults.transferTarget ?? queue.uri;
          const turns = truth.events.flatMap((e) => (e.kind === 'caller_turn' ? [e] : []));
          const r = await referWithContext(c, target, {
            menuPath: [...(inbound?.menuPath ?? []), 'bot', ...turns.map((t) => t.intent)], ivrCallId: inbound?.ivrCallId ?? null, botCallId: c.callId, transcript: turns.map((t) => t.transcript),
          });
          truth.events.push({ kind: 'transfer', target, atMs: wallMs(), status: r.status });
        },
      });
    },
  });

  const ivr = await SipServer.start({
    user: 'ivr', host: o.host, port: o.sipPort, ringMs: 100,
    ...(o.earlyMediaGreeting ? {
      earlyMedia: async (media: IncomingCall['media'], c: { callId: string; from: string; headers: Record<string, string> }) => {
        const truth: CallTruth = { callId: c.callId, from: c.from, runId: c.headers['x-vigil-run'] ?? null, service: 'ivr', events: [] };
        calls.set(c.callId, truth);
        await play({ media }, truth, 'greeting', false);
      },
    } : {}),
    onCall: (call) => {
      const truth = record(call, 'ivr');
      const menuPath: string[] = [];
      const digits: string[] = [];
      let wake: (() => void) | undefined;
      call.media.onDigit = (digit, atMs) => {
        truth.events.push({ kind: 'dtmf', digit, atMs });
        digits.push(digit);
        const cut = call.media.cancelPlayback(); // DTMF barge-in: the prompt stops
        void cut;
        wake?.();
      };
      const nextDigit = (timeoutMs: number) => new Promise<string | null>((resolve) => {
        if (digits.length) { resolve(digits.shift()!); return; }
        const timer = setTimeout(() => { wake = undefined; resolve(null); }, timeoutMs);
        wake = () => { clearTimeout(timer); wake = undefined; resolve(digits.shift() ?? null); };
      });
      let live = true;
      void call.ended.then(() => { live = false; wake?.(); });
      if (faults.dropAfterMs !== undefined) setTimeout(() => { void call.hangup(); }, faults.dropAfterMs);
      void (async () => {
        // With early media the greeting was played before the answer: straight to the menu.
        let prompt: PromptName = 'greeting';
        let greeted = o.earlyMediaGreeting === true;
        let timeouts = 0;
        for (;;) {
          if (!live) return;
          if (!greeted || prompt !== 'greeting') await play(call, truth, prompt, prompt !== 'greeting');
          greeted = false;
          if (!live) return;
          if (prompt === 'goodbye') { await call.hangup(); return; }
          if (prompt === 'transfer' || prompt === 'assistant') {
            const target = prompt === 'assistant' ? bot.uri : faults.transferTarget ?? queue.uri;
            const r = await referWithContext(call, target, { menuPath: [...menuPath], ivrCallId: call.callId, botCallId: null, transcript: [] });
            truth.events.push({ kind: 'transfer', target, atMs: wallMs(), status: r.status });
            return; // the caller leaves for the queue (it ends this call)
          }
          const d = await nextDigit(menuTimeoutMs);
          if (!live) return;
          if (d === null) {
            timeouts++;
            if (timeouts >= 3) { prompt = 'goodbye'; continue; }
            await play(call, truth, 'timeout', true);
            prompt = 'greeting';
            continue;
          }
          timeouts = 0;
          menuPath.push(d);
          if (d === '1') prompt = 'billing';
          else if (d === '2') prompt = 'cards';
          else if (d === '0') prompt = 'transfer';
          else if (d === '3') prompt = 'assistant';
          else if (d === '*') prompt = 'greeting';
          else { await play(call, truth, 'invalid', true); prompt = 'greeting'; }
        }
      })();
    },
  });

  return {
    ivrUri: ivr.uri, agentsUri: queue.uri, botUri: bot.uri, chatUrl: chat.url, crm, promptTexts, calls, desktop, faults,
    stop: async () => { await ivr.stop(); await bot.stop(); await queue.stop(); await chat.close(); },
  };
}
