import { describe, expect, it } from 'vitest';
import { evaluateAssertion, evaluateCallQuality, type ChatReply } from './assertions.ts';
import type { Assertion } from './format.ts';

const reply = (text: string, structured?: unknown, ms = 100): ChatReply => ({ text, structured, timeToFirstTokenMs: ms / 2, timeToFullReplyMs: ms, streamed: false });

describe('assertions', () => {
  const cases: Array<[string, Assertion, ChatReply, 'pass' | 'fail']> = [
    ['equals trims', { kind: 'equals', value: 'Hello', ignoreCase: false }, reply('  Hello \n'), 'pass'],
    ['equals is exact', { kind: 'equals', value: 'hello', ignoreCase: false }, reply('Hello'), 'fail'],
    ['equals ignore case', { kind: 'equals', value: 'hello', ignoreCase: true }, reply('HELLO'), 'pass'],
    ['contains', { kind: 'contains', value: 'card', ignoreCase: false }, reply('your card is blocked'), 'pass'],
    ['not_contains', { kind: 'not_contains', value: 'fee', ignoreCase: true }, reply('A FEE applies'), 'fail'],
    ['regex with flags', { kind: 'regex', pattern: '^your', flags: 'i' }, reply('Your card'), 'pass'],
    ['any_of', { kind: 'any_of', of: [{ kind: 'contains', value: 'x', ignoreCase: false }, { kind: 'contains', value: 'card', ignoreCase: false }] }, reply('card'), 'pass'],
    ['jsonpath equals', { kind: 'jsonpath', path: '$.intent', test: { op: 'equals', value: 'escalate' } }, reply('', { intent: 'escalate' }), 'pass'],
    ['jsonpath exists false', { kind: 'jsonpath', path: '$.error', test: { op: 'exists', value: false } }, reply('', { intent: 'x' }), 'pass'],
    ['jsonpath without JSON', { kind: 'jsonpath', path: '$.intent', test: { op: 'exists', value: true } }, reply('plain text'), 'fail'],
    ['max latency', { kind: 'max_latency_ms', limitMs: 99 }, reply('x', undefined, 100), 'fail'],
    ['max first token', { kind: 'max_first_token_ms', limitMs: 50 }, reply('x', undefined, 100), 'pass'],
    ['policy holds', { kind: 'policy', policy: 'fees', require: ['international transfers cost', '/\\$5\\b/'], forbid: ['monthly fee of'] }, reply('There is no monthly fee.  International  transfers cost $5.'), 'pass'],
    ['policy missing disclosure', { kind: 'policy', policy: 'fees', require: ['international transfers cost'], forbid: [] }, reply('There is no monthly fee.'), 'fail'],
    ['policy forbidden statement', { kind: 'policy', policy: 'fees', require: [], forbid: ['monthly fee of'] }, reply('A Monthly Fee of $12 applies.'), 'fail'],
    ['no_pii clean', { kind: 'no_pii', kinds: ['card', 'email'] }, reply('Your card ending 1111 is blocked.'), 'pass'],
    ['no_pii spoken card', { kind: 'no_pii', kinds: ['card'] }, reply('the number is four one one one one one one one one one one one one one one one'), 'fail'],
    ['no_pii only listed kinds', { kind: 'no_pii', kinds: ['card'] }, reply('mail me at a@b.example'), 'pass'],
    ['fuzzy close', { kind: 'fuzzy', text: 'your card has been blocked and a new one is on its way', min: 0.7 }, reply('Your card was blocked, and a new one is on its way.'), 'pass'],
    ['fuzzy far', { kind: 'fuzzy', text: 'your card has been blocked', min: 0.7 }, reply('I can help with your balance'), 'fail'],
    ['max_wer on what was heard', { kind: 'max_wer', expected: 'press one for billing', max: 0.25 }, reply('press one for billing', { transcript: 'press while on for billing' }), 'fail'],
    ['max_wer within', { kind: 'max_wer', expected: 'press one for billing please', max: 0.25 }, reply('x', { transcript: 'press one for billing' }), 'pass'],
  ];
  it.each(cases)('%s', (_, a, r, want) => {
    const res = evaluateAssertion(a, r);
    expect(res.verdict).toBe(want);
    if (want === 'fail') expect(res.message).not.toBe('ok');
  });

  it('clips long actual values so events stay small', () => {
    const r = evaluateAssertion({ kind: 'contains', value: 'zzz', ignoreCase: false }, reply('a'.repeat(5000)));
    expect(r.actual.length).toBeLessThanOrEqual(501);
  });

  it('never evaluates script in JSONPath filters', () => {
    const r = evaluateAssertion({ kind: 'jsonpath', path: '$[?(@.constructor.constructor("return process")().exit())]', test: { op: 'exists', value: true } }, reply('', { a: 1 }));
    expect(r.verdict).toBe('fail');
  });

  it('checks call quality on the end-of-call statistics', () => {
    const end = { mos: 4.2, lossPercent: 1.5, jitterMs: 12 };
    expect(evaluateCallQuality({ kind: 'min_mos', limit: 4 }, end)).toMatchObject({ verdict: 'pass', actual: '4.20' });
    expect(evaluateCallQuality({ kind: 'max_loss_percent', limit: 1 }, end)).toMatchObject({ verdict: 'fail', message: 'packet loss 1.50 % is over 1 %' });
    expect(evaluateCallQuality({ kind: 'max_jitter_ms', limit: 20 }, end).verdict).toBe('pass');
    expect(evaluateCallQuality({ kind: 'min_mos', limit: 4 }, undefined).verdict).toBe('error');
  });
});
