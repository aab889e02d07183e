/**
 * Evidence API for risk and compliance teams: the log (key, checkpoints, proofs), record queries, bundle export
 * (NDJSON, verified offline with `vigil evidence verify`), a window report (JSON, HTML, PDF), probe key
 * revocation, artifact download and erasure.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { envelopePayload, type DsseEnvelope, type RunPredicate } from '@vigil/evidence';
import { VigilError } from '@vigil/errors';
import { wilsonInterval } from '@vigil/stats';
import type { EvidenceEntryRow } from '@vigil/store';
import { renderPdf, type PdfLine } from '../pdf.ts';
import { Ref, errorResponses } from './common.ts';

const Time = Type.String({ format: 'date-time' });
const ms = (s: string | undefined) => (s ? new Date(s).getTime() : null);

function recordJson(e: EvidenceEntryRow) {
  const env = e.envelope as DsseEnvelope;
  return {
    index: e.idx, integratedAt: new Date(e.integratedMs).toISOString(), integratedTimeMs: e.integratedMs, kind: e.kind, runId: e.runId,
    outcome: e.outcome, verdict: e.verdict, journeyId: e.journeyId, targetId: e.targetId, region: e.region, scheduledAt: e.scheduledAt?.toISOString() ?? null,
    keyId: e.keyId, statement: envelopePayload(env), envelope: env,
  };
}

export const evidenceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { evidence, evidenceStore: es, store } = app.deps;
  const tenant = evidence.tenant;

  const resolve = async (kind: 'journey' | 'target', ref: string | undefined): Promise<string | undefined> => {
    if (!ref) return undefined;
    const row = kind === 'journey' ? await store.getJourney(ref) : await store.getTarget(ref);
    if (!row) throw new VigilError('VIGIL_E_NOT_FOUND', `${kind} ${ref} does not exist`, { field: kind, fix: `use a ${kind} id or name from GET /v1/${kind}s` });
    return row.id;
  };

  app.get('/evidence/log', { schema: { tags: ['evidence'], summary: 'The log: tenant, origin, the verifier key auditors pin, current size' } }, async () => {
    const cp = await evidence.checkpoint();
    return { tenant, origin: evidence.origin, keyId: evidence.logKey.keyId, publicKey: evidence.logKey.publicKey, verifierKey: evidence.verifierKey, size: cp.size, rootHash: cp.rootHash.toString('base64') };
  });

  app.get('/evidence/checkpoint', { schema: { tags: ['evidence'], summary: 'The newest signed checkpoint (C2SP tlog-checkpoint, text/plain)' } }, async (_req, reply) => {
    const cp = await evidence.checkpoint();
    reply.header('content-type', 'text/plain; charset=utf-8');
    return cp.note;
  });

  app.get('/evidence/records', {
    schema: {
      tags: ['evidence'], summary: 'Records by journey, target, region, time, outcome or verdict (oldest first; page with after=<last index>)',
      querystring: Type.Object({
        journey: Type.Optional(Ref), target: Type.Optional(Ref), region: Type.Optional(Type.String()), runId: Type.Optional(Type.String()),
        outcome: Type.Optional(Type.Union(['completed', 'rejected', 'missed', 'interrupted'].map((o) => Type.Literal(o)))),
        verdict: Type.Optional(Type.Union(['pass', 'fail', 'error', 'inconclusive'].map((o) => Type.Literal(o)))),
        since: Type.Optional(Time), until: Type.Optional(Time), after: Type.Optional(Type.Integer({ minimum: -1 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
      }, { additionalProperties: false }),
      response: { 200: Type.Unknown(), ...errorResponses },
    },
  }, async (req) => {
    const q = req.query;
    await evidence.integrate();
    const rows = await es.queryEntries({
      tenant, journey: await resolve('journey', q.journey), target: await resolve('target', q.target), region: q.region, runId: q.runId, outcome: q.outcome, verdict: q.verdict,
      sinceMs: ms(q.since) ?? undefined, untilMs: ms(q.until) ?? undefined, afterIdx: q.after, limit: q.limit,
    });
    return { records: rows.map(recordJson) };
  });

  app.get('/evidence/records/:index', {
    schema: { tags: ['evidence'], summary: 'One record with its inclusion proof against the newest checkpoint', params: Type.Object({ index: Type.Integer({ minimum: 0 }) }), response: { 200: Type.Unknown(), ...errorResponses } },
  }, async (req) => {
    await evidence.integrate();
    const [row] = await es.queryEntries({ tenant, afterIdx: req.params.index - 1, limit: 1 });
    if (!row || row.idx !== req.params.index) throw new VigilError('VIGIL_E_NOT_FOUND', `the log has no entry ${req.params.index}`, { field: 'index' });
    const cp = await evidence.checkpoint();
    const proof = await evidence.inclusionProof(row.idx, cp.size);
    return { record: recordJson(row), inclusion: { treeSize: cp.size, hashes: proof.map((h) => h.toString('base64')) }, checkpoint: cp.note };
  });

  app.get('/evidence/proofs/inclusion', {
    schema: { tags: ['evidence'], summary: 'RFC 9162 inclusion proof', querystring: Type.Object({ index: Type.Integer({ minimum: 0 }), treeSize: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }), response: { 200: Type.Unknown(), ...errorResponses } },
  }, async (req) => ({ index: req.query.index, treeSize: req.query.treeSize, hashes: (await evidence.inclusionProof(req.query.index, req.query.treeSize)).map((h) => h.toString('base64')) }));

  app.get('/evidence/proofs/consistency', {
    schema: { tags: ['evidence'], summary: 'RFC 9162 consistency proof between two tree sizes', querystring: Type.Object({ first: Type.Integer({ minimum: 1 }), second: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }), response: { 200: Type.Unknown(), ...errorResponses } },
  }, async (req) => ({ first: req.query.first, second: req.query.second, hashes: (await evidence.consistencyProof(req.query.first, req.query.second)).map((h) => h.toString('base64')) }));

  app.get('/evidence/keys', { schema: { tags: ['evidence'], summary: 'The trust root: the log key and every probe key with its validity window' } }, async () => evidence.trustRoot());

  app.post('/evidence/keys/:keyId/revoke', {
    schema: {
      tags: ['evidence'], summary: 'Revokes a probe key from a moment on (when it is believed compromised); records logged since then fail verification',
      params: Type.Object({ keyId: Type.String({ pattern: '^[0-9a-f]{32}$' }) }),
      body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 200 }), revokedAt: Type.Optional(Time) }, { additionalProperties: false }),
      response: { 200: Type.Unknown(), ...errorResponses },
    },
  }, async (req) => {
    const key = await es.getKey(req.params.keyId);
    if (!key || key.tenant !== tenant) throw new VigilError('VIGIL_E_NOT_FOUND', `no key ${req.params.keyId}`, { field: 'keyId', fix: 'GET /v1/evidence/keys lists them' });
    if (key.kind !== 'probe') throw new VigilError('VIGIL_E_REQUEST_INVALID', 'the log key is not revoked through the API', { field: 'keyId', fix: 'rotate VIGIL_EVIDENCE_KEY_FILE and tell auditors the new verifier key' });
    const at = req.body.revokedAt ? new Date(req.body.revokedAt) : new Date();
    if (at.getTime() > Date.now() + 60_000) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'revokedAt is in the future', { field: 'revokedAt', fix: 'give the moment the key was (or may have been) compromised, or omit it for now' });
    const row = await es.revokeKey(key.keyId, at, req.body.reason);
    if (!row) throw new VigilError('VIGIL_E_CONFLICT', `key ${key.keyId} is already revoked`, { field: 'keyId' });
    req.log.warn({ keyId: key.keyId, probeId: key.probeId, revokedAt: at.toISOString() }, 'probe key revoked');
    return { keyId: row.keyId, probeId: row.probeId, revokedAt: row.revokedAt!.toISOString() };
  });

  app.get('/evidence/bundle', {
    schema: {
      tags: ['evidence'], summary: 'Exports every record integrated in [since, until) as an NDJSON bundle for offline verification',
      querystring: Type.Object({
        since: Type.Optional(Time), until: Type.Optional(Time), fromSize: Type.Optional(Type.Integer({ minimum: 1, description: 'tree size of a checkpoint the auditor holds: adds the consistency proof' })),
        artifacts: Type.Optional(Type.Boolean({ default: false })),
      }, { additionalProperties: false }),
      response: { 200: Type.Unknown(), ...errorResponses },
    },
  }, async (req, reply) => {
    const q = req.query;
    const lines = await evidence.bundle({ sinceMs: ms(q.since), untilMs: ms(q.until), fromSize: q.fromSize ?? null, artifacts: q.artifacts ?? false });
    reply.header('content-type', 'application/x-ndjson');
    reply.header('content-disposition', `attachment; filename="vigil-evidence-${tenant}-${new Date().toISOString().replace(/[:.]/g, '')}.ndjson"`);
    const { Readable } = await import('node:stream');
    return reply.send(Readable.from(lines));
  });

  app.get('/runs/:id/artifacts', {
    schema: { tags: ['evidence'], summary: 'A run\'s artifacts (metadata; the bytes at /runs/:id/artifacts/:name)', params: Type.Object({ id: Type.String() }), response: { 200: Type.Unknown(), ...errorResponses } },
  }, async (req) => {
    const run = await store.getRun(req.params.id);
    if (!run) throw new VigilError('VIGIL_E_NOT_FOUND', `run ${req.params.id} does not exist`, { field: 'id' });
    const key = await es.getRunKey(run.id);
    const rows = await es.artifactsOf(run.id, run.attempt ?? undefined);
    return {
      erasedAt: key?.erasedAt?.toISOString() ?? null,
      artifacts: rows.map((a) => ({ name: a.name, attempt: a.attempt, sha256: a.sha256, bytes: a.bytes, mediaType: a.mediaType, retention: a.retention, redactions: a.redactions, erased: !a.sealed })),
    };
  });

  app.get('/runs/:id/artifacts/:name', {
    schema: { tags: ['evidence'], summary: 'An artifact\'s bytes, decrypted (410 once erased)', params: Type.Object({ id: Type.String(), name: Type.String() }), response: { 200: Type.Unknown(), ...errorResponses, 410: errorResponses[404] } },
  }, async (req, reply) => {
    const a = await evidence.readArtifact(req.params.id, req.params.name);
    reply.header('content-type', a.mediaType);
    reply.header('x-vigil-sha256', a.sha256);
    return reply.send(a.data);
  });

  app.post('/runs/:id/erase', {
    schema: {
      tags: ['evidence'], summary: 'Erases a run\'s artifacts: destroys its key and logs a signed erasure record (its evidence still verifies)',
      params: Type.Object({ id: Type.String() }),
      body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 64, description: 'a short code, e.g. gdpr-art17' }) }, { additionalProperties: false }),
      response: { 200: Type.Unknown(), ...errorResponses },
    },
  }, async (req) => {
    const r = await evidence.erase(req.params.id, req.body.reason);
    return { runId: req.params.id, erasureIndex: r.index, artifacts: r.artifacts };
  });

  app.get('/evidence/report', {
    schema: {
      tags: ['evidence'], summary: 'What was tested where and how often, pass rates, and every failure with its evidence link (JSON, HTML or PDF)',
      querystring: Type.Object({ since: Type.Optional(Time), until: Type.Optional(Time), format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('html'), Type.Literal('pdf')])) }, { additionalProperties: false }),
      response: { 200: Type.Unknown(), ...errorResponses },
    },
  }, async (req, reply) => {
    const r = await buildReport(req.query.since, req.query.until);
    const fmt = req.query.format ?? 'json';
    if (fmt === 'json') return r;
    if (fmt === 'html') { reply.header('content-type', 'text/html; charset=utf-8'); return reportHtml(r); }
    reply.header('content-type', 'application/pdf');
    reply.header('content-disposition', `attachment; filename="vigil-evidence-report-${tenant}.pdf"`);
    return reportPdf(r);
  });

  async function buildReport(since: string | undefined, until: string | undefined): Promise<Report> {
    const [journeys, targets, cp] = await Promise.all([store.listJourneys(), store.listTargets(), evidence.checkpoint()]);
    const jn = new Map(journeys.map((j) => [j.id, j.name]));
    const tn = new Map(targets.map((t) => [t.id, t.name]));
    const range = await es.rangeFor(tenant, ms(since), ms(until));
    const groups = new Map<string, { journey: string; target: string; region: string; runs: number; pass: number; fail: number; error: number; inconclusive: number; missed: number; interrupted: number; firstAt: number; lastAt: number }>();
    const failures: Report['failures'] = [];
    let erasures = 0;
    const MAX_FAILURES = 2000;
    let moreFailures = 0;
    for await (const e of es.entries(tenant, range.first, range.end)) {
      if (e.kind === 'erasure') { erasures++; continue; }
      const journey = jn.get(e.journeyId ?? '') ?? e.journeyId ?? '';
      const target = tn.get(e.targetId ?? '') ?? e.targetId ?? '';
      const region = e.region ?? '';
      const k = `${journey}\u0000${target}\u0000${region}`;
      const g = groups.get(k) ?? { journey, target, region, runs: 0, pass: 0, fail: 0, error: 0, inconclusive: 0, missed: 0, interrupted: 0, firstAt: e.integratedMs, lastAt: e.integratedMs };
      g.runs++;
      g.lastAt = e.integratedMs;
      const v = (e.verdict ?? 'error') as 'pass' | 'fail' | 'error' | 'inconclusive';
      g[v]++;
      if (e.outcome === 'missed' || e.outcome === 'interrupted') g[e.outcome]++;
      groups.set(k, g);
      if (v !== 'pass') {
        if (failures.length >= MAX_FAILURES) { moreFailures++; continue; }
        const p = (envelopePayload(e.envelope as DsseEnvelope) as { predicate: RunPredicate }).predicate;
        failures.push({
          index: e.idx, runId: e.runId, journey, target, region, scheduledAt: e.scheduledAt?.toISOString() ?? null, outcome: e.outcome ?? '', verdict: v,
          errorCode: p.run.errorCode, failed: p.outcome.assertions.filter((a) => a.verdict !== 'pass').map((a) => `${a.assertion}: ${a.verdict}`), link: `/v1/evidence/records/${e.idx}`,
        });
      }
    }
    return {
      tenant, origin: evidence.origin, generatedAt: new Date().toISOString(), window: { since: since ?? null, until: until ?? null }, range,
      checkpoint: { size: cp.size, rootHash: cp.rootHash.toString('base64'), note: cp.note }, verifierKey: evidence.verifierKey,
      groups: [...groups.values()].map((g) => {
        const w = wilsonInterval(g.pass, g.runs);
        return { ...g, firstAt: new Date(g.firstAt).toISOString(), lastAt: new Date(g.lastAt).toISOString(), passRate: g.runs ? g.pass / g.runs : 0, wilson95: { low: w.low, high: w.high } };
      }).sort((a, b) => a.journey.localeCompare(b.journey) || a.target.localeCompare(b.target) || a.region.localeCompare(b.region)),
      failures, moreFailures, erasures,
    };
  }
};

interface Report {
  tenant: string; origin: string; generatedAt: string; window: { since: string | null; until: string | null }; range: { first: number; end: number };
  checkpoint: { size: number; rootHash: string; note: string }; verifierKey: string;
  groups: Array<{ journey: string; target: string; region: string; runs: number; pass: number; fail: number; error: number; inconclusive: number; missed: number; interrupted: number; firstAt: string; lastAt: string; passRate: number; wilson95: { low: number; high: number } }>;
  failures: Array<{ index: number; runId: string; journey: string; target: string; region: string; scheduledAt: string | null; outcome: string; verdict: string; errorCode: string | null; failed: string[]; link: string }>;
  moreFailures: number;
  erasures: number;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

function reportHtml(r: Report): string {
  const rows = r.groups.map((g) => `<tr><td>${esc(g.journey)}</td><td>${esc(g.target)}</td><td>${esc(g.region)}</td><td>${g.runs}</td><td>${g.pass}</td><td>${g.fail}</td><td>${g.error}</td><td>${g.missed + g.interrupted}</td><td>${pct(g.passRate)}</td><td>${pct(g.wilson95.low)} – ${pct(g.wilson95.high)}</td><td>${esc(g.firstAt)}</td><td>${esc(g.lastAt)}</td></tr>`).join('\n');
  const fails = r.failures.map((f) => `<tr><td><a href="${esc(f.link)}">#${f.index}</a></td><td>${esc(f.scheduledAt ?? '')}</td><td>${esc(f.journey)}</td><td>${esc(f.target)}</td><td>${esc(f.region)}</td><td>${esc(f.outcome)}</td><td>${esc(f.verdict)}</td><td>${esc(f.errorCode ?? '')}</td><td>${esc(f.failed.join('; '))}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil evidence report — ${esc(r.tenant)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:13px}th{background:#f3f3f3}code,pre{font-size:12px}</style></head>
<body><h1>Vigil evidence report</h1>
<p>Tenant <b>${esc(r.tenant)}</b>, log <code>${esc(r.origin)}</code>. Window ${esc(r.window.since ?? 'beginning')} to ${esc(r.window.until ?? 'now')} (log entries ${r.range.first}–${r.range.end - 1}). Generated ${esc(r.generatedAt)}.</p>
<p>Checkpoint (verify the bundle of this window offline with <code>vigil evidence verify</code>; pin the log key <code>${esc(r.verifierKey)}</code>):</p><pre>${esc(r.checkpoint.note)}</pre>
<h2>What was tested, where and how often</h2>
<table><tr><th>Journey</th><th>Target</th><th>Region</th><th>Runs</th><th>Pass</th><th>Fail</th><th>Error</th><th>Missed/interrupted</th><th>Pass rate</th><th>95 % Wilson</th><th>First</th><th>Last</th></tr>
${rows}</table>
<h2>Every failure (${r.failures.length + r.moreFailures})</h2>
<table><tr><th>Record</th><th>Scheduled</th><th>Journey</th><th>Target</th><th>Region</th><th>Outcome</th><th>Verdict</th><th>Error</th><th>Failed assertions</th></tr>
${fails}</table>
${r.moreFailures ? `<p>${r.moreFailures} more failures: narrow the window or use GET /v1/evidence/records?verdict=fail.</p>` : ''}
<p>Erasure records in the window: ${r.erasures}.</p>
</body></html>`;
}

function reportPdf(r: Report): Buffer {
  const L: PdfLine[] = [
    { text: 'Vigil evidence report', bold: true, size: 16 },
    { text: `Tenant ${r.tenant}, log ${r.origin}. Window ${r.window.since ?? 'beginning'} to ${r.window.until ?? 'now'} (entries ${r.range.first}-${r.range.end - 1}). Generated ${r.generatedAt}.` },
    { text: `Checkpoint: size ${r.checkpoint.size}, root ${r.checkpoint.rootHash}. Log key: ${r.verifierKey}` },
    { text: '' },
    { text: 'What was tested, where and how often', bold: true, size: 12 },
  ];
  for (const g of r.groups) {
    L.push({ text: `${g.journey} / ${g.target} / ${g.region}`, bold: true });
    L.push({ text: `  ${g.runs} runs (${g.firstAt} to ${g.lastAt}): ${g.pass} pass, ${g.fail} fail, ${g.error} error, ${g.missed + g.interrupted} missed or interrupted; pass rate ${pct(g.passRate)} (95 % Wilson ${pct(g.wilson95.low)}-${pct(g.wilson95.high)})` });
  }
  L.push({ text: '' }, { text: `Every failure (${r.failures.length + r.moreFailures})`, bold: true, size: 12 });
  for (const f of r.failures) {
    L.push({ text: `#${f.index} ${f.scheduledAt ?? ''} ${f.journey} / ${f.target} / ${f.region}: ${f.outcome}, ${f.verdict}${f.errorCode ? ` (${f.errorCode})` : ''} - evidence ${f.link}` });
    for (const a of f.failed) L.push({ text: `    ${a}` });
  }
  if (r.moreFailures) L.push({ text: `${r.moreFailures} more failures: narrow the window.` });
  L.push({ text: '' }, { text: `Erasure records in the window: ${r.erasures}.` });
  return renderPdf(`Vigil evidence report - ${r.tenant}`, L);
}
