/**
 * Bad input gets a clear 4xx (or gRPC status) with a stable code naming the field, and nothing is stored
 * half-way. Runs against the real plane on Postgres.
 */
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_VERSION, loadContract, runEventToWire, type ProbeServiceClient, type RunEventBody, type RunRequest } from '@vigil/contract';
import { generateSigningKey, type SigningKey } from '@vigil/evidence';
import { Redactor, RunRecord } from '@vigil/probe';
import { CHAT_TARGET, startStack, type Stack } from '../support/stack.ts';
import { spawnVigil } from '../support/processes.ts';
import { waitFor } from '../support/services.ts';

type Err = { code: string; message: string; field?: string; fix?: string; retryable: boolean; details?: { issues?: Array<{ line: number; column: number; field: string; message: string; file: string }> } };

describe('bad input', () => {
  let s: Stack;
  let db: pg.Client;
  const count = async (table: string) => Number((await db.query(`SELECT count(*) FROM ${table}`)).rows[0].count);
  beforeAll(async () => {
    s = await startStack({ bodyLimitBytes: 64 * 1024 });
    db = new pg.Client({ connectionString: s.databaseUrl });
    await db.connect();
    expect((await s.api('POST', '/v1/targets', CHAT_TARGET(s.bot))).status).toBe(201);
  });
  afterAll(async () => { await db?.end(); await s?.close(); });

  it('malformed YAML: 422 VIGIL_E_JOURNEY_YAML with line and column, nothing stored', async () => {
    const r = await s.api<Err>('POST', '/v1/journeys?file=broken.yaml', 'version: 1\nname: x\nsteps:\n  - say: "unterminated\n', 'application/yaml');
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('VIGIL_E_JOURNEY_YAML');
    expect(r.body.message).toMatch(/^broken\.yaml:\d+:\d+: /);
    expect(r.body.details?.issues?.[0]).toMatchObject({ file: 'broken.yaml', line: expect.any(Number), column: expect.any(Number) });
    expect(await count('journeys')).toBe(0);
    expect(await count('journey_versions')).toBe(0);
  });

  it('unknown step kind: 422 VIGIL_E_JOURNEY_INVALID naming file, line, column and field', async () => {
    const yaml = 'version: 1\nname: shouty\nchannel: chat\nsteps:\n  - say: hi\n  - shout: HELLO\n  - expect: { regex: "(" }\n';
    const r = await s.api<Err>('POST', '/v1/journeys?file=shouty.yaml', yaml, 'application/yaml');
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('VIGIL_E_JOURNEY_INVALID');
    expect(r.body.field).toBe('steps[1].shout');
    expect(r.body.details?.issues).toEqual([
      expect.objectContaining({ file: 'shouty.yaml', line: 6, column: 5, field: 'steps[1].shout', message: expect.stringContaining('unknown step kind "shout"') }),
      expect.objectContaining({ line: 7, field: 'steps[2].expect.regex', message: expect.stringContaining('does not compile') }),
    ]);
    expect(await count('journeys')).toBe(0);
  });

  it('a schedule naming a missing target: 404 naming the field, no schedule stored', async () => {
    expect((await s.api('POST', '/v1/journeys', 'version: 1\nname: ok\nchannel: chat\nsteps:\n  - say: hi\n', 'application/yaml')).status).toBe(201);
    const r = await s.api<Err>('POST', '/v1/schedules', { journey: 'ok', target: 'no-such-bot', regions: ['eu-test'], intervalMs: 60000 });
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ code: 'VIGIL_E_NOT_FOUND', field: 'target', retryable: false });
    const both = await s.api<Err>('POST', '/v1/schedules', { journey: 'ok', target: 'refbot-openai', regions: ['eu-test'], intervalMs: 60000, cron: '* * * * *' });
    expect(both.status).toBe(422);
    expect(both.body.code).toBe('VIGIL_E_SCHEDULE_INVALID');
    const badCron = await s.api<Err>('POST', '/v1/schedules', { journey: 'ok', target: 'refbot-openai', regions: ['eu-test'], cron: 'every tuesday' });
    expect(badCron.body).toMatchObject({ code: 'VIGIL_E_SCHEDULE_INVALID', field: 'cron' });
    const badRegion = await s.api<Err>('POST', '/v1/schedules', { journey: 'ok', target: 'refbot-openai', regions: ['EU West'], intervalMs: 60000 });
    expect(badRegion.body).toMatchObject({ code: 'VIGIL_E_SCHEDULE_INVALID', field: 'regions[0]' });
    expect((await s.api('POST', '/v1/journeys', 'version: 1\nname: ivr\nchannel: voice\nsteps:\n  - listen: {}\n', 'application/yaml')).status).toBe(201);
    const family = await s.api<Err>('POST', '/v1/schedules', { journey: 'ivr', target: 'refbot-openai', regions: ['eu-test'], intervalMs: 60000 });
    expect(family.status).toBe(422);
    expect(family.body).toMatchObject({ code: 'VIGIL_E_SCHEDULE_INVALID', field: 'target', message: 'a voice journey cannot run against a chat.openai target' });
    expect(await count('schedules')).toBe(0);
    const run = await s.api<Err>('POST', '/v1/runs', { journey: 'ok', target: 'nope', region: 'eu-test' });
    expect(run.body).toMatchObject({ code: 'VIGIL_E_NOT_FOUND', field: 'target' });
    expect(await count('runs')).toBe(0);
  });

  it('targets: unknown fields, wrong schemes and secrets in headers are refused with the field named', async () => {
    const extra = await s.api<Err>('POST', '/v1/targets', { ...CHAT_TARGET(s.bot, 'x1'), colour: 'blue' });
    expect(extra.status).toBe(400);
    expect(extra.body).toMatchObject({ code: 'VIGIL_E_REQUEST_INVALID', field: 'colour' });
    const scheme = await s.api<Err>('POST', '/v1/targets', { name: 'x2', channel: 'chat.websocket', endpoint: 'http://127.0.0.1:1/ws' });
    expect(scheme.status).toBe(422);
    expect(scheme.body).toMatchObject({ code: 'VIGIL_E_TARGET_INVALID', field: 'endpoint' });
    const secret = await s.api<Err>('POST', '/v1/targets', { name: 'x3', channel: 'chat.http', endpoint: 'http://127.0.0.1:1/hook', config: { headers: { Authorization: 'Bearer sk-live' } } });
    expect(secret.body).toMatchObject({ code: 'VIGIL_E_TARGET_INVALID', field: 'config.headers.Authorization' });
    const model = await s.api<Err>('POST', '/v1/targets', { name: 'x4', channel: 'chat.openai', endpoint: 'http://127.0.0.1:1/v1' });
    expect(model.body).toMatchObject({ code: 'VIGIL_E_TARGET_INVALID', field: 'config.model' });
    const dup = await s.api<Err>('POST', '/v1/targets', CHAT_TARGET(s.bot));
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('VIGIL_E_CONFLICT');
    expect(await count('targets')).toBe(1);
  });

  it('oversized bodies: 413; wrong media type: 415; bad JSON: 400', async () => {
    const big = `version: 1\nname: big\nchannel: chat\nsteps:\n  - say: "${'x'.repeat(70 * 1024)}"\n`;
    const r = await s.api<Err>('POST', '/v1/journeys', big, 'application/yaml');
    expect(r.status).toBe(413);
    expect(r.body.code).toBe('VIGIL_E_REQUEST_TOO_LARGE');
    const media = await fetch(`http://127.0.0.1:${s.httpPort}/v1/targets`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<x/>' });
    expect(media.status).toBe(415);
    expect(((await media.json()) as Err).code).toBe('VIGIL_E_REQUEST_MEDIA_TYPE');
    const json = await s.api<Err>('POST', '/v1/targets', '{"name": ', 'application/json');
    expect(json.status).toBe(400);
    expect(json.body.code).toBe('VIGIL_E_REQUEST_INVALID');
    const unknownRoute = await s.api<Err>('GET', '/v1/nothing');
    expect(unknownRoute.body.code).toBe('VIGIL_E_NOT_FOUND');
  });

  it('journey versions cannot be edited in place, even with SQL', async () => {
    await expect(db.query(`UPDATE journey_versions SET source = 'x'`)).rejects.toThrow(/immutable/);
  });

  describe('probe side', () => {
    let client: ProbeServiceClient;
    beforeAll(() => {
      const Ctor = loadContract().vigil.v1.ProbeService;
      client = new Ctor(`127.0.0.1:${s.grpcPort}`, grpc.credentials.createInsecure());
    });
    afterAll(() => client?.close());
    const md = (token: string) => { const m = new grpc.Metadata(); m.set('authorization', `Bearer ${token}`); return m; };

    it('an unknown probe token is refused with UNAUTHENTICATED and VIGIL_E_AUTH_PROBE_TOKEN', async () => {
      const err = await new Promise<grpc.ServiceError>((resolve) => client.RegisterProbe({ probeId: 'p', region: 'eu-test', contractVersion: CONTRACT_VERSION }, md('vgp_wrong'), (e) => resolve(e!)));
      expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(err.metadata.get('vigil-error-code')).toEqual(['VIGIL_E_AUTH_PROBE_TOKEN']);
      expect(await count('probes')).toBe(0);
    });

    it('a probe process with an unknown token stops with the error instead of retrying forever', async () => {
      const p = spawnVigil(['probe'], { VIGIL_REGION: 'eu-test', VIGIL_PROBE_TOKEN: 'vgp_wrong', VIGIL_PLANE_ADDRESS: `127.0.0.1:${s.grpcPort}`, NATS_URL: 'nats://127.0.0.1:4222', VIGIL_PROBE_HTTP_PORT: '-1' }, 'probe-bad-token');
      expect(await p.exited).toBe(2);
      expect(p.output()).toMatch(/VIGIL_E_AUTH_PROBE_TOKEN/);
    });

    it('a probe with a missing region is told which variable to set', async () => {
      const p = spawnVigil(['probe'], { VIGIL_REGION: '', VIGIL_PROBE_TOKEN: 'x' }, 'probe-no-region');
      expect(await p.exited).toBe(2);
      expect(p.output()).toMatch(/VIGIL_E_CONFIG_INVALID[\s\S]*field: VIGIL_REGION/);
    });

    it('a final event without a good evidence record is refused with its own code; the run stays open and nothing is logged', async () => {
      const journey = 'version: 1\nname: evidence-bad\nchannel: chat\nsteps:\n  - say: hi\n';
      expect((await s.api('POST', '/v1/journeys?file=e.yaml', journey, 'application/yaml')).status).toBe(201);
      const run = await s.api<{ id: string }>('POST', '/v1/runs', { journey: 'evidence-bad', target: 'refbot-openai', region: 'eu-nobody' });
      const req = (await db.query('SELECT request FROM runs WHERE id = $1', [run.body.id])).rows[0].request as RunRequest;
      const enrolled = generateSigningKey();
      await new Promise<void>((resolve, reject) => client.RegisterProbe({ probeId: 'p-ev', region: 'eu-nobody', contractVersion: CONTRACT_VERSION, publicKey: enrolled.publicKey }, md(s.token), (e) => (e ? reject(e) : resolve())));
      const finished: Extract<RunEventBody, { kind: 'run_finished' }> = { kind: 'run_finished', verdict: 'pass', durationMs: 10, stepsPassed: 1, stepsFailed: 0 };
      const sign = (key: SigningKey, over: Partial<{ verdict: 'pass' | 'fail' }> = {}) => new RunRecord(req, 1).sign({
        key, probeId: 'p-ev', region: 'eu-nobody', probeVersion: 't', clockOffsetMs: 0, salt: Buffer.alloc(16), finished: { ...finished, ...over }, outcome: 'completed', endedAtMs: Date.now(), redaction: new Redactor({ dtmf: true, pii: [] }),
      });
      const flip = (text: string) => { const e = JSON.parse(text) as { payload: string }; const b = Buffer.from(e.payload, 'base64'); b[b.indexOf('p-ev')] ^= 1; return JSON.stringify({ ...e, payload: b.toString('base64') }); };
      const attempt = async (evidenceDsse: string | undefined) => {
        const call = client.ReportRun(md(s.token));
        const acks: Array<{ errorCode: string; errorRetryable: boolean }> = [];
        call.on('data', (a) => acks.push(a));
        const done = new Promise((r) => call.on('end', r));
        const head = { runId: run.body.id, attempt: 1, atMs: Date.now(), probeId: 'p-ev' };
        call.write(runEventToWire({ ...head, seq: 1, body: { kind: 'run_started', journeyVersionId: req.journeyVersionId, targetId: req.target.id, region: 'eu-nobody', channel: 'chat.openai' } }));
        call.write(runEventToWire({ ...head, seq: 2, body: { ...finished, ...(evidenceDsse ? { evidenceDsse } : {}) } }));
        call.end();
        await done;
        return acks.find((a) => a.errorCode);
      };
      expect(await attempt(undefined)).toMatchObject({ errorCode: 'VIGIL_E_EVIDENCE_RECORD_INVALID', errorRetryable: false });
      expect(await attempt(sign(generateSigningKey()))).toMatchObject({ errorCode: 'VIGIL_E_EVIDENCE_KEY_UNKNOWN' });
      expect(await attempt(flip(sign(enrolled)))).toMatchObject({ errorCode: 'VIGIL_E_EVIDENCE_SIGNATURE' });
      expect(await attempt(sign(enrolled, { verdict: 'fail' }))).toMatchObject({ errorCode: 'VIGIL_E_EVIDENCE_RECORD_INVALID' });
      expect((await db.query('SELECT verdict FROM runs WHERE id = $1', [run.body.id])).rows[0].verdict).toBeNull();
      expect(await count('evidence_entries')).toBe(0);
      expect(await s.metric('vigil_evidence_rejected_total', { code: 'VIGIL_E_EVIDENCE_SIGNATURE' })).toBe(1);
      // The good record is taken.
      expect(await attempt(sign(enrolled))).toBeUndefined();
      expect(await count('evidence_entries') + await count('evidence_pending')).toBe(1);
      await waitFor('the sequencer to log the record', async () => (await count('evidence_entries')) === 1);
    });

    it('events for a run the plane never scheduled are refused and not stored', async () => {
      const call = client.ReportRun(md(s.token));
      const acks: Array<{ errorCode: string; errorRetryable: boolean }> = [];
      call.on('data', (a) => acks.push(a));
      const done = new Promise((r) => call.on('end', r));
      call.write(runEventToWire({ runId: 'not-a-run', attempt: 1, seq: 1, atMs: Date.now(), probeId: 'p', body: { kind: 'run_started', journeyVersionId: 'x', targetId: 'y', region: 'eu-test', channel: 'chat.openai' } }));
      call.end();
      await done;
      expect(acks).toEqual([expect.objectContaining({ errorCode: 'VIGIL_E_RUN_UNKNOWN', errorRetryable: false })]);
      expect(Number((await db.query("SELECT count(*) FROM run_events WHERE run_id = 'not-a-run'")).rows[0].count)).toBe(0);
    });
  });
});
