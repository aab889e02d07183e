/** `vigil evidence verify|export|checkpoint|erase`. */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { verifyBundle, type VerifyReport } from '@vigil/evidence';
import { VigilError } from '@vigil/errors';
import { ApiClient } from './api-client.ts';

async function readText(file: string, field: string): Promise<string> {
  try { return await readFile(file, 'utf8'); } catch (e) {
    throw new VigilError('VIGIL_E_REQUEST_INVALID', `cannot read ${file}: ${(e as Error).message}`, { field, fix: `give the path of the ${field.replace(/^--/, '')} file` });
  }
}

/** Verifies a bundle offline; prints a summary (or JSON) and returns the report. */
export async function verifyCommand(o: { bundle: string; logKey?: string; since?: string; json?: boolean; out?: NodeJS.WritableStream }): Promise<VerifyReport> {
  const out = o.out ?? process.stdout;
  const logKey = o.logKey?.includes('+') ? o.logKey : o.logKey ? (await readText(o.logKey, '--log-key')).trim() : undefined;
  const since = o.since ? await readText(o.since, '--since') : undefined;
  const t0 = performance.now();
  const r = await verifyBundle(o.bundle, { ...(logKey ? { logKey } : {}), ...(since ? { since } : {}) });
  const ms = performance.now() - t0;
  if (o.json) { out.write(`${JSON.stringify({ ...r, verifyMs: Math.round(ms) }, null, 2)}\n`); return r; }
  out.write(`${r.ok ? 'VERIFIED' : 'FAILED'}: ${o.bundle}\n`);
  if (r.log) out.write(`  log        ${r.log.origin}, checkpoint size ${r.log.size}, root ${r.log.rootHash}\n  log key    ${r.log.verifierKey}${r.log.pinned ? ' (pinned)' : ' (NOT pinned: compare it with the key your risk team holds, or pass --log-key)'}\n`);
  if (r.range) out.write(`  entries    ${r.range.first}–${r.range.end - 1} (${r.records} records read), window ${r.window?.sinceMs ? new Date(r.window.sinceMs).toISOString() : 'beginning'} to ${r.window?.untilMs ? new Date(r.window.untilMs).toISOString() : 'export'}\n`);
  out.write(`  consistency from held checkpoint: ${r.consistency}\n`);
  out.write(`  runs       ${r.runs.terminal} with a terminal record, ${r.runs.pending} pending; outcomes ${JSON.stringify(r.outcomes)}; verdicts ${JSON.stringify(r.verdicts)}\n`);
  out.write(`  artifacts  ${r.artifacts.verified} verified, ${r.artifacts.erased} erased, ${r.artifacts.notExported} not exported, ${r.artifacts.missing} missing\n`);
  for (const e of r.erased) out.write(`  erased     ${e.runId}/${e.name} at ${new Date(e.erasedAtMs).toISOString()} (${e.reason})\n`);
  for (const p of r.problems.slice(0, 50)) out.write(`  ✗ ${p.code}: ${p.message}\n`);
  if (r.problems.length > 50) out.write(`  … ${r.problems.length - 50} more problems (--json lists all)\n`);
  out.write(`  verified in ${(ms / 1000).toFixed(2)} s\n`);
  return r;
}

export async function exportCommand(o: { file: string; since?: string; until?: string; fromSize?: string; artifacts?: boolean }): Promise<void> {
  const api = new ApiClient();
  const q = new URLSearchParams();
  if (o.since) q.set('since', new Date(o.since).toISOString());
  if (o.until) q.set('until', new Date(o.until).toISOString());
  if (o.fromSize) q.set('fromSize', o.fromSize);
  if (o.artifacts) q.set('artifacts', 'true');
  const res = await api.raw('GET', `/v1/evidence/bundle?${q}`);
  await pipeline(Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream), createWriteStream(o.file));
}

export { ApiClient };
