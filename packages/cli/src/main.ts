#!/usr/bin/env node
/** The `vigil` command. `vigil help` lists the commands. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { VigilError, toVigilError } from '@vigil/errors';
import { ApiClient } from './api-client.ts';
// Each command loads only what it needs (the plane's and probe's dependencies take a while to load).

const HELP = `vigil — continuous CX assurance

  vigil run <journey.yaml> --target <url|sip:uri|name> [--channel openai|http|websocket] [--model ID]
            [--credentials env:NAME] [--header "k: v"]... [--reply-path $.x] [--server host:port]
            [--transport udp|tcp|tls|ws|wss] [--allow sip:…|http(s)://origin]… [--var name=value]…
            [--json] [--junit FILE]
        Run one journey from here, without a plane. Exit 0 pass, 1 fail, 2 error. --allow names transfer
        targets the call may follow and the origins http checks may query; --var fills {{vars.name}}.
  vigil demo [--runs N] [--interval-ms MS]
        Plane + local probe + reference bot + example journeys on a schedule (PGlite / in-process bus
        unless DATABASE_URL / NATS_URL are set). --runs N exits after N finished runs (1 if any failed).
  vigil contact-center [--host H] [--sip-port N] [--http-port N] [--menu-timeout-ms MS]
                       [--early-media] [--prompts tts|asterisk] [--llm-base-url URL --llm-model ID]
        The reference contact center: a SIP IVR (DTMF menu, transfer by REFER to an agent queue) with
        per-call ground truth and fault switches on its HTTP API (GET /v1/calls, PUT /v1/faults).
        --prompts asterisk voices the IVR with Asterisk's recordings; the LLM key comes from OPENAI_API_KEY.
  vigil plane                     Start the control plane (configuration from the environment).
  vigil probe [--config FILE]     Start a probe (environment overrides the file).
  vigil journeys push <file>...   Push journey versions to the plane (VIGIL_API_URL, VIGIL_API_TOKEN).
  vigil journeys list
  vigil runs list [--journey X] [--target X] [--region X] [--verdict V] [--limit N] [--json]
  vigil runs show <run-id> [--json]
  vigil judge calibrate <rubric.yaml> <labelled.jsonl> [--base-url URL --model ID] [--samples N]
                        [--min-kappa K] [--json] [--write]
        How often an LLM judge (any OpenAI-compatible endpoint; or VIGIL_JUDGE_BASE_URL/_MODEL/_API_KEY)
        agrees with human labels: accuracy, Cohen's kappa, confusion matrix. Exit 1 below --min-kappa (0.6).
        --write records the result in the rubric file; judge verdicts made with it are flagged when it is
        uncalibrated, calibrated for another model, or below VIGIL_JUDGE_MIN_KAPPA.
  vigil evidence verify <bundle.ndjson> [--log-key VKEY|FILE] [--since CHECKPOINT_FILE] [--json]
        Offline: signatures, key validity and revocation, inclusion in the signed checkpoint, consistency
        from a checkpoint you hold, artifact hashes, completeness (one terminal record per scheduled run).
        Exit 0 verified, 1 any problem (each with its VIGIL_E_EVIDENCE_* code).
  vigil evidence export <file> [--since T] [--until T] [--from-size N] [--artifacts]
  vigil evidence checkpoint [--out FILE]    The log's newest signed checkpoint (keep it for --since).
  vigil evidence erase <run-id> --reason CODE
        Destroys the run's artifact key and logs a signed erasure record.
  vigil wer <reference.trn> <hypothesis.trn> [--json] [--no-normalise]
        Word and character error rates, per utterance and overall, aligned as NIST sclite aligns.
`;

function fail(e: unknown): never {
  const err = toVigilError(e);
  process.stderr.write(`error ${err.code}: ${err.message}\n`);
  if (err.field) process.stderr.write(`  field: ${err.field}\n`);
  if (err.fix) process.stderr.write(`  fix:   ${err.fix}\n`);
  const issues = err.details?.issues as Array<{ file: string; line: number; column: number; field: string; message: string }> | undefined;
  for (const i of issues ?? []) process.stderr.write(`  ${i.file}:${i.line}:${i.column}: ${i.field}: ${i.message}\n`);
  process.exit(err.code === 'VIGIL_E_INTERNAL' ? 70 : 2);
}

function onSignals(stop: () => Promise<void>): void {
  let n = 0;
  const handler = (sig: string) => {
    n++;
    if (n > 1) { process.stderr.write(`${sig} again: exiting now\n`); process.exit(130); }
    process.stderr.write(`${sig}: draining…\n`);
    stop().then(() => process.exit(0), (e) => fail(e));
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run': {
      const { exitCodeFor, runLocal } = await import('./run-local.ts');
      const { values, positionals } = parseArgs({
        args: rest, allowPositionals: true,
        options: { target: { type: 'string', short: 't' }, channel: { type: 'string' }, model: { type: 'string' }, credentials: { type: 'string' }, header: { type: 'string', multiple: true }, 'reply-path': { type: 'string' }, server: { type: 'string' }, transport: { type: 'string' }, allow: { type: 'string', multiple: true }, var: { type: 'string', multiple: true }, json: { type: 'boolean' }, junit: { type: 'string' } },
      });
      if (positionals.length !== 1) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'give exactly one journey file', { field: 'journey', fix: 'vigil run journey.yaml --target http://bot:8080/v1' });
      if (!values.target) throw new VigilError('VIGIL_E_REQUEST_INVALID', '--target is required', { field: '--target', fix: 'a bot URL (http(s)/ws(s)) or a target name known to the plane' });
      const { summary } = await runLocal({ journeyFile: positionals[0]!, target: values.target, channel: values.channel, model: values.model, credentials: values.credentials, headers: values.header, replyPath: values['reply-path'], server: values.server, transport: values.transport, allow: values.allow, vars: values.var, json: values.json, junit: values.junit });
      return process.exit(exitCodeFor(summary.verdict));
    }
    case 'demo': {
      const { followRuns, startDemo } = await import('./demo.ts');
      const { values } = parseArgs({ args: rest, options: { runs: { type: 'string' }, 'interval-ms': { type: 'string' } } });
      const runs = values.runs === undefined ? 0 : Number(values.runs);
      if (!Number.isInteger(runs) || runs < 0) throw new VigilError('VIGIL_E_REQUEST_INVALID', '--runs must be a whole number', { field: '--runs', fix: 'e.g. --runs 3' });
      const intervalMs = values['interval-ms'] === undefined ? undefined : Number(values['interval-ms']);
      const demo = await startDemo({ runs, intervalMs });
      const abort = new AbortController();
      onSignals(async () => { abort.abort(); await demo.stop(); });
      const verdicts = await followRuns(demo, runs, process.stdout, abort.signal);
      await demo.stop();
      return process.exit(verdicts.every((v) => v === 'pass') ? 0 : 1);
    }
    case 'contact-center': {
      const { startContactCenter, serveApi } = await import('@vigil/refcc');
      const { values } = parseArgs({ args: rest, options: { host: { type: 'string' }, 'sip-port': { type: 'string' }, 'http-port': { type: 'string' }, 'menu-timeout-ms': { type: 'string' }, 'llm-base-url': { type: 'string' }, 'llm-model': { type: 'string' }, 'early-media': { type: 'boolean' }, prompts: { type: 'string' } } });
      if (!values['llm-base-url'] !== !values['llm-model']) throw new VigilError('VIGIL_E_REQUEST_INVALID', '--llm-base-url and --llm-model go together', { field: values['llm-base-url'] ? '--llm-model' : '--llm-base-url', fix: 'e.g. --llm-base-url http://localhost:11434/v1 --llm-model llama3.1' });
      const llm = values['llm-base-url'] && values['llm-model'] ? { baseUrl: values['llm-base-url'], model: values['llm-model'], ...(process.env.OPENAI_API_KEY ? { apiKey: process.env.OPENAI_API_KEY } : {}) } : undefined;
      const num = (name: string, v: string | undefined) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new VigilError('VIGIL_E_REQUEST_INVALID', `--${name} must be a whole number, got ${v}`, { field: `--${name}`, fix: 'e.g. 5070' });
        return n;
      };
      const cc = await startContactCenter({ host: values.host, sipPort: num('sip-port', values['sip-port']), menuTimeoutMs: num('menu-timeout-ms', values['menu-timeout-ms']), earlyMediaGreeting: values['early-media'] === true, ...(values.prompts !== undefined ? { prompts: values.prompts as 'tts' | 'asterisk' } : {}), ...(llm ? { llm } : {}) });
      const api = await serveApi(cc, { host: values.host, port: num('http-port', values['http-port']) });
      process.stdout.write(`contact center up\n  IVR          ${cc.ivrUri}\n  voice bot    ${cc.botUri}\n  agent queue  ${cc.agentsUri}\n  chat         ${cc.chatUrl}/v1 (OpenAI-compatible), ${cc.chatUrl}/webhook, ws${cc.chatUrl.slice(4)}/ws\n  API          ${api.url} (GET /v1/calls, GET /v1/agent-desktop/events, PUT /v1/faults)\n`);
      onSignals(async () => { await api.close(); await cc.stop(); });
      return;
    }
    case 'plane': {
      const { planeOptionsFromEnv, startPlane } = await import('@vigil/plane');
      const plane = await startPlane(planeOptionsFromEnv());
      onSignals(() => plane.close());
      return;
    }
    case 'probe': {
      const { Probe, probeOptionsFromEnv } = await import('@vigil/probe');
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' } } });
      const probe = new Probe(probeOptionsFromEnv(process.env, values.config));
      onSignals(() => probe.stop());
      await probe.start();
      return;
    }
    case 'journeys': {
      const [sub, ...files] = rest;
      const api = new ApiClient();
      if (sub === 'push') {
        if (files.length === 0) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'give one or more journey files', { field: 'file', fix: 'vigil journeys push journeys/*.yaml' });
        for (const f of files) {
          const r = await api.request<{ journey: { name: string }; version: { version: number; id: string }; created: boolean }>('POST', `/v1/journeys?file=${encodeURIComponent(f)}`, await readFile(f, 'utf8'), 'application/yaml');
          process.stdout.write(`${r.created ? 'pushed ' : 'unchanged'} ${r.journey.name} v${r.version.version} ${r.version.id.slice(0, 12)}\n`);
        }
        return;
      }
      if (sub === 'list') {
        const r = await api.request<{ journeys: Array<{ name: string; latestVersion: number; updatedAt: string }> }>('GET', '/v1/journeys');
        for (const j of r.journeys) process.stdout.write(`${j.name.padEnd(40)} v${j.latestVersion}  ${j.updatedAt}\n`);
        return;
      }
      throw new VigilError('VIGIL_E_REQUEST_INVALID', `unknown journeys command "${sub ?? ''}"`, { fix: 'vigil journeys push|list' });
    }
    case 'runs': {
      const [sub, ...args] = rest;
      const api = new ApiClient();
      if (sub === 'list') {
        const { values } = parseArgs({ args, options: { journey: { type: 'string' }, target: { type: 'string' }, region: { type: 'string' }, verdict: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } } });
        const q = new URLSearchParams();
        for (const k of ['journey', 'target', 'region', 'verdict', 'limit'] as const) if (values[k]) q.set(k, values[k]!);
        const r = await api.request<{ runs: Array<{ id: string; journey: { name: string }; target: { name: string }; region: string; status: string; verdict: string | null; scheduledAt: string; durationMs: number | null }> }>('GET', `/v1/runs?${q}`);
        if (values.json) { process.stdout.write(`${JSON.stringify(r, null, 2)}\n`); return; }
        for (const x of r.runs) process.stdout.write(`${x.id}  ${x.scheduledAt}  ${(x.verdict ?? x.status).padEnd(9)} ${x.journey.name} → ${x.target.name} [${x.region}] ${x.durationMs === null ? '' : `${Math.round(x.durationMs)} ms`}\n`);
        return;
      }
      if (sub === 'show') {
        const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
        if (positionals.length !== 1) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'give one run id', { field: 'run-id', fix: 'vigil runs show <id>' });
        const r = await api.request<{ run: { id: string; verdict: string | null; status: string; journey: { name: string }; target: { name: string }; region: string; probeId: string | null; attempt: number | null; errorCode: string | null; errorMessage: string | null }; turns: Array<{ stepIndex: number; caller: string | null; bot: string | null; timeToFirstTokenMs: number; timeToFullReplyMs: number }>; events: Array<{ kind: string; body: { kind: string; assertion?: string; verdict?: string; message?: string } }> }>('GET', `/v1/runs/${encodeURIComponent(positionals[0]!)}`);
        if (values.json) { process.stdout.write(`${JSON.stringify(r, null, 2)}\n`); return; }
        const x = r.run;
        process.stdout.write(`run ${x.id}: ${x.verdict ?? x.status} — ${x.journey.name} → ${x.target.name} [${x.region}] probe ${x.probeId ?? '-'} attempt ${x.attempt ?? '-'}\n`);
        if (x.errorCode) process.stdout.write(`  ${x.errorCode}: ${x.errorMessage}\n`);
        for (const t of r.turns) process.stdout.write(`  step ${t.stepIndex + 1}: caller: ${t.caller}\n          bot:    ${t.bot}\n          first token ${t.timeToFirstTokenMs.toFixed(0)} ms, full reply ${t.timeToFullReplyMs.toFixed(0)} ms\n`);
        for (const e of r.events) if (e.body.kind === 'assertion' && e.body.verdict !== 'pass') process.stdout.write(`  ✗ ${e.body.assertion}: ${e.body.message}\n`);
        return;
      }
      throw new VigilError('VIGIL_E_REQUEST_INVALID', `unknown runs command "${sub ?? ''}"`, { fix: 'vigil runs list|show' });
    }
    case 'judge': {
      const [sub, ...args] = rest;
      if (sub !== 'calibrate') throw new VigilError('VIGIL_E_REQUEST_INVALID', `unknown judge command ${sub ?? ''}`.trim(), { field: 'judge', fix: 'vigil judge calibrate <rubric.yaml> <labelled.jsonl>' });
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'base-url': { type: 'string' }, model: { type: 'string' }, samples: { type: 'string' }, 'min-kappa': { type: 'string' }, json: { type: 'boolean' }, write: { type: 'boolean' } } });
      if (positionals.length !== 2) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'give a rubric file and a labelled set', { field: 'files', fix: 'vigil judge calibrate rubric.yaml labelled.jsonl --base-url URL --model ID' });
      const samples = values.samples === undefined ? undefined : Number(values.samples);
      if (samples !== undefined && (!Number.isInteger(samples) || samples < 1 || samples > 15)) throw new VigilError('VIGIL_E_REQUEST_INVALID', '--samples must be 1..15', { field: '--samples', fix: 'e.g. --samples 3' });
      const minKappa = values['min-kappa'] === undefined ? 0.6 : Number(values['min-kappa']);
      if (!(minKappa >= -1 && minKappa <= 1)) throw new VigilError('VIGIL_E_REQUEST_INVALID', '--min-kappa must be a number from -1 to 1', { field: '--min-kappa', fix: 'e.g. --min-kappa 0.6 (substantial agreement)' });
      const { calibrateCommand } = await import('./judge-cmd.ts');
      const c = await calibrateCommand({ rubricFile: positionals[0]!, setFile: positionals[1]!, baseUrl: values['base-url'], model: values.model, samples, minKappa, json: values.json, write: values.write });
      return process.exit(c.kappa >= minKappa ? 0 : 1);
    }
    case 'evidence': {
      const [sub, ...args] = rest;
      const { verifyCommand, exportCommand, ApiClient: Api } = await import('./evidence-cmd.ts');
      if (sub === 'verify') {
        const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'log-key': { type: 'string' }, since: { type: 'string' }, json: { type: 'boolean' } } });
        if (positionals.length !== 1) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'give one bundle file', { field: 'bundle', fix: 'vigil evidence verify bundle.ndjson --log-key <verifier key>' });
        const r = await verifyCommand({ bundle: positionals[0]!, logKey: values['log-key'], since: values.since, json: values.json });
        return process.exit(r.ok ? 0 : 1);
      }
      if (sub === 'export') {
        const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { since: { type: 'string' }, until: { type: 'string' }, 'from-size': { type: 'string' }, artifacts: { type: 'boolean' } } });
        if (positionals.length !== 1) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'give the file to write the bundle to', { field: 'file', fix: 'vigil evidence export bundle.ndjson --since 2026-11-01' });
        for (const k of ['since', 'until'] as const) if (values[k] && Number.isNaN(Date.parse(values[k]!))) throw new VigilError('VIGIL_E_REQUEST_INVALID', `--${k} is not a date`, { field: `--${k}`, fix: 'e.g. 2026-11-01 or 2026-11-01T12:00:00Z' });
        await exportCommand({ file: positionals[0]!, since: values.since, until: values.until, fromSize: values['from-size'], artifacts: values.artifacts });
        process.stdout.write(`bundle written to ${positionals[0]}\n`);
        return;
      }
      if (sub === 'checkpoint') {
        const { values } = parseArgs({ args, options: { out: { type: 'string' } } });
        const res = await new Api().raw('GET', '/v1/evidence/checkpoint');
        const note = await res.text();
        if (values.out) { const { writeFile } = await import('node:fs/promises'); await writeFile(values.out, note); } else process.stdout.write(note);
        return;
      }
      if (sub === 'erase') {
        const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { reason: { type: 'string' } } });
        if (positionals.length !== 1 || !values.reason) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'give one run id and --reason', { field: positionals.length !== 1 ? 'run-id' : '--reason', fix: 'vigil evidence erase <run-id> --reason gdpr-art17' });
        const r = await new Api().request<{ erasureIndex: number; artifacts: Array<{ name: string }> }>('POST', `/v1/runs/${encodeURIComponent(positionals[0]!)}/erase`, { reason: values.reason });
        process.stdout.write(`erased ${r.artifacts.map((a) => a.name).join(', ')}; erasure record at log entry ${r.erasureIndex}\n`);
        return;
      }
      throw new VigilError('VIGIL_E_REQUEST_INVALID', `unknown evidence command "${sub ?? ''}"`, { fix: 'vigil evidence verify|export|checkpoint|erase' });
    }
    case 'wer': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' }, 'no-normalise': { type: 'boolean' } } });
      if (positionals.length !== 2) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'give a reference and a hypothesis trn file', { field: 'files', fix: 'vigil wer ref.trn hyp.trn' });
      const { parseTrn, scoreTrn } = await import('@vigil/speech');
      const read = async (f: string) => {
        try { return await readFile(f, 'utf8'); } catch (e) { throw new VigilError('VIGIL_E_REQUEST_INVALID', `cannot read ${f}: ${(e as Error).message}`, { field: f, fix: 'give the path of a trn file ("text (utterance_id)" per line)' }); }
      };
      const score = scoreTrn(parseTrn(await read(positionals[0]!), positionals[0]), parseTrn(await read(positionals[1]!), positionals[1]), { normalise: !values['no-normalise'] });
      const pct = (r: number) => (Number.isFinite(r) ? `${(r * 100).toFixed(1)}%` : 'inf');
      if (values.json) {
        const strip = (r: typeof score.wer) => ({ correct: r.correct, substitutions: r.substitutions, deletions: r.deletions, insertions: r.insertions, refLength: r.refLength, rate: Number.isFinite(r.rate) ? r.rate : null });
        process.stdout.write(`${JSON.stringify({ normalisation: score.normalisation, wer: strip(score.wer), cer: strip(score.cer), utterances: score.utterances.map((u) => ({ id: u.id, missing: u.missing, wer: strip(u.wer), cer: strip(u.cer), alignment: u.wer.ops })) }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${'utterance'.padEnd(28)} ${'#ref'.padStart(5)} ${'C'.padStart(5)} ${'S'.padStart(5)} ${'D'.padStart(5)} ${'I'.padStart(5)} ${'WER'.padStart(7)} ${'CER'.padStart(7)}\n`);
      for (const u of score.utterances) {
        const w = u.wer;
        process.stdout.write(`${(u.id + (u.missing ? ' (no hyp)' : '')).padEnd(28)} ${String(w.refLength).padStart(5)} ${String(w.correct).padStart(5)} ${String(w.substitutions).padStart(5)} ${String(w.deletions).padStart(5)} ${String(w.insertions).padStart(5)} ${pct(w.rate).padStart(7)} ${pct(u.cer.rate).padStart(7)}\n`);
      }
      const w = score.wer;
      process.stdout.write(`${'overall'.padEnd(28)} ${String(w.refLength).padStart(5)} ${String(w.correct).padStart(5)} ${String(w.substitutions).padStart(5)} ${String(w.deletions).padStart(5)} ${String(w.insertions).padStart(5)} ${pct(w.rate).padStart(7)} ${pct(score.cer.rate).padStart(7)}\n`);
      process.stdout.write(score.normalisation === null ? 'no normalisation (tokens compared as written)\n' : `normalisation v${score.normalisation}: lower case, numbers as words, punctuation removed\n`);
      return;
    }
    case undefined: case 'help': case '--help': case '-h':
      process.stdout.write(HELP);
      return;
    default:
      throw new VigilError('VIGIL_E_REQUEST_INVALID', `unknown command "${cmd}"`, { fix: 'vigil help' });
  }
}

main(process.argv.slice(2)).catch(fail);
