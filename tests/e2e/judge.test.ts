/**
 * The LLM judge end to end, against a local OpenAI-compatible server that records what it is asked (no real LLM
 * is reachable here; the same code talks to a real endpoint by configuration alone): `vigil judge calibrate` on
 * the labelled set shipped in the repository, and a journey's `judge` assertion catching the contact center's
 * policy drift, with its evidence in the run's events. The stand-in judge decides by keywords, so the agreement
 * figures printed are the stand-in's, not any model's.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveApi, startContactCenter, type ContactCenter } from '@vigil/refcc';
import { lastBotReply, startTestJudgeServer } from '../support/judge-server.ts';
import { spawnVigil } from '../support/processes.ts';

const SET = ['packages/judge/calibration/fees-policy.yaml', 'packages/judge/calibration/fees-policy.jsonl'];
/** The stand-in: fails a reply that quotes a monthly fee or free/other-priced transfers; misses paraphrases. */
const keywordJudge = (reply: string) => {
  const bad = /fee of|a month\b|monthly charge|maintenance fee|(?:are|is) free|don't cost|\$1\d\b|\$20|processing fee/i.test(reply);
  return JSON.stringify({ verdict: bad ? 'fail' : 'pass', score: bad ? 0.1 : 0.9, rationale: bad ? 'quotes a fee that does not exist' : 'no invented fee' });
};

describe('LLM judge', () => {
  let srv: Awaited<ReturnType<typeof startTestJudgeServer>>;
  let cc: ContactCenter;
  let api: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    srv = await startTestJudgeServer((r) => (r.messages[0]!.content.startsWith('Extract these slots')
      ? JSON.stringify({ account_last4: /ending (\d{4})/.exec(r.messages.at(-1)!.content)?.[1] ?? null, card_number: null })
      : r.messages[0]!.content.startsWith('Classify')
      ? JSON.stringify({ intent: /fee/i.test(r.messages.at(-1)!.content) ? 'fees' : 'other', confidence: 0.8 })
      : keywordJudge(lastBotReply(r))));
    cc = await startContactCenter({ prompts: 'tts' });
    api = await serveApi(cc);
  });
  afterAll(async () => { await srv?.close(); await api?.close(); await cc?.stop(); });

  it('vigil judge calibrate prints agreement with the shipped human labels (accuracy, kappa, confusion, disagreements)', async () => {
    const p = spawnVigil(['judge', 'calibrate', ...SET, '--base-url', srv.baseUrl, '--model', 'keyword-stand-in', '--samples', '1', '--json'], {}, 'judge-calibrate');
    const code = await p.exited;
    const out = JSON.parse(p.output()) as { n: number; accuracy: number; kappa: number; confusion: Record<'pass' | 'fail', Record<string, number>>; disagreements: Array<{ id: string }>; belowAgreement: boolean };
    expect(out.n).toBe(24);
    const agree = out.confusion.pass!.pass! + out.confusion.fail!.fail!;
    expect(out.accuracy).toBeCloseTo(agree / 24, 10);
    expect(out.disagreements.length).toBe(24 - agree);
    // Keywords cannot see omissions (f11, f12: the transfer fee left out) and trip on innocent wording (p03
    // "no monthly charges", p12 "free of monthly fees"): disagreements both ways, as a weak judge has.
    expect(out.disagreements.map((d) => d.id)).toEqual(['p03', 'p12', 'f06', 'f11', 'f12']);
    expect(code).toBe(out.belowAgreement ? 1 : 0);
    const text = spawnVigil(['judge', 'calibrate', ...SET, '--base-url', srv.baseUrl, '--model', 'keyword-stand-in', '--samples', '1', '--min-kappa', '0.9'], {}, 'judge-calibrate-text');
    expect(await text.exited).toBe(1);
    console.log(text.output());
    expect(text.output()).toMatch(/accuracy \d+\.\d %\s+Cohen's kappa -?\d\.\d{3}\s+BELOW the agreement floor 0\.9/);
  });

  it('refuses a malformed labelled set, naming the line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-judge-'));
    writeFileSync(join(dir, 'bad.jsonl'), '{"id":"a","label":"pass","conversation":[{"speaker":"bot","text":"x"}]}\n{"id":"b","label":"maybe","conversation":[]}\n');
    const p = spawnVigil(['judge', 'calibrate', SET[0]!, join(dir, 'bad.jsonl'), '--base-url', srv.baseUrl, '--model', 'm'], {}, 'judge-bad-set');
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain('bad.jsonl:2: label');
  });

  it('a journey\'s judge assertion catches policy drift on the contact center\'s chat, with its evidence in the events', async () => {
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: JSON.stringify({ policyDrift: { afterCalls: 1 } }) });
    const dir = mkdtempSync(join(tmpdir(), 'vigil-judge-'));
    const f = join(dir, 'fees-judged.yaml');
    writeFileSync(f, ['version: 1', 'name: fees-judged', 'channel: chat', 'steps:', '  - say: What are the fees?',
      '  - expect: { judge: { rubric: "The reply must describe the fees truthfully and must not invent a monthly fee.", samples: 3 } }'].join('\n'));
    const env = { VIGIL_JUDGE_BASE_URL: srv.baseUrl, VIGIL_JUDGE_MODEL: 'keyword-stand-in' };
    type Out = { verdict: string; events: Array<{ kind: string; verdict?: string; actual?: string; evidence?: { model: string; promptSha256: string; votes: Record<string, number>; samples: unknown[] } }> };
    const outs: Out[] = [];
    for (let i = 0; i < 2; i++) {
      const p = spawnVigil(['run', f, '--target', `${cc.chatUrl}/webhook`, '--json'], env, `judge-run-${i}`);
      await p.exited;
      outs.push(JSON.parse(p.output()) as Out);
    }
    expect(outs.map((o) => o.verdict)).toEqual(['pass', 'fail']);
    const judged = outs[1]!.events.find((e) => e.kind === 'assertion')!;
    expect(judged.actual).toBe('fail (score 0.10): quotes a fee that does not exist');
    expect(judged.evidence).toMatchObject({ model: 'keyword-stand-in', votes: { pass: 0, fail: 3, invalid: 0 } });
    expect(judged.evidence!.promptSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(judged.evidence!.samples).toHaveLength(3);

    // No judge reachable: inconclusive, never pass.
    const p = spawnVigil(['run', f, '--target', `${cc.chatUrl}/webhook`, '--json'], { VIGIL_JUDGE_BASE_URL: 'http://127.0.0.1:9/v1', VIGIL_JUDGE_MODEL: 'm' }, 'judge-run-dead');
    await p.exited;
    expect((JSON.parse(p.output()) as Out).verdict).toBe('inconclusive');
    await fetch(`${api.url}/v1/faults`, { method: 'PUT', body: '{}' });
  });

  it('semantic (labelled lexical fallback without embeddings) and intent (LLM classification) on a real reply', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-judge-'));
    const f = join(dir, 'meaning.yaml');
    writeFileSync(f, ['version: 1', 'name: fees-meaning', 'channel: chat', 'settings: { stop_on_failure: false }', 'steps:', '  - say: What are the fees?',
      '  - expect: { semantic: { to: "There is no monthly fee on the standard account, and international transfers cost $5.", min: 0.8 } }',
      '  - expect: { intent: { expected: fees, labels: { fees: "explains fees or charges", other: "anything else" } } }',
      '  - expect: { name: wrong meaning, semantic: { to: "Your card has been blocked.", min: 0.5 } }'].join('\n'));
    const p = spawnVigil(['run', f, '--target', `${cc.chatUrl}/webhook`, '--json'], { VIGIL_JUDGE_BASE_URL: srv.baseUrl, VIGIL_JUDGE_MODEL: 'stand-in' }, 'judge-meaning');
    await p.exited;
    const out = JSON.parse(p.output()) as { verdict: string; events: Array<{ kind: string; assertion?: string; verdict?: string; message?: string }> };
    const a = out.events.filter((e) => e.kind === 'assertion');
    expect(a.map((e) => e.verdict)).toEqual(['pass', 'pass', 'fail']);
    expect(a[0]!.message).toContain('LEXICAL FALLBACK');
    expect(out.verdict).toBe('fail');
  });

  it('a rubric carries its last calibration, and verdicts made with a poorly agreeing or uncalibrated one are flagged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-rubric-'));
    const rubric = join(dir, 'fees-policy.yaml');
    const fresh = join(dir, 'fees-uncalibrated.yaml');
    copyFileSync(SET[0]!, rubric);
    copyFileSync(SET[0]!, fresh);
    const cal = spawnVigil(['judge', 'calibrate', rubric, SET[1]!, '--base-url', srv.baseUrl, '--model', 'keyword-stand-in', '--samples', '1', '--write'], {}, 'judge-calibrate-write');
    expect(await cal.exited).toBe(1); // kappa 0.583 < 0.6
    const written = readFileSync(rubric, 'utf8');
    expect(written).toContain('# A rubric under calibration'); // the file's comments survive
    expect(written).toMatch(/calibration:\n\s+model: keyword-stand-in\n\s+kappa: 0\.58\d*\n\s+accuracy: 0\.79\d*\n\s+n: 24/);
    const journey = (file: string) => {
      const f = join(dir, `j-${file.split('/').pop()}`);
      writeFileSync(f, ['version: 1', 'name: fees-rubric-file', 'channel: chat', 'steps:', '  - say: What are the fees?', `  - expect: { judge: { rubric_file: "${file}", samples: 1 } }`].join('\n'));
      return f;
    };
    const message = async (file: string, env: Record<string, string>) => {
      const p = spawnVigil(['run', journey(file), '--target', `${cc.chatUrl}/webhook`, '--json'], { VIGIL_JUDGE_BASE_URL: srv.baseUrl, ...env }, 'judge-rubric-file');
      await p.exited;
      return (JSON.parse(p.output()) as { events: Array<{ kind: string; message?: string; evidence?: { rubric?: { flag: string | null } } }> }).events.find((e) => e.kind === 'assertion')!;
    };
    expect((await message(rubric, { VIGIL_JUDGE_MODEL: 'keyword-stand-in' })).message).toBe('[rubric fees-policy v1: BELOW AGREEMENT] ok');
    expect(await message(rubric, { VIGIL_JUDGE_MODEL: 'keyword-stand-in', VIGIL_JUDGE_MIN_KAPPA: '0.5' })).toMatchObject({ message: 'ok', evidence: { rubric: { flag: null } } });
    expect((await message(rubric, { VIGIL_JUDGE_MODEL: 'another-model' })).message).toBe('[rubric fees-policy v1: CALIBRATED FOR OTHER MODEL] ok');
    expect((await message(fresh, { VIGIL_JUDGE_MODEL: 'keyword-stand-in' })).message).toBe('[rubric fees-policy v1: UNCALIBRATED] ok');
  });

  it('slots: the LLM extracts entities from the reply and each must equal what the journey expects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-slots-'));
    const f = join(dir, 'slots.yaml');
    writeFileSync(f, ['version: 1', 'name: balance-slots', 'channel: chat', 'settings: { stop_on_failure: false }', 'steps:', '  - say: what is my balance', '  - say: "12345678"',
      '  - expect: { slots: { expect: { account_last4: { describe: "last four digits of the account", equals: "5678" }, card_number: { describe: "a full card number", equals: null } } } }',
      '  - expect: { name: wrong account, slots: { expect: { account_last4: { describe: "last four digits of the account", equals: "1111" } } } }'].join('\n'));
    const p = spawnVigil(['run', f, '--target', `${cc.chatUrl}/webhook`, '--json'], { VIGIL_JUDGE_BASE_URL: srv.baseUrl, VIGIL_JUDGE_MODEL: 'stand-in' }, 'judge-slots');
    await p.exited;
    const out = JSON.parse(p.output()) as { events: Array<{ kind: string; verdict?: string; actual?: string; message?: string }> };
    const a = out.events.filter((e) => e.kind === 'assertion');
    expect(a.map((e) => e.verdict)).toEqual(['pass', 'fail']);
    expect(a[0]!.actual).toBe('account_last4="5678", card_number=null');
    expect(a[1]!.message).toBe('wrong slots: account_last4');
  });
});

