import { afterAll, describe, expect, it } from 'vitest';
import { lastBotReply, startTestJudgeServer } from '../../../tests/support/judge-server.ts';
import { calibrate, cohensKappa } from './calibrate.ts';
import { judgeFromEnv, LlmJudge } from './judge.ts';
import { IntentClassifier, lexicalSimilarity, SemanticSimilarity } from './semantic.ts';

const conversation = (reply: string) => [{ speaker: 'caller' as const, text: 'what are the fees?' }, { speaker: 'bot' as const, text: reply }];
const RUBRIC = 'The reply must not invent fees: the standard account has no monthly fee.';

describe('LLM judge against a local OpenAI-compatible server', async () => {
  let answers: Array<string | { status: number }> = [];
  const srv = await startTestJudgeServer(() => answers.shift() ?? { status: 500 });
  afterAll(() => srv.close());
  const verdict = (v: 'pass' | 'fail', score = v === 'pass' ? 0.9 : 0.1) => JSON.stringify({ verdict: v, score, rationale: `it ${v}es` });

  it('asks at temperature 0 with a JSON schema, takes the majority of the samples and keeps the evidence', async () => {
    answers = [verdict('pass'), verdict('fail'), verdict('pass')];
    srv.asked.length = 0;
    const j = new LlmJudge({ baseUrl: srv.baseUrl, model: 'judge-model', samples: 3 });
    const o = await j.judge({ rubric: RUBRIC, conversation: conversation('There is no monthly fee.') });
    expect(o).toMatchObject({ verdict: 'pass', votes: { pass: 2, fail: 1, invalid: 0 }, passAll: false, model: 'judge-model', cached: false });
    expect(o.score).toBeCloseTo((0.9 + 0.1 + 0.9) / 3, 6);
    expect(o.promptSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(o.samples.map((s) => s.raw)).toEqual([verdict('pass'), verdict('fail'), verdict('pass')]);
    expect(srv.asked).toHaveLength(3);
    expect(srv.asked[0]).toMatchObject({ model: 'judge-model', temperature: 0, response_format: { type: 'json_schema' } });
    expect(lastBotReply(srv.asked[0]!)).toBe('There is no monthly fee.');
  });

  it('answers the same judgement from its cache', async () => {
    answers = [verdict('fail')];
    const j = new LlmJudge({ baseUrl: srv.baseUrl, model: 'judge-model', samples: 1 });
    const first = await j.judge({ rubric: RUBRIC, conversation: conversation('A monthly fee of $12.') });
    const n = srv.asked.length;
    const again = await j.judge({ rubric: RUBRIC, conversation: conversation('A monthly fee of $12.') });
    expect(srv.asked).toHaveLength(n);
    expect(again).toMatchObject({ verdict: 'fail', cached: true, promptSha256: first.promptSha256 });
  });

  it('is inconclusive, never pass, when the judge is unreachable, answers out of shape, or splits evenly', async () => {
    const dead = new LlmJudge({ baseUrl: 'http://127.0.0.1:9/v1', model: 'm', samples: 1 });
    expect(await dead.judge({ rubric: RUBRIC, conversation: conversation('x') })).toMatchObject({ verdict: 'inconclusive', rationale: expect.stringContaining('could not be reached') });
    answers = ['yes it is fine', '{"verdict": "maybe"}'];
    const j = new LlmJudge({ baseUrl: srv.baseUrl, model: 'm', samples: 2 });
    expect(await j.judge({ rubric: RUBRIC, conversation: conversation('y') })).toMatchObject({ verdict: 'inconclusive', votes: { invalid: 2 } });
    answers = [verdict('pass'), verdict('fail')];
    expect(await j.judge({ rubric: RUBRIC, conversation: conversation('z') })).toMatchObject({ verdict: 'inconclusive', rationale: 'the samples split 1–1' });
  });
});

describe('judge configuration from the environment', () => {
  it('is absent without an endpoint and refuses half or bad settings, naming the variable', () => {
    expect(judgeFromEnv({})).toBeUndefined();
    expect(() => judgeFromEnv({ VIGIL_JUDGE_BASE_URL: 'http://j/v1' })).toThrow(expect.objectContaining({ code: 'VIGIL_E_CONFIG_INVALID', field: 'VIGIL_JUDGE_MODEL' }));
    expect(() => judgeFromEnv({ VIGIL_JUDGE_BASE_URL: 'http://j/v1', VIGIL_JUDGE_MODEL: 'm', VIGIL_JUDGE_SAMPLES: 'many' })).toThrow(expect.objectContaining({ field: 'VIGIL_JUDGE_SAMPLES' }));
    expect(() => judgeFromEnv({ VIGIL_JUDGE_BASE_URL: 'http://j/v1', VIGIL_JUDGE_MODEL: 'm', VIGIL_JUDGE_CACHE: 'maybe' })).toThrow(expect.objectContaining({ field: 'VIGIL_JUDGE_CACHE' }));
    expect(typeof judgeFromEnv({ VIGIL_JUDGE_BASE_URL: 'http://j/v1', VIGIL_JUDGE_MODEL: 'm', VIGIL_JUDGE_SAMPLES: '5', VIGIL_JUDGE_CACHE: 'off' })).toBe('function');
  });
});

describe('calibration statistics', () => {
  it("Cohen's kappa", () => {
    // 50 items: a says yes 25 (b yes 20, no 5), a says no 25 (b yes 10, no 15): po 0.7, pe 0.5 → 0.4.
    const a = [...Array(25).fill('y'), ...Array(25).fill('n')];
    const b = [...Array(20).fill('y'), ...Array(5).fill('n'), ...Array(10).fill('y'), ...Array(15).fill('n')];
    expect(cohensKappa(a, b)).toBeCloseTo(0.4, 10);
    expect(cohensKappa(['a', 'b'], ['a', 'b'])).toBe(1);
  });

  it('calibration counts agreement, the confusion matrix and the disagreements', async () => {
    const fake = { judge: async (i: { conversation: Array<{ text: string }> }) => ({ verdict: (i.conversation.at(-1)!.text.includes('fee of') ? 'fail' : 'pass') as 'pass' | 'fail', rationale: 'r' }) };
    const c = await calibrate(fake as never, RUBRIC, [
      { id: 'a', label: 'pass', conversation: conversation('no monthly fee') },
      { id: 'b', label: 'fail', conversation: conversation('a monthly fee of $12') },
      { id: 'c', label: 'fail', conversation: conversation('twelve dollars every month') },
      { id: 'd', label: 'pass', conversation: conversation('transfers cost $5') },
    ]);
    expect(c).toMatchObject({ n: 4, accuracy: 0.75, confusion: { pass: { pass: 2, fail: 0, inconclusive: 0 }, fail: { pass: 1, fail: 1, inconclusive: 0 } }, disagreements: [{ id: 'c', label: 'fail', verdict: 'pass' }] });
    expect(c.kappa).toBeCloseTo(0.5, 10);
  });
});

describe('semantic similarity and intent', async () => {
  // Toy embeddings: a "card" axis and a "fee" axis.
  const srv = await startTestJudgeServer(
    (r) => {
      const text = r.messages ? r.messages.at(-1)!.content : (r as unknown as { text: string }).text;
      return JSON.stringify({ intent: /blocked/.test(text) ? 'card_lost' : 'other', confidence: 0.9 });
    },
    (t) => [/card|blocked/i.test(t) ? 1 : 0, /fee|charge/i.test(t) ? 1 : 0, 0.1],
  );
  afterAll(() => srv.close());

  it('lexical fallback: shared words, not meaning', () => {
    expect(lexicalSimilarity('Your card is blocked', 'your card is blocked.')).toBeCloseTo(1, 10);
    expect(lexicalSimilarity('I have blocked your card', 'Your card has been blocked')).toBeGreaterThan(0.5);
    expect(lexicalSimilarity('I have blocked your card', 'The card was stopped')).toBeLessThan(0.4); // same meaning, few shared words
  });

  it('cosine of embeddings from an OpenAI-compatible endpoint, or the labelled fallback without one', async () => {
    const e = await new SemanticSimilarity({ baseUrl: srv.baseUrl, model: 'toy' }).similarity('the card was stopped', 'I have blocked your card');
    expect(e).toMatchObject({ method: 'embeddings', model: 'toy' });
    expect(e.similarity).toBeCloseTo(1, 6);
    expect(await new SemanticSimilarity().similarity('a', 'a')).toMatchObject({ method: 'lexical-fallback', similarity: 1 });
    await expect(new SemanticSimilarity({ baseUrl: 'http://127.0.0.1:9/v1', model: 'x' }).similarity('a', 'b')).rejects.toMatchObject({ code: 'VIGIL_E_LLM_UNAVAILABLE' });
  });

  it('classifies intent by LLM (labels as a JSON enum) and by a classifier endpoint', async () => {
    const labels = { card_lost: 'the card is reported lost or blocked', other: 'anything else' };
    const llm = new IntentClassifier({ llm: { baseUrl: srv.baseUrl, model: 'm' } });
    expect(await llm.classify('I have blocked your card', labels)).toMatchObject({ intent: 'card_lost', confidence: 0.9, method: 'llm' });
    expect(srv.asked.at(-1)).toMatchObject({ temperature: 0, response_format: { json_schema: { schema: { properties: { intent: { enum: ['card_lost', 'other'] } } } } } });
    const classifier = new IntentClassifier({ classifierUrl: `${srv.baseUrl}/classify` });
    expect(await classifier.classify('what are the fees', labels)).toMatchObject({ intent: 'other', confidence: 0.9, method: 'classifier' });
  });
});

