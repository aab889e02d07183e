import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEventBody } from '@vigil/contract';
import { parseJourney } from './format.ts';
import { runJourney, type ChatSession, type CheckContext } from './runner.ts';

/** A small CRM: cases appear a moment after the conversation (as real back ends do). */
let server: Server;
let base: string;
const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }> = [];
let casesVisibleAfter = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const u = new URL(req.url!, 'http://x');
      if (u.pathname === '/v1/cases') {
        const list = seen.filter((s) => s.url.startsWith('/v1/cases')).length > casesVisibleAfter
          ? [{ id: 'case-42', reference: u.searchParams.get('reference'), subject: 'Lost card: card blocked' }] : [];
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(list));
      } else if (u.pathname === '/v1/cases/case-42') {
        res.writeHead(req.headers.authorization === 'Bearer s3cret' ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'case-42', status: 'open' }));
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => { server.close(); });

const session = (): ChatSession => ({
  send: async (text) => ({ text: `you said ${text}; your reference is REF-7781`, timeToFirstTokenMs: 5, timeToFullReplyMs: 9, streamed: false }),
  close: async () => undefined,
  variables: () => ({ 'session.id': 'sess-1' }),
});

async function run(yaml: string, checks: CheckContext) {
  const events: RunEventBody[] = [];
  const summary = await runJourney({
    journey: parseJourney(yaml).journey, emit: (e) => { events.push(e); }, checks,
    meta: { journeyVersionId: 'v', targetId: 't', region: 'r', channel: 'chat.http' }, open: async () => session(),
  });
  return { summary, events, assertions: events.filter((e) => e.kind === 'assertion') as Array<Extract<RunEventBody, { kind: 'assertion' }>> };
}

const journey = (steps: string[]) => ['version: 1', 'name: checks', 'channel: chat', 'settings: { step_timeout_ms: 3000 }', 'steps:', ...steps.map((s) => `  - ${s}`)].join('\n');

describe('cross-system checks (http and capture steps)', () => {
  it('queries with filled placeholders, polls until the record appears, captures from it, and keeps secrets out of events', async () => {
    casesVisibleAfter = 2; // the first two queries see nothing yet
    seen.length = 0;
    const { summary, events, assertions } = await run(journey([
      'say: "i lost my card, run {{run.id}}"',
      'capture: { as: ref, regex: "REF-(\\\\d+)" }',
      'http: { url: "{{vars.crm}}/v1/cases?reference={{session.id}}&ref={{ref}}", until_ms: 2000, every_ms: 100, expect: [{ status: 200 }, { jsonpath: { path: "$[0].subject", contains: "Lost card" } }] }',
      'capture: { as: case_id, jsonpath: "$[0].id" }',
      'http: { url: "{{vars.crm}}/v1/cases/{{case_id}}", headers: { authorization: "Bearer {{secrets.crm_token}}" }, expect: { jsonpath: { path: "$.status", equals: "open" } } }',
    ]), { variables: { 'run.id': 'run-9', 'vars.crm': base }, secrets: async () => ({ crm_token: 's3cret' }), httpAllow: [base] });
    expect(summary.verdict, JSON.stringify(assertions)).toBe('pass');
    const queries = seen.filter((s) => s.url.startsWith('/v1/cases?'));
    expect(queries).toHaveLength(3);
    expect(queries[0]!.url).toBe('/v1/cases?reference=sess-1&ref=7781');
    expect(seen.at(-1)!.headers.authorization).toBe('Bearer s3cret');
    expect(events.find((e) => e.kind === 'transcript' && e.speaker === 'caller')).toMatchObject({ text: 'i lost my card, run run-9' });
    expect(JSON.stringify(events)).not.toContain('s3cret');
    expect(assertions.find((a) => a.assertion === 'capture case_id')).toMatchObject({ verdict: 'pass', actual: 'case-42' });
  });

  it('fails with what it last saw when the record never appears within until_ms', async () => {
    casesVisibleAfter = 1000;
    const { summary, assertions } = await run(journey([
      'say: "hello"', `http: { url: "${base}/v1/cases?reference={{session.id}}", until_ms: 300, every_ms: 100, expect: { jsonpath: { path: "$[0].id", exists: true } } }`,
    ]), { httpAllow: [base] });
    expect(summary.verdict).toBe('fail');
    expect(assertions.at(-1)).toMatchObject({ verdict: 'fail', actual: '(nothing)' });
  });

  it('refuses an origin the target does not allow, naming config.httpAllow', async () => {
    const { summary } = await run(journey(['say: "hello"', `http: { url: "${base}/v1/cases", expect: { status: 200 } }`]), { httpAllow: ['http://crm.example'] });
    expect(summary).toMatchObject({ verdict: 'error', errorCode: 'VIGIL_E_CHECK_NOT_ALLOWED' });
    expect(summary.errorMessage).toContain(base);
  });

  it('reports an unreachable system as VIGIL_E_CHECK_UNREACHABLE (retryable), not as a failed assertion', async () => {
    const dead = 'http://127.0.0.1:9';
    const { summary } = await run(journey(['say: "hello"', `http: { url: "${dead}/x", until_ms: 200, every_ms: 100, expect: { status: 200 } }`]), { httpAllow: [dead] });
    expect(summary).toMatchObject({ verdict: 'error', errorCode: 'VIGIL_E_CHECK_UNREACHABLE' });
  });

  it('says which variable is missing and where to define it', async () => {
    const { summary } = await run(journey(['say: "hello"', 'http: { url: "{{vars.crm}}/v1/cases", expect: { status: 200 } }']), { httpAllow: [base] });
    expect(summary).toMatchObject({ verdict: 'error', errorCode: 'VIGIL_E_REQUEST_INVALID' });
    expect(summary.errorMessage).toContain('{{vars.crm}}');
  });

  it('asks the configured judge with the conversation so far, keeps its evidence, and is inconclusive without one', async () => {
    const asked: unknown[] = [];
    const judge: CheckContext['judge'] = async (input, o) => {
      asked.push({ ...input, samples: o.samples });
      return { verdict: 'fail', score: 0.2, rationale: 'it quotes a reference number it was not asked for', evidence: { model: 'm', promptSha256: 'abc' } };
    };
    const yaml = journey(['say: "i lost my card"', 'expect: { judge: { rubric: "The reply must only confirm the card is blocked.", samples: 5 } }']);
    const { summary, assertions } = await run(yaml, { judge });
    expect(summary.verdict).toBe('fail');
    expect(asked).toEqual([{ rubric: 'The reply must only confirm the card is blocked.', conversation: [{ speaker: 'caller', text: 'i lost my card' }, { speaker: 'bot', text: 'you said i lost my card; your reference is REF-7781' }], scope: 'last_reply', samples: 5 }]);
    expect(assertions[0]).toMatchObject({ verdict: 'fail', actual: 'fail (score 0.20): it quotes a reference number it was not asked for', evidence: { model: 'm', promptSha256: 'abc' } });
    const without = await run(yaml, {});
    expect(without.summary.verdict).toBe('inconclusive');
    expect(without.assertions[0]!.message).toContain('VIGIL_JUDGE_BASE_URL');
  });

  it.each([
    ['say: "hi {{nobody}}"', 'steps[0].say', 'not known here'],
    ['say: "my pin is {{secrets.pin}}"', 'steps[0].say', 'secrets may only go into http headers and body'],
    ['http: { url: "http://crm/x?t={{secrets.t}}", expect: { status: 200 } }', 'steps[0].http.url', 'secrets may only go'],
    ['http: { url: "ftp://crm/x", expect: { status: 200 } }', 'steps[0].http.url', 'absolute http(s) URL'],
    ['http: { url: "http://crm/x" }', 'steps[0].http', 'needs expect'],
    ['http: { url: "http://crm/x", method: FETCH, expect: { status: 200 } }', 'steps[0].http.method', 'GET, POST'],
    ['http: { url: "http://crm/x", expect: { status: 99 } }', 'steps[0].http.expect.status', 'from 100 to 599'],
    ['capture: { as: x, jsonpath: "$.a" }', 'steps[0].capture', 'no say or simulate or http step comes before it'],
    ['capture: { as: 1x, regex: "a" }', 'steps[0].capture.as', 'variable name'],
    ['expect: { any_of: [{ judge: "a rubric that is long enough" }, "x"] }', 'steps[0].expect.any_of', 'cannot sit inside any_of'],
    ['expect: { judge: { rubric: "short" } }', 'steps[0].expect.judge.rubric', 'at least 10'],
    ['expect: { min_mos: 4 }', 'steps[0].expect.min_mos', 'journey-wide assertions'],
    ['simulate: { persona: "x", goal: "get the card blocked" }', 'steps[0].simulate.persona', "caller's character"],
    ['simulate: { persona: "an anxious caller", goal: "get the card blocked", max_turns: 99 }', 'steps[0].simulate.max_turns', '1 to 30'],
    ['simulate: { persona: "an anxious caller", goal: "get the card blocked", mood: sad }', 'steps[0].simulate.mood', 'unknown field'],
  ])('refuses %s at %s', (step, field, message) => {
    let err: { details?: { issues?: Array<{ field: string; message: string }> } } | undefined;
    try { parseJourney(journey([step, 'say: "hello"'])); } catch (e) { err = e as typeof err; }
    const issue = err?.details?.issues?.find((i) => i.field === field);
    expect(issue?.message, JSON.stringify(err?.details?.issues)).toContain(message);
  });
});
