import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redactionPolicy } from '@vigil/chat';
import { envelopePayload, parseStatement, verifyEnvelope, publicKeyFromRaw, type DsseEnvelope } from '@vigil/evidence';
import { Redactor, RunRecord, loadProbeKey } from './evidence.ts';

describe('probe evidence', () => {
  it('makes its key once, 0600, and loads the same key after', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-key-')), 'sub', 'probe.key');
    const a = await loadProbeKey(file);
    const b = await loadProbeKey(file);
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.key.keyId).toBe(a.key.keyId);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('masks DTMF digits and PII in what it reports, counting each', () => {
    const r = new Redactor(redactionPolicy({}));
    expect(r.text('[DTMF 4242#]')).toBe('[DTMF •••••]');
    expect(r.text('my card is four one one one one one one one one one one one one one one one and my email is jo@example.com')).toBe('my card is [card] and my email is [email]');
    expect(r.event({ kind: 'step_started', stepIndex: 2, stepKind: 'dtmf', name: 'dtmf 1234' })).toMatchObject({ name: 'dtmf (digits masked)' });
    expect(r.event({ kind: 'assertion', stepIndex: 1, assertion: 'x', verdict: 'fail', expected: 'balance', actual: 'SSN 123-45-6789', message: 'got SSN 123-45-6789' })).toMatchObject({ actual: 'SSN [ssn]', message: 'got SSN [ssn]' });
    expect(r.applied).toEqual({ dtmf: 2, 'pii:card': 1, 'pii:email': 1, 'pii:ssn': 2 });
    const keep = new Redactor(redactionPolicy({ redaction: { dtmf: false, pii: ['card'] } }));
    expect(keep.text('[DTMF 12] jo@example.com 4111 1111 1111 1111')).toBe('[DTMF 12] jo@example.com [card]');
  });

  it('refuses a redaction policy it does not understand, naming the field', () => {
    expect(() => redactionPolicy({ redaction: { pii: ['passport'] } })).toThrow(/config\.redaction\.pii names an unknown kind passport/);
    expect(() => redactionPolicy({ redaction: 'yes' })).toThrow(/config\.redaction must be a map/);
  });

  it('signs a record that names the run, its assertions and artifacts, with the endpoint only as a salted hash', async () => {
    const { key } = await loadProbeKey(join(mkdtempSync(join(tmpdir(), 'vigil-key-')), 'k'));
    const req = {
      runId: 'r1', region: 'eu', journeyId: 'j', journeyVersionId: 'v'.repeat(64), journeyVersion: 3, scheduleId: 's', journey: { version: 1, name: 'balance', steps: [] },
      target: { id: 't', name: 'bot', channel: 'voice.sip' as const, endpoint: 'sip:+4420790000@cc.example', config: {} }, scheduledAtMs: 1000, notBeforeMs: 1000,
    };
    const rec = new RunRecord(req, 2);
    rec.observe({ kind: 'run_started', journeyVersionId: 'v', targetId: 't', region: 'eu', channel: 'voice.sip' }, 1500);
    rec.observe({ kind: 'assertion', stepIndex: 1, assertion: 'latency', verdict: 'pass', expected: '<= 1000 ms', actual: '420 ms', message: 'ok' }, 1600);
    rec.observe({ kind: 'assertion', stepIndex: 2, assertion: 'judge', verdict: 'pass', expected: 'the rubric', actual: 'x', message: 'ok', evidence: { score: 0.9, model: 'm1', promptSha256: 'p'.repeat(64) } }, 1700);
    rec.artifacts.push({ name: 'call.wav', sha256: 'a'.repeat(64), bytes: 10, mediaType: 'audio/wav', retention: 'recording', redactions: [] });
    rec.codec = 'PCMU';
    const text = rec.sign({
      key, probeId: 'p1', region: 'eu', probeVersion: '0.1.0', clockOffsetMs: -3, salt: Buffer.alloc(16, 1), endedAtMs: 2000, outcome: 'completed',
      finished: { kind: 'run_finished', verdict: 'pass', durationMs: 480.4, stepsPassed: 3, stepsFailed: 0 }, redaction: new Redactor(redactionPolicy({})),
    });
    const env = JSON.parse(text) as DsseEnvelope;
    expect(verifyEnvelope(env, key.keyId, publicKeyFromRaw(key.publicKey))).toBe(true);
    expect(text).not.toContain('4420790000');
    const p = parseStatement(envelopePayload(env));
    expect(p.kind).toBe('run');
    const pred = p.statement.predicate as import('@vigil/evidence').RunPredicate;
    expect(pred.run).toMatchObject({ id: 'r1', attempt: 2, outcome: 'completed', verdict: 'pass' });
    expect(pred.when).toEqual({ scheduledAtMs: 1000, startedAtMs: 1500, endedAtMs: 2000, probeClockOffsetMs: -3 });
    expect(pred.outcome.assertions).toEqual([
      { step: 1, assertion: 'latency', verdict: 'pass', score: null, threshold: '<= 1000 ms' },
      { step: 2, assertion: 'judge', verdict: 'pass', score: 0.9, threshold: null },
    ]);
    expect(pred.conditions.judges).toEqual([{ model: 'm1', promptSha256: 'p'.repeat(64) }]);
    expect(pred.conditions.endpointSaltedSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(p.statement.subject.map((s) => s.name)).toEqual(['vigil:journey/j@3', 'vigil:run/r1/call.wav']);
  });
});
