/** Evaluates journey assertions against one bot reply. Pure: no I/O, no clock. */
import { JSONPath } from 'jsonpath-plus';
import type { LayerTiming, Verdict } from '@vigil/contract';
import { wordErrorRate } from '@vigil/speech';
import type { Assertion } from './format.ts';
import { detectPii } from './pii.ts';

/** What a channel returns for one turn. */
export interface ChatReply {
  text: string;
  /** The structured reply (parsed JSON body, or the reply text parsed as JSON when it is JSON). */
  structured?: unknown;
  timeToFirstTokenMs: number;
  timeToFullReplyMs: number;
  streamed: boolean;
  /** The channel's own layer timings for this reply (voice: voice_turn, asr); chat replies get chat_turn. */
  timings?: LayerTiming[];
  /**
   * Voice replies to a barge-in: ms from the caller starting to speak over the far end until the far end
   * stopped; null when it never stopped (it ignored the barge-in). Absent on other replies.
   */
  bargeInStopMs?: number | null;
  /** The HTTP status, when the reply is an http step's response. */
  status?: number;
}

export interface AssertionResult {
  assertion: string;
  verdict: Verdict;
  expected: string;
  actual: string;
  message: string;
}

const MAX_ACTUAL_CHARS = 500;
const clip = (s: string) => (s.length > MAX_ACTUAL_CHARS ? `${s.slice(0, MAX_ACTUAL_CHARS)}…` : s);

export function describeAssertion(a: Assertion): string {
  if (a.name) return a.name;
  switch (a.kind) {
    case 'equals': case 'contains': case 'not_contains': return `${a.kind} ${JSON.stringify(a.value)}${a.ignoreCase ? ' (ignore case)' : ''}`;
    case 'regex': return `regex /${a.pattern}/${a.flags}`;
    case 'any_of': return `any_of [${a.of.map(describeAssertion).join(', ')}]`;
    case 'jsonpath': return `jsonpath ${a.path} ${a.test.op} ${JSON.stringify(a.test.value)}`;
    case 'max_latency_ms': case 'max_first_token_ms': case 'max_barge_in_ms': return `${a.kind} ${a.limitMs}`;
    case 'status': return `status ${a.value}`;
    case 'no_pii': return a.kinds.length === 7 ? 'no_pii' : `no_pii ${a.kinds.join(', ')}`;
    case 'fuzzy': return `fuzzy ${JSON.stringify(a.text.length > 60 ? `${a.text.slice(0, 60)}…` : a.text)} >= ${a.min}`;
    case 'min_mos': case 'max_loss_percent': case 'max_jitter_ms': return `${a.kind} ${a.limit}`;
    case 'policy': return `policy ${a.policy}`;
    case 'slots': return `slots ${Object.keys(a.slots).join(', ')}${a.of === 'caller' ? ' (caller)' : ''}`;
    case 'semantic': return `semantic ${JSON.stringify(a.to.length > 60 ? `${a.to.slice(0, 60)}…` : a.to)} >= ${a.min}`;
    case 'intent': return `intent ${a.expected}${a.of === 'caller' ? ' (caller)' : ''}`;
    case 'judge': return a.rubricFile ? `judge ${a.rubricFile.split('/').pop()}` : `judge ${JSON.stringify(a.rubric.length > 60 ? `${a.rubric.slice(0, 60)}…` : a.rubric)}`;
    case 'max_wer': return `max_wer ${a.max} vs ${JSON.stringify(a.expected.length > 60 ? `${a.expected.slice(0, 60)}…` : a.expected)}`;
  }
}

function result(a: Assertion, pass: boolean, expected: string, actual: string, message: string): AssertionResult {
  return { assertion: describeAssertion(a), verdict: pass ? 'pass' : 'fail', expected, actual: clip(actual), message: pass ? 'ok' : message };
}

/** Whether a journey-wide assertion applies to this reply (max_barge_in_ms only to barge-in replies). */
export function appliesTo(a: Assertion, reply: ChatReply): boolean {
  if (a.kind === 'min_mos' || a.kind === 'max_loss_percent' || a.kind === 'max_jitter_ms') return false; // at the call's end
  if (a.kind === 'status') return reply.status !== undefined;
  return a.kind !== 'max_barge_in_ms' || reply.bargeInStopMs !== undefined;
}

export function evaluateAssertion(a: Assertion, reply: ChatReply): AssertionResult {
  switch (a.kind) {
    case 'equals': case 'contains': case 'not_contains': {
      const norm = (s: string) => (a.ignoreCase ? s.toLocaleLowerCase() : s);
      const text = norm(reply.text.trim());
      const want = norm(a.value);
      const pass = a.kind === 'equals' ? text === want.trim() : a.kind === 'contains' ? text.includes(want) : !text.includes(want);
      const verb = a.kind === 'equals' ? 'does not equal' : a.kind === 'contains' ? 'does not contain' : 'contains';
      return result(a, pass, a.value, reply.text, `reply ${verb} ${JSON.stringify(a.value)}`);
    }
    case 'regex': {
      const pass = new RegExp(a.pattern, a.flags).test(reply.text);
      return result(a, pass, `/${a.pattern}/${a.flags}`, reply.text, `reply does not match /${a.pattern}/${a.flags}`);
    }
    case 'any_of': {
      const parts = a.of.map((x) => evaluateAssertion(x, reply));
      const pass = parts.some((p) => p.verdict === 'pass');
      return result(a, pass, parts.map((p) => p.assertion).join(' | '), reply.text, `none of ${parts.length} alternatives held`);
    }
    case 'jsonpath': {
      if (reply.structured === undefined) return result(a, false, `${a.path} ${a.test.op} ${JSON.stringify(a.test.value)}`, '(no structured reply)', 'the reply is not JSON, so a JSONPath cannot be checked');
      let found: unknown[];
      try {
        found = JSONPath({ path: a.path, json: reply.structured as object, wrap: true, eval: false }) as unknown[];
      } catch (e) {
        return result(a, false, a.path, '', `JSONPath failed: ${(e as Error).message}`);
      }
      const actual = found.length === 0 ? '(nothing)' : JSON.stringify(found.length === 1 ? found[0] : found);
      const t = a.test;
      let pass: boolean;
      switch (t.op) {
        case 'exists': pass = (found.length > 0) === t.value; break;
        case 'equals': pass = found.some((f) => JSON.stringify(f) === JSON.stringify(t.value)); break;
        case 'contains': pass = found.some((f) => typeof f === 'string' ? f.includes(t.value) : JSON.stringify(f).includes(t.value)); break;
        case 'regex': { const re = new RegExp(t.value); pass = found.some((f) => re.test(typeof f === 'string' ? f : JSON.stringify(f))); break; }
      }
      return result(a, pass, `${a.path} ${t.op} ${JSON.stringify(t.value)}`, actual, `${a.path} is ${actual}`);
    }
    case 'max_latency_ms': {
      const pass = reply.timeToFullReplyMs <= a.limitMs;
      return result(a, pass, `<= ${a.limitMs} ms`, `${reply.timeToFullReplyMs.toFixed(1)} ms`, `full reply took ${reply.timeToFullReplyMs.toFixed(1)} ms, over the ${a.limitMs} ms limit`);
    }
    case 'max_barge_in_ms': {
      if (reply.bargeInStopMs === undefined) return { assertion: describeAssertion(a), verdict: 'error', expected: `<= ${a.limitMs} ms`, actual: 'no barge-in', message: 'max_barge_in_ms checks the reply of a barge_in step; put the expect right after one' };
      const stop = reply.bargeInStopMs;
      const pass = stop !== null && stop <= a.limitMs;
      return result(a, pass, `<= ${a.limitMs} ms`, stop === null ? 'kept talking' : `${stop.toFixed(1)} ms`, stop === null ? 'the far end kept talking over the caller (barge-in ignored)' : `the far end stopped ${stop.toFixed(1)} ms after the barge-in, over the ${a.limitMs} ms limit`);
    }
    case 'status': {
      if (reply.status === undefined) return { assertion: describeAssertion(a), verdict: 'error', expected: String(a.value), actual: 'no HTTP response', message: 'status checks the response of an http step; put it in the http step\'s expect' };
      return result(a, reply.status === a.value, String(a.value), String(reply.status), `HTTP status ${reply.status}, not ${a.value}`);
    }
    case 'no_pii': {
      const found = detectPii(reply.text, a.kinds);
      return result(a, found.length === 0, 'no PII', found.length ? found.map((f) => f.masked).join(', ') : 'none', `the reply leaks ${found.map((f) => f.kind).join(', ')}`);
    }
    case 'fuzzy': {
      const sim = Math.max(0, 1 - wordErrorRate(a.text, reply.text).rate);
      return result(a, sim >= a.min, `similarity >= ${a.min}`, `${sim.toFixed(3)}: ${reply.text}`, `word similarity ${sim.toFixed(3)} is under ${a.min}`);
    }
    case 'max_wer': {
      // What was heard, not the phrase it was matched to.
      const s = reply.structured as { transcript?: unknown } | undefined;
      const heard = typeof s?.transcript === 'string' ? s.transcript : reply.text;
      const wer = wordErrorRate(a.expected, heard).rate;
      return result(a, wer <= a.max, `WER <= ${a.max}`, `${wer.toFixed(3)}: ${heard}`, `WER ${wer.toFixed(3)} against the expected text is over ${a.max}`);
    }
    case 'min_mos': case 'max_loss_percent': case 'max_jitter_ms':
      return { assertion: describeAssertion(a), verdict: 'error', expected: String(a.limit), actual: '', message: `${a.kind} is checked at the end of the call (see evaluateCallQuality)` };
    case 'policy': {
      const norm = (t: string) => t.toLowerCase().replace(/\s+/g, ' ');
      const text = norm(reply.text);
      const says = (phrase: string) => {
        const m = /^\/(.+)\/([imsu]*)$/.exec(phrase);
        return m ? new RegExp(m[1]!, m[2]).test(reply.text) : text.includes(norm(phrase));
      };
      const missing = a.require.filter((r) => !says(r));
      const said = a.forbid.filter((f) => says(f));
      const problems = [...missing.map((m) => `missing required "${m}"`), ...said.map((f) => `says forbidden "${f}"`)];
      return result(a, problems.length === 0, `require [${a.require.join(' | ')}], forbid [${a.forbid.join(' | ')}]`, reply.text, problems.join('; '));
    }
    case 'semantic': case 'intent': case 'judge': case 'slots':
      // Asynchronous: the runner asks the run's checks (CheckContext.judge, .similarity, .classify).
      return { assertion: describeAssertion(a), verdict: 'inconclusive', expected: '', actual: '', message: `${a.kind} is evaluated by the runner` };
    case 'max_first_token_ms': {
      const pass = reply.timeToFirstTokenMs <= a.limitMs;
      return result(a, pass, `<= ${a.limitMs} ms`, `${reply.timeToFirstTokenMs.toFixed(1)} ms`, `first token took ${reply.timeToFirstTokenMs.toFixed(1)} ms, over the ${a.limitMs} ms limit`);
    }
  }
}

/** A call-quality assertion against the call's end-of-call statistics. */
export function evaluateCallQuality(a: Extract<Assertion, { kind: 'min_mos' | 'max_loss_percent' | 'max_jitter_ms' }>, end: { mos: number; lossPercent: number; jitterMs: number } | undefined): AssertionResult {
  const label = describeAssertion(a);
  if (!end) return { assertion: label, verdict: 'error', expected: String(a.limit), actual: 'no call statistics', message: 'the call reported no end-of-call statistics' };
  const [value, pass, unit, what] = a.kind === 'min_mos' ? [end.mos, end.mos >= a.limit, '', 'MOS'] as const
    : a.kind === 'max_loss_percent' ? [end.lossPercent, end.lossPercent <= a.limit, ' %', 'packet loss'] as const
      : [end.jitterMs, end.jitterMs <= a.limit, ' ms', 'jitter'] as const;
  const shown = `${value.toFixed(2)}${unit}`;
  return { assertion: label, verdict: pass ? 'pass' : 'fail', expected: `${a.kind === 'min_mos' ? '>=' : '<='} ${a.limit}${unit}`, actual: shown, message: pass ? 'ok' : `${what} ${shown} is ${a.kind === 'min_mos' ? 'under' : 'over'} ${a.limit}${unit}` };
}
