/**
 * Measurement accuracy against the reference contact center (part of `pnpm bench`): CALLS concurrent calls,
 * each keying TURNS menu digits through the voice.sip driver (the probe's own code path) and listening to the
 * answer; every turn latency Vigil reports is compared with the center's ground truth (digit received → first
 * speech sample of the answering prompt sent). Prints the error distribution (p50, p95, max of |measured −
 * truth|). BENCH_REFCC_CALLS=4, BENCH_REFCC_TURNS=4. Needs flite and pocketsphinx.
 *
 * The contact center runs as its own process (`vigil contact-center`), as a real target would: sharing one event
 * loop with the probe, a stall in either delayed the other's clock reading and showed up as a 40 ms "error".
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import type { TargetSpec } from '@vigil/contract';
import { percentile } from '@vigil/media';
import { PROMPTS, type CallTruth } from '@vigil/refcc';
import { sipVoiceDriver } from '@vigil/sip';

const CALLS = Number(process.env.BENCH_REFCC_CALLS ?? 4);
const TURNS = Number(process.env.BENCH_REFCC_TURNS ?? 4);
const said = (t: string) => t.toLowerCase().replace(/[.,]/g, '').replace(/\b1\b/g, 'one').replace(/\b2\b/g, 'two').replace(/\b3\b/g, 'three').replace(/\b0\b/g, 'zero');

const child = spawn(process.execPath, ['packages/cli/src/main.ts', 'contact-center', '--http-port', '0', '--menu-timeout-ms', '30000'], { stdio: ['ignore', 'pipe', 'inherit'] });
let banner = '';
const up = await new Promise<{ ivrUri: string; api: string }>((resolve, reject) => {
  child.once('exit', (code) => reject(new Error(`vigil contact-center exited ${code}`)));
  child.stdout.on('data', (d: Buffer) => {
    banner += d.toString();
    const ivr = /IVR +(sip:\S+)/.exec(banner)?.[1];
    const api = /API +(http:\S+)/.exec(banner)?.[1];
    if (ivr && api) resolve({ ivrUri: ivr, api });
  });
});
const errors: number[] = [];
const latencies: number[] = [];
try {
  await Promise.all(Array.from({ length: CALLS }, async (_, c) => {
    await new Promise((r) => setTimeout(r, c * 700)); // stagger the calls
    const runId = randomUUID();
    const target: TargetSpec = { id: 'bench', name: 'bench', channel: 'voice.sip', endpoint: up.ivrUri, config: {} };
    const session = await sipVoiceDriver.open(target, { runId, sessionId: runId, signal: AbortSignal.timeout(600_000), phrases: [said(PROMPTS.greeting), said(PROMPTS.billing), said(PROMPTS.cards)] });
    const signal = AbortSignal.timeout(600_000);
    const measured: number[] = [];
    try {
      await session.listen!({ signal });
      for (let t = 0; t < TURNS; t++) {
        // 1 → billing, * → greeting, 2 → cards, * → greeting, …
        await session.dtmf!(t % 2 === 1 ? '*' : t % 4 === 0 ? '1' : '2', { signal });
        const reply = await session.listen!({ signal });
        measured.push(reply.timings!.find((x) => x.layer === 'voice_turn')! .turnLatencyMs as number);
      }
    } finally {
      await session.close();
    }
    const truth = (await (await fetch(`${up.api}/v1/calls?runId=${runId}`)).json() as CallTruth[])[0]!;
    const turns = truth.events.flatMap((d, i) => {
      if (d.kind !== 'dtmf') return [];
      const next = truth.events.slice(i + 1).find((e): e is Extract<typeof e, { kind: 'prompt' }> => e.kind === 'prompt');
      return next?.speechStartMs ? [next.speechStartMs - d.atMs] : [];
    });
    measured.forEach((m, i) => { if (turns[i] !== undefined) { errors.push(Math.abs(m - turns[i]!)); latencies.push(m); } });
    if (process.env.BENCH_VERBOSE) console.log(`call ${c}: ${measured.map((m, i) => `${m.toFixed(1)}/${turns[i]?.toFixed(1)}`).join(", ")}`);
  }));
} finally {
  child.kill('SIGTERM');
}
const f = (v: number) => +v.toFixed(2);
console.log(`refcc accuracy: ${errors.length} DTMF turns over ${CALLS} concurrent calls — |measured − truth| p50 ${f(percentile(errors, 50))} ms, p95 ${f(percentile(errors, 95))} ms, max ${f(Math.max(...errors))} ms (turn latency p50 ${f(percentile(latencies, 50))} ms)`);
console.log(JSON.stringify({ machine: { cpus: cpus().length, node: process.version }, calls: CALLS, turns: errors.length, errorP50Ms: f(percentile(errors, 50)), errorP95Ms: f(percentile(errors, 95)), errorMaxMs: f(Math.max(...errors)) }));
process.exit(0);
