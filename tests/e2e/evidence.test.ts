/**
 * Evidence end to end on real services: scheduled and on-demand runs (chat against the reference bot, a SIP
 * call through the reference contact center's IVR) are signed by the probe (a separate process) and logged by
 * the plane; a run no probe takes is sealed as missed, a run whose probe dies as interrupted. The exported
 * bundle verifies offline with `vigil evidence verify` (another process, no plane), including consistency
 * from a checkpoint taken earlier; erasure keeps it green and reports the artifacts erased; a flipped
 * artifact byte and a key revoked back in time each fail with their own code. The log tables refuse changes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_JOURNEYS_DIR } from '@vigil/refbot';
import { serveApi, startContactCenter, type ContactCenter } from '@vigil/refcc';
import { CHAT_TARGET, startStack, type Stack } from '../support/stack.ts';
import { spawnVigil } from '../support/processes.ts';
import { waitFor } from '../support/services.ts';

const VOICE = existsSync('/usr/bin/flite') && existsSync('/usr/bin/pocketsphinx_batch');
const DEADLINE_MS = 120_000;

describe('evidence: schedule → signed records → log → exported bundle → offline verification', () => {
  let s: Stack;
  let cc: ContactCenter | undefined;
  let ccApi: { url: string; close: () => Promise<void> } | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-evidence-'));
  const runs: Record<string, string> = {};
  let verifierKey = '';

  const verify = async (file: string, extra: string[] = []) => {
    const p = spawnVigil(['evidence', 'verify', file, '--log-key', verifierKey, ...extra], {}, `evidence-verify-${Date.now()}`);
    const code = await p.exited;
    return { code, out: p.output() };
  };
  const exportBundle = async (name: string, query: string) => {
    const res = await fetch(`http://127.0.0.1:${s.httpPort}/v1/evidence/bundle?${query}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const file = join(dir, name);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    return file;
  };
  const queue = async (journey: string, target: string, region: string) => {
    const r = await s.api<{ id: string }>('POST', '/v1/runs', { journey, target, region });
    expect(r.status).toBe(202);
    return r.body.id;
  };

  beforeAll(async () => {
    s = await startStack({ runDeadlineMs: DEADLINE_MS, checkpointIntervalMs: 500 });
    await s.spawnProbe('probe-ev-1', 'eu-test', { VIGIL_PROBE_KEY_FILE: join(dir, 'probe-ev-1.key') });
    expect((await s.api('POST', '/v1/targets', CHAT_TARGET(s.bot))).status).toBe(201);
    expect((await s.api('POST', '/v1/journeys?file=balance.yaml', readFileSync(`${EXAMPLE_JOURNEYS_DIR}/balance.yaml`, 'utf8'), 'application/yaml')).status).toBe(201);
    const pii = ['version: 1', 'name: card-on-the-line', 'channel: chat', 'steps:', '  - say: "my card number is 4111 1111 1111 1111, what is my balance?"', '  - expect: { not_contains: "zzz-never" }'].join('\n');
    expect((await s.api('POST', '/v1/journeys?file=pii.yaml', pii, 'application/yaml')).status).toBe(201);
    const slow = ['version: 1', 'name: slow-chat', 'channel: chat', 'settings: { step_timeout_ms: 90000 }', 'steps:', '  - say: "hello"', '  - wait: { ms: 60000 }', '  - say: "still there?"'].join('\n');
    expect((await s.api('POST', '/v1/journeys?file=slow.yaml', slow, 'application/yaml')).status).toBe(201);
    if (VOICE) {
      cc = await startContactCenter({ menuTimeoutMs: 8000 });
      ccApi = await serveApi(cc);
      expect((await s.api('POST', '/v1/targets', { name: 'refcc-ivr', channel: 'voice.sip', endpoint: cc.ivrUri, config: { allowlist: [cc.ivrUri] } })).status).toBe(201);
      const ivr = readFileSync(new URL('../../packages/refcc/journeys/ivr-billing.yaml', import.meta.url), 'utf8');
      expect((await s.api('POST', '/v1/journeys?file=ivr-billing.yaml', ivr, 'application/yaml')).status).toBe(201);
    }
  }, 120_000);
  afterAll(async () => { await s?.close(); await ccApi?.close(); await cc?.stop(); });

  it('signs and logs every run the probe finishes, with the PII and DTMF it saw masked', async () => {
    const sched = await s.api<{ id: string }>('POST', '/v1/schedules', { journey: 'balance-inquiry', target: 'refbot-openai', regions: ['eu-test'], intervalMs: 3_600_000, jitterMaxMs: 100 });
    expect(sched.status).toBe(201);
    runs.scheduled = await waitFor('the scheduled run', async () => (await s.api<{ runs: Array<{ id: string }> }>('GET', '/v1/runs?journey=balance-inquiry')).body.runs[0]?.id);
    runs.pii = await queue('card-on-the-line', 'refbot-openai', 'eu-test');
    if (VOICE) runs.voice = await queue('ivr-billing', 'refcc-ivr', 'eu-test');
    for (const id of Object.values(runs)) expect((await s.waitForRun(id, 90_000)).run.verdict).toBe('pass');

    const log = await s.api<{ verifierKey: string; size: number; origin: string }>('GET', '/v1/evidence/log');
    verifierKey = log.body.verifierKey;
    expect(log.body.origin).toBe('vigil/default');
    expect(log.body.size).toBe(Object.keys(runs).length);

    const recs = await s.api<{ records: Array<{ runId: string; outcome: string; verdict: string; keyId: string; statement: { predicate: { where: { probeId: string }; artifacts: Array<{ name: string; redactions: string[] }>; redaction: { applied: Record<string, number> }; conditions: { codec: string | null; targetVersions: Record<string, string> } } } }> }>('GET', '/v1/evidence/records?journey=card-on-the-line');
    expect(recs.body.records).toHaveLength(1);
    const rec = recs.body.records[0]!;
    expect(rec).toMatchObject({ runId: runs.pii, outcome: 'completed', verdict: 'pass' });
    expect(rec.statement.predicate.where.probeId).toBe('probe-ev-1');
    expect(rec.statement.predicate.redaction.applied).toEqual({ 'pii:card': 1 });
    expect(JSON.stringify(rec)).not.toContain('4111');
    expect(rec.statement.predicate.conditions.targetVersions['openai.model']).toBe('vigil-refbot');

    // What was stored is masked too: the run's events and the transcript artifact.
    const detail = await s.api<{ events: Array<{ kind: string; body: { text?: string } }> }>('GET', `/v1/runs/${runs.pii}`);
    const said = detail.body.events.find((e) => e.kind === 'transcript')!.body.text!;
    expect(said).toBe('my card number is [card], what is my balance?');
    const t = await fetch(`http://127.0.0.1:${s.httpPort}/v1/runs/${runs.pii}/artifacts/transcript.json`);
    expect(t.status).toBe(200);
    const transcript = await t.text();
    expect(transcript).toContain('[card]');
    expect(transcript).not.toContain('4111');

    if (VOICE) {
      const arts = await s.api<{ artifacts: Array<{ name: string; bytes: number; sha256: string }> }>('GET', `/v1/runs/${runs.voice}/artifacts`);
      expect(arts.body.artifacts.map((a) => a.name)).toEqual(['call.timeline.json', 'call.wav', 'transcript.json']);
      const wav = Buffer.from(await (await fetch(`http://127.0.0.1:${s.httpPort}/v1/runs/${runs.voice}/artifacts/call.wav`)).arrayBuffer());
      expect(wav.subarray(0, 4).toString()).toBe('RIFF');
      expect(createHash('sha256').update(wav).digest('hex')).toBe(arts.body.artifacts.find((a) => a.name === 'call.wav')!.sha256);
      expect(wav.length / (8000 * 2 * 2)).toBeGreaterThan(3); // a stereo 8 kHz recording of several seconds
      const v = await s.api<{ events: Array<{ kind: string; body: { text?: string; name?: string; stepKind?: string } }> }>('GET', `/v1/runs/${runs.voice}`);
      expect(v.body.events.find((e) => e.kind === 'step_started' && e.body.stepKind === 'dtmf')!.body.name).toBe('dtmf (digits masked)');
      expect(v.body.events.some((e) => e.kind === 'transcript' && e.body.text === '[DTMF •]')).toBe(true);
      const vr = await s.api<{ records: Array<{ statement: { predicate: { conditions: { codec: string }; artifacts: Array<{ name: string; redactions: string[] }> } } }> }>('GET', '/v1/evidence/records?journey=ivr-billing');
      expect(vr.body.records[0]!.statement.predicate.conditions.codec).toBe('PCMU');
      expect(vr.body.records[0]!.statement.predicate.artifacts.find((a) => a.name === 'transcript.json')!.redactions).toEqual(['dtmf']);
    }
  }, 180_000);

  it('seals a run no probe took as missed and a run whose probe died as interrupted, signed by the log', async () => {
    writeFileSync(join(dir, 'held.checkpoint'), await (await fetch(`http://127.0.0.1:${s.httpPort}/v1/evidence/checkpoint`)).text());
    runs.missed = await queue('balance-inquiry', 'refbot-openai', 'eu-nowhere');
    const doomed = await s.spawnProbe('probe-ev-doomed', 'eu-doomed', { VIGIL_PROBE_KEY_FILE: join(dir, 'doomed.key') });
    runs.interrupted = await queue('slow-chat', 'refbot-openai', 'eu-doomed');
    await waitFor('the slow run to start', async () => (await s.api<{ run: { status: string } }>('GET', `/v1/runs/${runs.interrupted}`)).body.run.status === 'running', 30_000);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    // Time passes beyond the deadline (the plane is in this process: ask it to look from then).
    expect(await s.plane.evidence.sealOverdue(new Date(Date.now() + DEADLINE_MS + 1000))).toBe(2);
    const missed = await s.api<{ run: { verdict: string; errorCode: string } }>('GET', `/v1/runs/${runs.missed}`);
    expect(missed.body.run).toMatchObject({ verdict: 'error', errorCode: 'VIGIL_E_RUN_MISSED' });
    const cut = await s.api<{ run: { verdict: string; errorCode: string } }>('GET', `/v1/runs/${runs.interrupted}`);
    expect(cut.body.run).toMatchObject({ verdict: 'error', errorCode: 'VIGIL_E_RUN_INTERRUPTED' });
    const sealed = await s.api<{ records: Array<{ runId: string; outcome: string }> }>('GET', '/v1/evidence/records?verdict=error');
    expect(sealed.body.records.map((r) => [r.runId, r.outcome])).toEqual([[runs.missed, 'missed'], [runs.interrupted, 'interrupted']]);
    // Sealing again finds nothing: exactly one terminal record per run.
    expect(await s.plane.evidence.sealOverdue(new Date(Date.now() + DEADLINE_MS + 1000))).toBe(0);
  }, 60_000);

  it('exports a bundle that verifies offline, with consistency from the checkpoint held before', async () => {
    const heldSize = Number(readFileSync(join(dir, 'held.checkpoint'), 'utf8').split('\n')[1]);
    const file = await exportBundle('all.ndjson', `artifacts=true&fromSize=${heldSize}`);
    const { code, out } = await verify(file, ['--since', join(dir, 'held.checkpoint')]);
    expect(out).toContain('VERIFIED');
    expect(code).toBe(0);
    expect(out).toContain('consistency from held checkpoint: verified');
    expect(out).toMatch(/outcomes \{"completed":\d,"missed":1,"interrupted":1\}/);
    expect(out).toContain('(pinned)');
    const json = spawnVigil(['evidence', 'verify', file, '--json'], {}, 'evidence-verify-json');
    await json.exited;
    const report = JSON.parse(json.output()) as { ok: boolean; artifacts: { verified: number }; runs: { terminal: number } };
    expect(report.ok).toBe(true);
    expect(report.runs.terminal).toBe(Object.keys(runs).length);
    expect(report.artifacts.verified).toBe(VOICE ? 2 + 3 : 2);

    // A flipped byte in an artifact fails with its own code.
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const i = lines.findIndex((l) => l.includes('"type":"artifact"'));
    const a = JSON.parse(lines[i]!) as { data: string };
    const data = Buffer.from(a.data, 'base64');
    data[data.length >> 1]! ^= 0x01;
    lines[i] = JSON.stringify({ ...a, data: data.toString('base64') });
    writeFileSync(join(dir, 'tampered.ndjson'), `${lines.join('\n')}\n`);
    const bad = await verify(join(dir, 'tampered.ndjson'));
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('VIGIL_E_EVIDENCE_ARTIFACT_HASH');

    // The window report: JSON, HTML and PDF.
    const rep = await s.api<{ groups: Array<{ journey: string; region: string; runs: number; missed: number }>; failures: Array<{ link: string; outcome: string }> }>('GET', '/v1/evidence/report');
    expect(rep.body.groups.find((g) => g.region === 'eu-nowhere')).toMatchObject({ journey: 'balance-inquiry', runs: 1, missed: 1 });
    expect(rep.body.failures.map((f) => f.outcome).sort()).toEqual(['interrupted', 'missed']);
    const html = await fetch(`http://127.0.0.1:${s.httpPort}/v1/evidence/report?format=html`);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toMatch(/<h2>Every failure \(2\)<\/h2>/);
    const pdf = Buffer.from(await (await fetch(`http://127.0.0.1:${s.httpPort}/v1/evidence/report?format=pdf`)).arrayBuffer());
    expect(pdf.subarray(0, 8).toString('latin1')).toBe('%PDF-1.4');
    expect(pdf.toString('latin1')).toContain('(Every failure \\(2\\))');
  }, 60_000);

  it('erases a run\'s artifacts: the bytes are gone, the bundle still verifies and says so', async () => {
    const victim = runs.voice ?? runs.pii!;
    const er = await s.api<{ erasureIndex: number; artifacts: Array<{ name: string }> }>('POST', `/v1/runs/${victim}/erase`, { reason: 'gdpr-art17' });
    expect(er.status).toBe(200);
    const gone = await s.api<{ code: string }>('GET', `/v1/runs/${victim}/artifacts/transcript.json`);
    expect(gone.status).toBe(410);
    expect(gone.body.code).toBe('VIGIL_E_ARTIFACT_ERASED');
    expect((await s.api<{ code: string }>('POST', `/v1/runs/${victim}/erase`, { reason: 'again' })).status).toBe(409);
    expect((await s.api<{ field: string }>('POST', `/v1/runs/${victim}/erase`, { reason: 'Because the customer asked' })).body.field).toBe('reason');
    const file = await exportBundle('after-erasure.ndjson', 'artifacts=true');
    const { code, out } = await verify(file);
    expect(out).toContain('VERIFIED');
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`erased +${victim}/transcript\\.json at .* \\(gdpr-art17\\)`));
    expect(out).toContain(`${er.body.artifacts.length} erased`);
  }, 60_000);

  it('keeps the log append-only in the database', async () => {
    const c = new pg.Client({ connectionString: s.databaseUrl });
    await c.connect();
    try {
      await expect(c.query("UPDATE evidence_entries SET verdict = 'pass'")).rejects.toThrow(/immutable/);
      await expect(c.query('DELETE FROM evidence_entries')).rejects.toThrow(/immutable/);
      await expect(c.query('TRUNCATE evidence_entries')).rejects.toThrow(/append-only/);
      await expect(c.query('DELETE FROM evidence_checkpoints')).rejects.toThrow(/immutable/);
      await expect(c.query("UPDATE evidence_keys SET public_key = 'x'")).rejects.toThrow(/only gain/);
    } finally {
      await c.end();
    }
  });

  it('fails verification once the probe key is revoked from before its records', async () => {
    const keys = await s.api<{ probeKeys: Array<{ keyId: string; probeId: string; validFromMs: number }> }>('GET', '/v1/evidence/keys');
    const k = keys.body.probeKeys.find((x) => x.probeId === 'probe-ev-1')!;
    const bad = await s.api<{ field: string }>('POST', `/v1/evidence/keys/${k.keyId}/revoke`, { reason: 'test', revokedAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(bad.body.field).toBe('revokedAt');
    const r = await s.api('POST', `/v1/evidence/keys/${k.keyId}/revoke`, { reason: 'host compromised', revokedAt: new Date(k.validFromMs).toISOString() });
    expect(r.status).toBe(200);
    const file = await exportBundle('revoked.ndjson', '');
    const { code, out } = await verify(file);
    expect(code).toBe(1);
    expect(out).toContain('VIGIL_E_EVIDENCE_KEY_REVOKED');
  }, 60_000);
});
