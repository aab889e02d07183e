/**
 * Journey format v1. A journey is YAML:
 *
 *   version: 1
 *   name: card-lost
 *   description: A caller reports a lost card and the bot blocks it.
 *   channel: chat
 *   settings: { step_timeout_ms: 15000, stop_on_failure: true }
 *   steps:
 *     - say: I lost my card
 *     - expect: { contains: block, ignore_case: true }
 *     - wait: 500
 *   assertions:            # checked against every bot reply
 *     - max_latency_ms: 5000
 *
 * `parseJourney` returns the typed journey, or throws VIGIL_E_JOURNEY_YAML / VIGIL_E_JOURNEY_INVALID whose
 * details.issues name file, line, column and field for every problem found (not just the first).
 */
import { createHash } from 'node:crypto';
import { LineCounter, parseDocument, isMap, type Document, type Node } from 'yaml';
import { VigilError } from '@vigil/errors';
import { PII_KINDS, type PiiKind } from './pii.ts';

export const JOURNEY_FORMAT_VERSION = 1;
export const STEP_KINDS = ['say', 'expect', 'wait', 'listen', 'dtmf', 'hangup', 'wait_for_silence', 'barge_in', 'hold', 'expect_transfer', 'expect_hangup', 'http', 'capture', 'simulate', 'wait_webhook'] as const;
/** Step kinds each channel family takes. */
export const CHANNEL_STEPS: Record<'chat' | 'voice', readonly StepKindName[]> = {
  chat: ['say', 'expect', 'wait', 'http', 'capture', 'simulate', 'wait_webhook'],
  voice: ['say', 'expect', 'wait', 'listen', 'dtmf', 'hangup', 'wait_for_silence', 'barge_in', 'hold', 'expect_transfer', 'expect_hangup', 'http', 'capture', 'simulate', 'wait_webhook'],
};
/** HTTP methods a cross-system check may use. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/**
 * `{{name}}` placeholders in say text and http url/headers/body: run.id, session.id (chat session), call.id
 * (the current SIP Call-ID), vars.<name> and secrets.<name> (from the target), or a name an earlier capture
 * step set.
 */
export const TEMPLATE_PATTERN = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*\}\}/g;
const BUILTIN_VARIABLES = ['run.id', 'session.id', 'call.id', 'webhook.url'];
type StepKindName = (typeof STEP_KINDS)[number];
export type StepKind = (typeof STEP_KINDS)[number];
export const ASSERTION_KINDS = ['equals', 'contains', 'not_contains', 'regex', 'any_of', 'jsonpath', 'max_latency_ms', 'max_first_token_ms', 'max_barge_in_ms', 'status', 'no_pii', 'fuzzy', 'max_wer', 'judge', 'min_mos', 'max_loss_percent', 'max_jitter_ms', 'semantic', 'intent', 'policy', 'slots'] as const;
/** Checked once the call has ended, on its quality (journey-wide `assertions` of voice journeys only). */
export const CALL_QUALITY_KINDS = ['min_mos', 'max_loss_percent', 'max_jitter_ms'] as const;
export type AssertionKind = (typeof ASSERTION_KINDS)[number];
export const CHANNEL_FAMILIES = ['chat', 'voice'] as const;

export type Assertion =
  | { kind: 'equals' | 'contains' | 'not_contains'; value: string; ignoreCase: boolean; name?: string }
  | { kind: 'regex'; pattern: string; flags: string; name?: string }
  | { kind: 'any_of'; of: Assertion[]; name?: string }
  | { kind: 'jsonpath'; path: string; test: JsonPathTest; name?: string }
  | { kind: 'max_latency_ms' | 'max_first_token_ms' | 'max_barge_in_ms'; limitMs: number; name?: string }
  /** The HTTP status of an http step's response. */
  | { kind: 'status'; value: number; name?: string }
  /** No PII/PCI in the reply (all detectors, or the kinds listed). */
  | { kind: 'no_pii'; kinds: PiiKind[]; name?: string }
  /** The reply says about `text`: word similarity (1 − WER after normalisation v1) of at least `min`. */
  | { kind: 'fuzzy'; text: string; min: number; name?: string }
  /** Voice: what was heard (the raw transcript) is within `max` word error rate of `expected`. */
  | { kind: 'max_wer'; expected: string; max: number; name?: string }
  /**
   * An LLM judge reads the conversation so far and decides whether the last reply meets `rubric`, by majority
   * of `samples`; `inconclusive` when no judge is configured or reachable, never `pass`.
   */
  /** Voice, journey-wide: the call's E-model MOS, packet loss or interarrival jitter (from RTCP/RTP statistics). */
  | { kind: 'min_mos' | 'max_loss_percent' | 'max_jitter_ms'; limit: number; name?: string }
  /**
   * A policy as rules: every `require` phrase is said (required disclosures), no `forbid` phrase is (forbidden
   * statements); phrases match case-insensitively after collapsing whitespace, or as /regex/ when so written.
   */
  | { kind: 'policy'; policy: string; require: string[]; forbid: string[]; name?: string }
  /** Entity/slot extraction by LLM: each named slot's value in the reply (or the caller's turn) must equal the one given (null: absent). */
  | { kind: 'slots'; slots: Record<string, { describe: string; equals: string | null }>; of: 'reply' | 'caller'; name?: string }
  /** Meaning close to `to`: embeddings cosine ≥ `min` (or the labelled lexical fallback without an embeddings endpoint). */
  | { kind: 'semantic'; to: string; min: number; name?: string }
  /** The reply (or the caller's last turn) expresses `expected`, one of `labels` (name → description), by LLM or classifier endpoint. */
  | { kind: 'intent'; expected: string; labels: Record<string, string>; of: 'reply' | 'caller'; name?: string }
  | { kind: 'judge'; rubric: string; /** A rubric file on the probe host (with its calibration); then `rubric` is empty. */ rubricFile?: string; /** Absent: the judge's configured default (VIGIL_JUDGE_SAMPLES, else 3). */ samples?: number; name?: string };

export type JsonPathTest = { op: 'exists'; value: boolean } | { op: 'equals'; value: unknown } | { op: 'contains'; value: string } | { op: 'regex'; value: string };

export type Step =
  /** The caller's text (chat: sent; voice: spoken with TTS), or, voice only, a recorded WAV file played as is. */
  | { kind: 'say'; text: string; wav?: string; name?: string }
  | { kind: 'expect'; assertions: Assertion[]; name?: string }
  | { kind: 'wait'; ms: number; name?: string }
  /** Voice: wait for the far end's next utterance (e.g. the IVR greeting) and transcribe it. */
  | { kind: 'listen'; name?: string }
  /** Voice: send digits as RFC 4733 events. */
  | { kind: 'dtmf'; digits: string; name?: string }
  /** Voice: end the call here. */
  | { kind: 'hangup'; name?: string }
  /** Voice: wait until the far end has been silent for `ms` (e.g. let a prompt finish before keying digits). */
  | { kind: 'wait_for_silence'; ms: number; name?: string }
  /**
   * Voice: speak `text` over the far end's next utterance, `afterMs` after it starts; measures how long the
   * far end takes to stop talking (barge-in) and returns its answer like `say`.
   */
  | { kind: 'barge_in'; text: string; afterMs: number; name?: string }
  /** Voice: put the far end on hold (re-INVITE a=sendonly) for `ms`, then resume (a=sendrecv). */
  | { kind: 'hold'; ms: number; name?: string }
  /**
   * Voice: the far end must transfer the call (REFER) within the step timeout, to a target containing `to`
   * when given; with `follow` (default true) the probe places the transferred call and the journey goes on there.
   */
  | { kind: 'expect_transfer'; to?: string; follow: boolean; name?: string }
  /** Voice: the far end must hang up (BYE) within the step timeout. */
  | { kind: 'expect_hangup'; name?: string }
  /**
   * A cross-system check: an HTTP request (to an origin the target's config.httpAllow lists) whose response
   * must meet `assertions` (status, jsonpath, contains…); repeated every `everyMs` until they hold or
   * `untilMs` has passed (systems catch up asynchronously). The response becomes the last reply.
   */
  | { kind: 'http'; method: (typeof HTTP_METHODS)[number]; url: string; headers: Record<string, string>; body?: string; untilMs: number; everyMs: number; assertions: Assertion[]; name?: string }
  /** Sets variable `as` from the last reply: a JSONPath into its structured form, or a regex's first group over its text. */
  | { kind: 'capture'; as: string; jsonpath?: string; regex?: string; name?: string }
  /**
   * A simulated caller: an LLM plays `persona` pursuing `goal` (within `constraints`) for at most `maxTurns`
   * turns (voice: spoken with TTS); with `judgeGoal` the judge then decides from the whole conversation whether
   * the goal was met. `seed` makes it repeatable where the endpoint honours seeds. `phrases` (voice) add to
   * the phrase set the bot's speech is recognised against.
   */
  /**
   * The next call a system makes to this run's {{webhook.url}} on the probe, within `timeoutMs`; its body
   * becomes the last reply (JSON bodies structured) for `assertions`.
   */
  | { kind: 'wait_webhook'; timeoutMs: number; assertions: Assertion[]; name?: string }
  | { kind: 'simulate'; persona: string; goal: string; constraints: string[]; maxTurns: number; seed: number; judgeGoal: boolean; phrases: string[]; name?: string };

export interface JourneyV1 {
  version: 1;
  name: string;
  description: string;
  channel: 'chat' | 'voice';
  settings: { stepTimeoutMs: number; stopOnFailure: boolean };
  steps: Step[];
  assertions: Assertion[];
}

export interface ParsedJourney {
  journey: JourneyV1;
  /** sha256 of the source text; a journey version is identified by it. */
  contentHash: string;
  source: string;
}

export interface JourneyIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted path, e.g. `steps[2].expect.regex`. */
  field: string;
  message: string;
}

export const DEFAULT_STEP_TIMEOUT_MS = 15_000;
export const MAX_STEPS = 200;
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,99}$/;

type Path = Array<string | number>;

function fieldOf(path: Path): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s || '(document)';
}

class Collector {
  readonly issues: JourneyIssue[] = [];
  readonly #doc: Document;
  readonly #lines: LineCounter;
  readonly #file: string;

  constructor(doc: Document, lines: LineCounter, file: string) {
    this.#doc = doc;
    this.#lines = lines;
    this.#file = file;
  }

  add(path: Path, message: string, at: 'key' | 'value' = 'value'): void {
    let offset = 0;
    // Walk to the deepest node that exists, so a missing key points at its parent map.
    for (let n = path.length; n >= 0; n--) {
      const sub = path.slice(0, n);
      const node = (sub.length === 0 ? this.#doc.contents : this.#doc.getIn(sub, true)) as Node | undefined;
      if (node && node.range) {
        offset = node.range[0];
        if (at === 'key' && n === path.length && n > 0) {
          const parent = (n === 1 ? this.#doc.contents : this.#doc.getIn(sub.slice(0, -1), true)) as Node | undefined;
          if (parent && isMap(parent)) {
            const pair = parent.items.find((it) => (it.key as { value?: unknown } | null)?.value === sub[sub.length - 1]);
            const k = pair?.key as Node | undefined;
            if (k?.range) offset = k.range[0];
          }
        }
        break;
      }
    }
    const pos = this.#lines.linePos(offset);
    this.issues.push({ file: this.#file, line: pos.line, column: pos.col, field: fieldOf(path), message });
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(c: Collector, path: Path, obj: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) c.add([...path, k], `unknown field "${k}" in ${what}; allowed: ${allowed.join(', ')}`, 'key');
  }
}

function parseAssertion(c: Collector, path: Path, raw: unknown): Assertion | undefined {
  if (typeof raw === 'string') return { kind: 'contains', value: raw, ignoreCase: false };
  if (!isObj(raw)) {
    c.add(path, `an assertion must be a map with one of: ${ASSERTION_KINDS.join(', ')}`);
    return undefined;
  }
  const kinds = Object.keys(raw).filter((k) => (ASSERTION_KINDS as readonly string[]).includes(k));
  const name = typeof raw.name === 'string' ? raw.name : undefined;
  if (raw.name !== undefined && typeof raw.name !== 'string') c.add([...path, 'name'], 'name must be a string');
  if (kinds.length !== 1) {
    const unknown = Object.keys(raw).filter((k) => k !== 'name' && k !== 'ignore_case' && k !== 'flags');
    c.add(path, kinds.length === 0
      ? `unknown assertion${unknown.length ? ` "${unknown.join('", "')}"` : ''}; use exactly one of: ${ASSERTION_KINDS.join(', ')}`
      : `an assertion has exactly one kind, found ${kinds.join(' and ')}; split it into separate assertions`);
    return undefined;
  }
  const kind = kinds[0] as AssertionKind;
  const v = raw[kind];
  const p = [...path, kind];
  switch (kind) {
    case 'equals': case 'contains': case 'not_contains': {
      checkKeys(c, path, raw, [kind, 'ignore_case', 'name'], `a ${kind} assertion`);
      if (typeof v !== 'string' && typeof v !== 'number') { c.add(p, `${kind} must be a string`); return undefined; }
      if (raw.ignore_case !== undefined && typeof raw.ignore_case !== 'boolean') c.add([...path, 'ignore_case'], 'ignore_case must be true or false');
      return { kind, value: String(v), ignoreCase: raw.ignore_case === true, name };
    }
    case 'regex': {
      checkKeys(c, path, raw, ['regex', 'flags', 'name'], 'a regex assertion');
      if (typeof v !== 'string') { c.add(p, 'regex must be a string (a JavaScript regular expression without slashes)'); return undefined; }
      const flags = raw.flags === undefined ? '' : String(raw.flags);
      if (!/^[imsu]*$/.test(flags)) { c.add([...path, 'flags'], 'flags may only contain i, m, s, u'); return undefined; }
      try { new RegExp(v, flags); } catch (e) { c.add(p, `regex does not compile: ${(e as Error).message}`); return undefined; }
      return { kind, pattern: v, flags, name };
    }
    case 'any_of': {
      checkKeys(c, path, raw, ['any_of', 'name'], 'an any_of assertion');
      if (!Array.isArray(v) || v.length === 0) { c.add(p, 'any_of must be a non-empty list of assertions (or strings, meaning contains)'); return undefined; }
      const of = v.map((x, i) => parseAssertion(c, [...p, i], x));
      if (of.some((x) => x?.kind === 'judge' || x?.kind === 'semantic' || x?.kind === 'intent' || x?.kind === 'slots')) { c.add(p, 'judge, semantic, intent and slots cannot sit inside any_of; give each its own expect'); return undefined; }
      return of.every((x) => x) ? { kind, of: of as Assertion[], name } : undefined;
    }
    case 'jsonpath': {
      checkKeys(c, path, raw, ['jsonpath', 'name'], 'a jsonpath assertion');
      if (!isObj(v) || typeof v.path !== 'string' || !v.path.startsWith('$')) {
        c.add(p, 'jsonpath must be a map with path (starting with $) and one of: exists, equals, contains, regex');
        return undefined;
      }
      checkKeys(c, p, v, ['path', 'exists', 'equals', 'contains', 'regex'], 'a jsonpath assertion');
      const ops = (['exists', 'equals', 'contains', 'regex'] as const).filter((k) => v[k] !== undefined);
      if (ops.length !== 1) { c.add(p, 'jsonpath needs exactly one of: exists, equals, contains, regex'); return undefined; }
      const op = ops[0]!;
      const val = v[op];
      if (op === 'exists' && typeof val !== 'boolean') { c.add([...p, op], 'exists must be true or false'); return undefined; }
      if ((op === 'contains' || op === 'regex') && typeof val !== 'string') { c.add([...p, op], `${op} must be a string`); return undefined; }
      if (op === 'regex') { try { new RegExp(val as string); } catch (e) { c.add([...p, op], `regex does not compile: ${(e as Error).message}`); return undefined; } }
      return { kind, path: v.path, test: { op, value: val } as JsonPathTest, name };
    }
    case 'status': {
      checkKeys(c, path, raw, ['status', 'name'], 'a status assertion');
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 100 || v > 599) { c.add(p, 'status must be an HTTP status code from 100 to 599'); return undefined; }
      return { kind, value: v, name };
    }
    case 'no_pii': {
      checkKeys(c, path, raw, ['no_pii', 'name'], 'a no_pii assertion');
      if (v === true || v === null || (isObj(v) && Object.keys(v).length === 0)) return { kind, kinds: [...PII_KINDS], name };
      if (!Array.isArray(v) || v.length === 0 || !v.every((k) => (PII_KINDS as readonly string[]).includes(k as string))) { c.add(p, `no_pii takes {} (every detector) or a list of: ${PII_KINDS.join(', ')}`); return undefined; }
      return { kind, kinds: v as PiiKind[], name };
    }
    case 'fuzzy': case 'max_wer': {
      checkKeys(c, path, raw, [kind, 'name'], `a ${kind} assertion`);
      const [textKey, numKey] = kind === 'fuzzy' ? ['text', 'min'] : ['expected', 'max'];
      if (!isObj(v)) { c.add(p, `${kind} must be a map: { ${textKey}: "...", ${numKey}: 0.8 }`); return undefined; }
      checkKeys(c, p, v, [textKey, numKey], `a ${kind} assertion`);
      if (typeof v[textKey] !== 'string' || (v[textKey] as string).trim() === '') { c.add([...p, textKey], `${kind}.${textKey} must be a non-empty string`); return undefined; }
      const n = v[numKey] ?? (kind === 'fuzzy' ? 0.8 : 0.2);
      if (typeof n !== 'number' || n < 0 || n > 1) { c.add([...p, numKey], `${kind}.${numKey} must be a number from 0 to 1`); return undefined; }
      return kind === 'fuzzy' ? { kind, text: v.text as string, min: n, name } : { kind, expected: v.expected as string, max: n, name };
    }
    case 'policy': {
      checkKeys(c, path, raw, ['policy', 'name'], 'a policy assertion');
      if (!isObj(v)) { c.add(p, 'policy must be a map: { name: fee-disclosure, require: [...], forbid: [...] }'); return undefined; }
      checkKeys(c, p, v, ['name', 'require', 'forbid'], 'a policy assertion');
      const list = (k: 'require' | 'forbid') => {
        const x = v[k] ?? [];
        if (!Array.isArray(x) || !x.every((e) => typeof e === 'string' && e.trim() !== '')) { c.add([...p, k], `policy.${k} must be a list of phrases (or /regex/)`); return undefined; }
        for (const [i, e] of (x as string[]).entries()) {
          const m = /^\/(.+)\/([imsu]*)$/.exec(e);
          if (m) { try { new RegExp(m[1]!, m[2]); } catch (err) { c.add([...p, k, i], `regex does not compile: ${(err as Error).message}`); return undefined; } }
        }
        return x as string[];
      };
      const require = list('require');
      const forbid = list('forbid');
      if (!require || !forbid) return undefined;
      if (require.length + forbid.length === 0) { c.add(p, 'policy needs at least one require or forbid phrase'); return undefined; }
      return { kind, policy: typeof v.name === 'string' ? v.name : 'policy', require, forbid, name };
    }
    case 'slots': {
      checkKeys(c, path, raw, ['slots', 'name'], 'a slots assertion');
      if (!isObj(v) || !isObj(v.expect)) { c.add(p, 'slots must be a map: { expect: { account: { describe: "the account number", equals: "12345678" } }, of: reply|caller }'); return undefined; }
      checkKeys(c, p, v, ['expect', 'of'], 'a slots assertion');
      const slots: Record<string, { describe: string; equals: string | null }> = {};
      for (const [k, sv] of Object.entries(v.expect)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || !isObj(sv) || typeof sv.describe !== 'string' || !(sv.equals === null || typeof sv.equals === 'string' || typeof sv.equals === 'number')) {
          c.add([...p, 'expect', k], 'each slot needs describe (what it is) and equals (its expected value, or null for absent)'); return undefined;
        }
        slots[k] = { describe: sv.describe, equals: sv.equals === null ? null : String(sv.equals) };
      }
      if (Object.keys(slots).length === 0) { c.add([...p, 'expect'], 'slots.expect needs at least one slot'); return undefined; }
      if (v.of !== undefined && v.of !== 'reply' && v.of !== 'caller') { c.add([...p, 'of'], 'slots.of must be "reply" (default) or "caller"'); return undefined; }
      return { kind, slots, of: v.of === 'caller' ? 'caller' : 'reply', name };
    }
    case 'semantic': {
      checkKeys(c, path, raw, ['semantic', 'name'], 'a semantic assertion');
      if (!isObj(v) || typeof v.to !== 'string' || v.to.trim() === '') { c.add(p, 'semantic must be a map: { to: "what the reply should mean", min: 0.8 }'); return undefined; }
      checkKeys(c, p, v, ['to', 'min'], 'a semantic assertion');
      const min = v.min ?? 0.8;
      if (typeof min !== 'number' || min < 0 || min > 1) { c.add([...p, 'min'], 'semantic.min must be a number from 0 to 1'); return undefined; }
      return { kind, to: v.to, min, name };
    }
    case 'intent': {
      checkKeys(c, path, raw, ['intent', 'name'], 'an intent assertion');
      if (!isObj(v)) { c.add(p, 'intent must be a map: { expected: card_lost, labels: { card_lost: "...", other: "..." } }'); return undefined; }
      checkKeys(c, p, v, ['expected', 'labels', 'of'], 'an intent assertion');
      if (!isObj(v.labels) || Object.keys(v.labels).length < 2 || !Object.values(v.labels).every((d) => typeof d === 'string')) { c.add([...p, 'labels'], 'intent.labels must map at least two intent names to descriptions'); return undefined; }
      if (typeof v.expected !== 'string' || !(v.expected in v.labels)) { c.add([...p, 'expected'], `intent.expected must be one of the labels: ${Object.keys(v.labels).join(', ')}`); return undefined; }
      if (v.of !== undefined && v.of !== 'reply' && v.of !== 'caller') { c.add([...p, 'of'], 'intent.of must be "reply" (default) or "caller"'); return undefined; }
      return { kind, expected: v.expected, labels: v.labels as Record<string, string>, of: v.of === 'caller' ? 'caller' : 'reply', name };
    }
    case 'min_mos': case 'max_loss_percent': case 'max_jitter_ms': {
      checkKeys(c, path, raw, [kind, 'name'], `a ${kind} assertion`);
      const [lo, hi] = kind === 'min_mos' ? [1, 4.5] : kind === 'max_loss_percent' ? [0, 100] : [0, 10_000];
      if (typeof v !== 'number' || v < lo || v > hi) { c.add(p, `${kind} must be a number from ${lo} to ${hi}`); return undefined; }
      return { kind, limit: v, name };
    }
    case 'judge': {
      checkKeys(c, path, raw, ['judge', 'name'], 'a judge assertion');
      const o = typeof v === 'string' ? { rubric: v } : v;
      if (!isObj(o)) { c.add(p, 'judge must be the rubric text, or { rubric: "...", samples: 3 }'); return undefined; }
      checkKeys(c, p, o, ['rubric', 'rubric_file', 'samples'], 'a judge assertion');
      if ((o.rubric === undefined) === (o.rubric_file === undefined)) { c.add(p, 'judge takes either rubric (the text) or rubric_file (a calibrated rubric file on the probe host)'); return undefined; }
      if (o.rubric_file !== undefined && (typeof o.rubric_file !== 'string' || !/^\/\S+\.ya?ml$/.test(o.rubric_file))) { c.add([...p, 'rubric_file'], 'judge.rubric_file must be an absolute path to a .yaml rubric file on the probe host'); return undefined; }
      if (o.rubric !== undefined && (typeof o.rubric !== 'string' || o.rubric.trim().length < 10)) { c.add([...p, 'rubric'], 'judge.rubric must say what a good reply does (at least 10 characters)'); return undefined; }
      const samples = o.samples;
      if (samples !== undefined && (typeof samples !== 'number' || !Number.isInteger(samples) || samples < 1 || samples > 15)) { c.add([...p, 'samples'], 'judge.samples must be a whole number from 1 to 15 (odd numbers avoid ties)'); return undefined; }
      return { kind, rubric: typeof o.rubric === 'string' ? o.rubric : '', ...(typeof o.rubric_file === 'string' ? { rubricFile: o.rubric_file } : {}), ...(samples !== undefined ? { samples } : {}), name };
    }
    case 'max_latency_ms': case 'max_first_token_ms': case 'max_barge_in_ms': {
      checkKeys(c, path, raw, [kind, 'name'], `a ${kind} assertion`);
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) { c.add(p, `${kind} must be a positive number of milliseconds`); return undefined; }
      return { kind, limitMs: v, name };
    }
  }
}

function parseAssertions(c: Collector, path: Path, raw: unknown): Assertion[] | undefined {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) { c.add(path, 'needs at least one assertion'); return undefined; }
  const out = list.map((a, i) => parseAssertion(c, Array.isArray(raw) ? [...path, i] : path, a));
  return out.every((a) => a) ? (out as Assertion[]) : undefined;
}

function parseStep(c: Collector, path: Path, raw: unknown): Step | undefined {
  if (!isObj(raw)) { c.add(path, `a step must be a map with one of: ${STEP_KINDS.join(', ')}`); return undefined; }
  const kinds = Object.keys(raw).filter((k) => k !== 'name');
  const name = typeof raw.name === 'string' ? raw.name : undefined;
  if (raw.name !== undefined && typeof raw.name !== 'string') c.add([...path, 'name'], 'name must be a string');
  if (kinds.length !== 1) {
    c.add(path, kinds.length === 0 ? `step has no kind; use one of: ${STEP_KINDS.join(', ')}` : `a step has exactly one kind, found ${kinds.join(', ')}; split it into separate steps`);
    return undefined;
  }
  const kind = kinds[0]!;
  const v = raw[kind];
  const p = [...path, kind];
  switch (kind) {
    case 'say':
      if (isObj(v)) {
        checkKeys(c, p, v, ['text', 'wav'], 'a say step');
        if ((v.text === undefined) === (v.wav === undefined)) { c.add(p, 'say takes either text or wav: { text: "..." } or { wav: "/path/recording.wav" }'); return undefined; }
        if (v.wav !== undefined) {
          if (typeof v.wav !== 'string' || !/^\/\S+\.wav$/i.test(v.wav)) { c.add([...p, 'wav'], 'say.wav must be an absolute path to a .wav file on the probe host'); return undefined; }
          return { kind: 'say', text: `[audio ${v.wav.split('/').pop()}]`, wav: v.wav, name };
        }
        if (typeof v.text !== 'string' || v.text.trim() === '') { c.add([...p, 'text'], 'say.text must be the non-empty text the caller sends'); return undefined; }
        return { kind: 'say', text: v.text, name };
      }
      if (typeof v !== 'string' || v.trim() === '') { c.add(p, 'say must be the non-empty text the caller sends'); return undefined; }
      return { kind: 'say', text: v, name };
    case 'expect': {
      const assertions = parseAssertions(c, p, v);
      return assertions ? { kind: 'expect', assertions, name } : undefined;
    }
    case 'wait': {
      const ms = isObj(v) ? v.ms : v;
      if (isObj(v)) checkKeys(c, p, v, ['ms'], 'a wait step');
      if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > 600_000) { c.add(p, 'wait must be a whole number of milliseconds from 0 to 600000'); return undefined; }
      return { kind: 'wait', ms, name };
    }
    case 'listen': case 'hangup': case 'expect_hangup':
      if (v !== null && v !== true && !(isObj(v) && Object.keys(v).length === 0)) { c.add(p, `${kind} takes no settings: write "- ${kind}: {}"`); return undefined; }
      return { kind, name };
    case 'wait_for_silence': case 'hold': {
      const ms = isObj(v) ? v.ms : v;
      if (isObj(v)) checkKeys(c, p, v, ['ms'], `a ${kind} step`);
      const [lo, hi] = kind === 'hold' ? [0, 600_000] : [100, 60_000];
      if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < lo || ms > hi) { c.add(p, `${kind} must be a whole number of milliseconds from ${lo} to ${hi}`); return undefined; }
      return { kind, ms, name };
    }
    case 'barge_in': {
      if (!isObj(v)) { c.add(p, 'barge_in must be a map: { say: <text>, after_ms: <ms into the far end\'s speech> }'); return undefined; }
      checkKeys(c, p, v, ['say', 'after_ms'], 'a barge_in step');
      if (typeof v.say !== 'string' || v.say.trim() === '') { c.add([...p, 'say'], 'barge_in.say must be the non-empty text the caller speaks over the far end'); return undefined; }
      const after = v.after_ms ?? 500;
      if (typeof after !== 'number' || !Number.isInteger(after) || after < 0 || after > 60_000) { c.add([...p, 'after_ms'], 'barge_in.after_ms must be a whole number of milliseconds from 0 to 60000'); return undefined; }
      return { kind, text: v.say, afterMs: after, name };
    }
    case 'expect_transfer': {
      const o = v === null || v === true ? {} : v;
      if (!isObj(o)) { c.add(p, 'expect_transfer must be a map: { to: <part of the Refer-To URI>, follow: true|false } or {}'); return undefined; }
      checkKeys(c, p, o, ['to', 'follow'], 'an expect_transfer step');
      if (o.to !== undefined && (typeof o.to !== 'string' || o.to === '')) { c.add([...p, 'to'], 'expect_transfer.to must be a non-empty string the Refer-To URI contains, e.g. "sip:agents@"'); return undefined; }
      if (o.follow !== undefined && typeof o.follow !== 'boolean') { c.add([...p, 'follow'], 'expect_transfer.follow must be true or false'); return undefined; }
      return { kind, ...(typeof o.to === 'string' ? { to: o.to } : {}), follow: o.follow !== false, name };
    }
    case 'http': {
      if (!isObj(v)) { c.add(p, 'http must be a map: { url: "...", expect: [...] } (method, headers, body, until_ms, every_ms optional)'); return undefined; }
      checkKeys(c, p, v, ['method', 'url', 'headers', 'body', 'until_ms', 'every_ms', 'expect'], 'an http step');
      const method = v.method === undefined ? 'GET' : String(v.method).toUpperCase();
      if (!(HTTP_METHODS as readonly string[]).includes(method)) { c.add([...p, 'method'], `http.method must be one of: ${HTTP_METHODS.join(', ')}`); return undefined; }
      if (typeof v.url !== 'string' || !/^(https?:\/\/|\{\{)/.test(v.url)) { c.add([...p, 'url'], 'http.url must be an absolute http(s) URL, or start with a {{vars.…}} placeholder'); return undefined; }
      const headers: Record<string, string> = {};
      if (v.headers !== undefined) {
        if (!isObj(v.headers) || !Object.entries(v.headers).every(([k, x]) => /^[A-Za-z0-9-]+$/.test(k) && typeof x === 'string')) { c.add([...p, 'headers'], 'http.headers must map header names to strings (use {{secrets.name}} for tokens)'); return undefined; }
        Object.assign(headers, v.headers);
      }
      let body: string | undefined;
      if (v.body !== undefined) body = typeof v.body === 'string' ? v.body : JSON.stringify(v.body);
      const until = v.until_ms ?? 0;
      const every = v.every_ms ?? 500;
      if (typeof until !== 'number' || !Number.isInteger(until) || until < 0 || until > 600_000) { c.add([...p, 'until_ms'], 'http.until_ms must be a whole number of milliseconds from 0 to 600000'); return undefined; }
      if (typeof every !== 'number' || !Number.isInteger(every) || every < 50 || every > 60_000) { c.add([...p, 'every_ms'], 'http.every_ms must be a whole number of milliseconds from 50 to 60000'); return undefined; }
      if (v.expect === undefined) { c.add(p, 'http needs expect: at least one assertion on the response, e.g. [{ status: 200 }]'); return undefined; }
      const assertions = parseAssertions(c, [...p, 'expect'], v.expect);
      if (!assertions) return undefined;
      return { kind: 'http', method: method as (typeof HTTP_METHODS)[number], url: v.url, headers, ...(body !== undefined ? { body } : {}), untilMs: until, everyMs: every, assertions, name };
    }
    case 'capture': {
      if (!isObj(v)) { c.add(p, 'capture must be a map: { as: <name>, jsonpath: "$..." } or { as: <name>, regex: "..." }'); return undefined; }
      checkKeys(c, p, v, ['as', 'jsonpath', 'regex'], 'a capture step');
      if (typeof v.as !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.as)) { c.add([...p, 'as'], 'capture.as must be a variable name (letters, digits, _), used later as {{name}}'); return undefined; }
      if ((v.jsonpath === undefined) === (v.regex === undefined)) { c.add(p, 'capture takes one of jsonpath or regex'); return undefined; }
      if (v.jsonpath !== undefined && (typeof v.jsonpath !== 'string' || !v.jsonpath.startsWith('$'))) { c.add([...p, 'jsonpath'], 'capture.jsonpath must start with $'); return undefined; }
      if (v.regex !== undefined) {
        if (typeof v.regex !== 'string') { c.add([...p, 'regex'], 'capture.regex must be a string'); return undefined; }
        try { new RegExp(v.regex); } catch (e) { c.add([...p, 'regex'], `regex does not compile: ${(e as Error).message}`); return undefined; }
      }
      return { kind: 'capture', as: v.as, ...(typeof v.jsonpath === 'string' ? { jsonpath: v.jsonpath } : {}), ...(typeof v.regex === 'string' ? { regex: v.regex } : {}), name };
    }
    case 'wait_webhook': {
      if (!isObj(v)) { c.add(p, 'wait_webhook must be a map: { timeout_ms: 10000, expect: [...] }'); return undefined; }
      checkKeys(c, p, v, ['timeout_ms', 'expect'], 'a wait_webhook step');
      const t = v.timeout_ms ?? 10_000;
      if (typeof t !== 'number' || !Number.isInteger(t) || t < 100 || t > 600_000) { c.add([...p, 'timeout_ms'], 'wait_webhook.timeout_ms must be a whole number of milliseconds from 100 to 600000'); return undefined; }
      const assertions = v.expect === undefined ? [] : parseAssertions(c, [...p, 'expect'], v.expect);
      if (!assertions) return undefined;
      return { kind: 'wait_webhook', timeoutMs: t, assertions, name };
    }
    case 'simulate': {
      if (!isObj(v)) { c.add(p, 'simulate must be a map: { persona: "...", goal: "..." } (constraints, max_turns, seed, judge_goal, phrases optional)'); return undefined; }
      checkKeys(c, p, v, ['persona', 'goal', 'constraints', 'max_turns', 'seed', 'judge_goal', 'phrases'], 'a simulate step');
      for (const k of ['persona', 'goal'] as const) if (typeof v[k] !== 'string' || (v[k] as string).trim().length < 5) { c.add([...p, k], `simulate.${k} must describe the caller's ${k === 'persona' ? 'character' : 'aim'} in words`); return undefined; }
      const list = (k: 'constraints' | 'phrases') => {
        const x = v[k] ?? [];
        if (!Array.isArray(x) || !x.every((e) => typeof e === 'string' && e.trim() !== '')) { c.add([...p, k], `simulate.${k} must be a list of strings`); return undefined; }
        return x as string[];
      };
      const constraints = list('constraints');
      const phrases = list('phrases');
      const maxTurns = v.max_turns ?? 8;
      const seed = v.seed ?? 1;
      if (typeof maxTurns !== 'number' || !Number.isInteger(maxTurns) || maxTurns < 1 || maxTurns > 30) { c.add([...p, 'max_turns'], 'simulate.max_turns must be a whole number from 1 to 30'); return undefined; }
      if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) { c.add([...p, 'seed'], 'simulate.seed must be a whole number ≥ 0'); return undefined; }
      if (v.judge_goal !== undefined && typeof v.judge_goal !== 'boolean') { c.add([...p, 'judge_goal'], 'simulate.judge_goal must be true or false'); return undefined; }
      if (!constraints || !phrases) return undefined;
      return { kind: 'simulate', persona: v.persona as string, goal: v.goal as string, constraints, maxTurns, seed, judgeGoal: v.judge_goal !== false, phrases, name };
    }
    case 'dtmf': {
      const digits = typeof v === 'number' ? String(v) : v;
      if (typeof digits !== 'string' || !/^[0-9*#A-D]{1,32}$/i.test(digits)) { c.add(p, 'dtmf must be 1 to 32 of 0-9 * # A-D (quote it in YAML: "123#")'); return undefined; }
      return { kind: 'dtmf', digits: digits.toUpperCase(), name };
    }
    default:
      c.add([...path, kind], `unknown step kind "${kind}"; use one of: ${STEP_KINDS.join(', ')}`, 'key');
      return undefined;
  }
}

/** Parses and validates a journey. `file` only names the source in error messages. */
export function parseJourney(source: string, file = 'journey.yaml'): ParsedJourney {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues: JourneyIssue[] = doc.errors.map((e) => {
      const pos = lines.linePos(e.pos[0]);
      return { file, line: pos.line, column: pos.col, field: '(document)', message: e.message.split('\n')[0]! };
    });
    const first = issues[0]!;
    throw new VigilError('VIGIL_E_JOURNEY_YAML', `${file}:${first.line}:${first.column}: ${first.message}`, {
      fix: 'fix the YAML syntax at the position shown', details: { issues },
    });
  }
  const raw = doc.toJS({ maxAliasCount: 50 }) as unknown;
  const c = new Collector(doc, lines, file);
  let journey: JourneyV1 | undefined;
  if (!isObj(raw)) {
    c.add([], 'a journey must be a YAML map with version, name, channel and steps');
  } else {
    checkKeys(c, [], raw, ['version', 'name', 'description', 'channel', 'settings', 'steps', 'assertions'], 'a journey');
    if (raw.version !== JOURNEY_FORMAT_VERSION) c.add(raw.version === undefined ? [] : ['version'], `version must be ${JOURNEY_FORMAT_VERSION}${raw.version === undefined ? ' (missing)' : ''}`);
    if (typeof raw.name !== 'string' || !NAME_PATTERN.test(raw.name)) c.add(raw.name === undefined ? [] : ['name'], 'name is required: lowercase letters, digits, ".", "_" or "-", at most 100 characters');
    if (raw.description !== undefined && typeof raw.description !== 'string') c.add(['description'], 'description must be a string');
    if (raw.channel !== 'chat' && raw.channel !== 'voice') c.add(raw.channel === undefined ? [] : ['channel'], `channel must be one of: ${CHANNEL_FAMILIES.join(', ')}${raw.channel === undefined ? ' (missing)' : ''}`);
    const family = raw.channel === 'voice' ? 'voice' : 'chat';
    let stepTimeoutMs = DEFAULT_STEP_TIMEOUT_MS;
    let stopOnFailure = true;
    if (raw.settings !== undefined) {
      if (!isObj(raw.settings)) c.add(['settings'], 'settings must be a map');
      else {
        checkKeys(c, ['settings'], raw.settings, ['step_timeout_ms', 'stop_on_failure'], 'settings');
        const t = raw.settings.step_timeout_ms;
        if (t !== undefined) {
          if (typeof t !== 'number' || !Number.isInteger(t) || t < 100 || t > 600_000) c.add(['settings', 'step_timeout_ms'], 'step_timeout_ms must be a whole number from 100 to 600000');
          else stepTimeoutMs = t;
        }
        const s = raw.settings.stop_on_failure;
        if (s !== undefined) {
          if (typeof s !== 'boolean') c.add(['settings', 'stop_on_failure'], 'stop_on_failure must be true or false');
          else stopOnFailure = s;
        }
      }
    }
    const steps: Step[] = [];
    if (!Array.isArray(raw.steps) || raw.steps.length === 0) c.add(raw.steps === undefined ? [] : ['steps'], 'steps must be a non-empty list');
    else if (raw.steps.length > MAX_STEPS) c.add(['steps'], `a journey has at most ${MAX_STEPS} steps`);
    else raw.steps.forEach((s, i) => { const st = parseStep(c, ['steps', i], s); if (st) steps.push(st); });
    const replying = family === 'voice' ? ['say', 'listen', 'barge_in', 'simulate'] : ['say', 'simulate'];
    steps.forEach((s, i) => {
      if (s.kind === 'say' && s.wav && family !== 'voice') c.add(['steps', i, 'say', 'wav'], 'a chat journey says text; recorded audio (say.wav) needs channel: voice');
      if (!(CHANNEL_STEPS[family] as readonly string[]).includes(s.kind)) c.add(['steps', i, s.kind], `a ${family} journey has no ${s.kind} steps; use one of: ${CHANNEL_STEPS[family].join(', ')}`, 'key');
    });
    // Something must be checked: a reply, or (voice) a transfer or a hangup by the far end.
    const checking = family === 'voice' ? [...replying, 'expect_transfer', 'expect_hangup', 'http', 'wait_webhook'] : [...replying, 'http', 'wait_webhook'];
    if (steps.length > 0 && !steps.some((s) => checking.includes(s.kind))) c.add(['steps'], `a ${family} journey needs at least one ${checking.join(' or ')} step`);
    steps.forEach((s, i) => {
      if (s.kind === 'expect') s.assertions.forEach((a, k) => { if ((CALL_QUALITY_KINDS as readonly string[]).includes(a.kind)) c.add(['steps', i, 'expect', ...(s.assertions.length > 1 ? [k] : []), a.kind], `${a.kind} is checked when the call has ended: put it in the journey-wide assertions`); });
      if ((s.kind === 'expect' || s.kind === 'capture') && !steps.slice(0, i).some((p) => replying.includes(p.kind) || p.kind === 'http' || p.kind === 'wait_webhook')) c.add(['steps', i, s.kind], `${s.kind} reads the last reply, but no ${replying.join(' or ')} or http step comes before it`);
    });
    // Placeholders must name something known by then: a built-in, vars./secrets., or an earlier capture.
    const captured = new Set<string>();
    steps.forEach((s, i) => {
      const fields: Array<[Path, string]> = s.kind === 'say' && !s.wav ? [[['steps', i, 'say'], s.text]]
        : s.kind === 'http' ? [[['steps', i, 'http', 'url'], s.url], ...Object.entries(s.headers).map(([k, x]): [Path, string] => [['steps', i, 'http', 'headers', k], x]), ...(s.body !== undefined ? [[['steps', i, 'http', 'body'], s.body] as [Path, string]] : [])]
          : [];
      for (const [fp, text] of fields) {
        for (const m of text.matchAll(TEMPLATE_PATTERN)) {
          const n = m[1]!;
          if (BUILTIN_VARIABLES.includes(n) || /^(vars|secrets)\./.test(n) || captured.has(n)) continue;
          c.add(fp, `{{${n}}} is not known here; use run.id, session.id, call.id, vars.<name>, secrets.<name>, or capture it in an earlier step`);
        }
        if ((s.kind === 'say' || fp.at(-1) === 'url') && /\{\{\s*secrets\./.test(text)) c.add(fp, 'secrets may only go into http headers and body (say text and URLs land in transcripts)');
      }
      if (s.kind === 'capture') captured.add(s.as);
    });
    let assertions: Assertion[] = [];
    if (raw.assertions !== undefined) {
      if (!Array.isArray(raw.assertions)) c.add(['assertions'], 'assertions must be a list');
      else assertions = parseAssertions(c, ['assertions'], raw.assertions) ?? [];
      assertions.forEach((a, i) => {
        if (a.kind === 'judge' || a.kind === 'semantic' || a.kind === 'intent' || a.kind === 'slots') c.add(['assertions', i, a.kind], `${a.kind} goes in an expect step (after the reply it checks), not in the journey-wide assertions`);
        if ((CALL_QUALITY_KINDS as readonly string[]).includes(a.kind) && family !== 'voice') c.add(['assertions', i, a.kind], `${a.kind} checks a call's quality: it needs channel: voice`);
      });
    }
    if (c.issues.length === 0) {
      journey = {
        version: 1,
        name: raw.name as string,
        description: (raw.description as string | undefined) ?? '',
        channel: family,
        settings: { stepTimeoutMs, stopOnFailure },
        steps,
        assertions,
      };
    }
  }
  if (!journey) {
    const first = c.issues[0]!;
    const more = c.issues.length > 1 ? ` (and ${c.issues.length - 1} more)` : '';
    throw new VigilError('VIGIL_E_JOURNEY_INVALID', `${first.file}:${first.line}:${first.column}: ${first.field}: ${first.message}${more}`, {
      field: first.field, fix: 'correct the fields listed in details.issues; the JSON Schema is at /v1/schemas/journey-v1.json', details: { issues: c.issues },
    });
  }
  return { journey, contentHash: createHash('sha256').update(source).digest('hex'), source };
}

/** Checks a journey that arrives already parsed (e.g. from a run request); throws like parseJourney. */
export function assertJourney(value: unknown): JourneyV1 {
  if (!isObj(value) || value.version !== 1 || !Array.isArray(value.steps) || typeof value.name !== 'string') {
    throw new VigilError('VIGIL_E_JOURNEY_INVALID', 'run request carries no valid journey', { field: 'journey', fix: 'schedule runs through the plane, which embeds the parsed journey' });
  }
  return value as unknown as JourneyV1;
}


/** The texts a journey expects to hear (equals/contains values, through any_of): a voice run's phrase set. */
export function expectedPhrases(j: JourneyV1): string[] {
  const out = new Set<string>();
  const walk = (a: Assertion) => {
    if (a.kind === 'equals' || a.kind === 'contains') out.add(a.value);
    if (a.kind === 'fuzzy') out.add(a.text);
    if (a.kind === 'max_wer') out.add(a.expected);
    if (a.kind === 'any_of') a.of.forEach(walk);
  };
  for (const s of j.steps) {
    if (s.kind === 'expect') s.assertions.forEach(walk);
    if (s.kind === 'simulate') s.phrases.forEach((x) => out.add(x));
  }
  return [...out];
}
