/**
 * SIP call capacity of one probe process (part of `pnpm bench`): C concurrent calls to SIPp (built-in uas with
 * RTP echo), each holding HOLD_MS with real-time G.711 media both ways, then BYE. Next to it, SIPp as UAC
 * placing the same number of calls with the same hold time against SIPp uas (signalling only: SIPp's uac
 * sends no RTP). A call of ours counts as good when at least 90 % of its echoed packets came back with under
 * 1 % loss. Reports good calls, setup times, echo loss and jitter, and the ratio of good calls.
 * BENCH_CALLS="50,100", BENCH_HOLD_MS=5000. Needs sip-tester.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { percentile } from '@vigil/media';
import { SipAgent } from '@vigil/sip';
import { freePort } from '../tests/support/services.ts';

const CALLS = (process.env.BENCH_CALLS ?? '50,100').split(',').map(Number);
const HOLD_MS = Number(process.env.BENCH_HOLD_MS ?? 5000);
const SIPP = ['/usr/bin/sipp', '/usr/local/bin/sipp'].find((p) => existsSync(p));

function sipp(args: string[]): { exited: Promise<number | null>; kill: () => void } {
  const child = spawn(SIPP!, [...args, '-nostdin', '-timeout', '120s'], { stdio: 'ignore' });
  return { exited: new Promise((r) => child.once('exit', (c) => r(c))), kill: () => child.kill('SIGKILL') };
}

async function ours(n: number): Promise<Record<string, number>> {
  const port = await freePort();
  const uas = sipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-mi', '127.0.0.1', '-mp', String(await freePort()), '-rtp_echo', '-m', String(n)]);
  await new Promise((r) => setTimeout(r, 500));
  const agent = await SipAgent.start({ server: `127.0.0.1:${port}`, allowlist: [`sip:bench@127.0.0.1:${port}`] });
  const t0 = performance.now();
  let ok = 0, failed = 0;
  const setups: number[] = [];
  const losses: number[] = [];
  const jitters: number[] = [];
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    await new Promise((r) => setTimeout(r, (i * 1000) / Math.max(10, n / 5))); // ramp over ~5 s
    try {
      const call = await agent.call(`sip:bench@127.0.0.1:${port}`, { timeoutMs: 30_000 });
      setups.push(call.setup.setupMs ?? 0);
      const tone = Int16Array.from({ length: (HOLD_MS * 8000) / 1000 }, (_, k) => Math.round(3000 * Math.sin(k / 3)));
      await call.media.play(tone);
      await call.hangup();
      const q = call.media.quality();
      losses.push(q.lossPercent);
      jitters.push(q.jitterMs);
      // A good call: the echo of (nearly) every 20 ms packet came back, under 1 % loss.
      if (q.packetsReceived >= 0.9 * (HOLD_MS / 20) && q.lossPercent < 1) ok++; else failed++;
      await call.media.close();
    } catch {
      failed++;
    }
  }));
  const wall = (performance.now() - t0) / 1000;
  await agent.stop();
  await Promise.race([uas.exited, new Promise((r) => setTimeout(r, 5000))]);
  uas.kill();
  return { calls: n, ok, failed, wallSeconds: +wall.toFixed(1), setupP50Ms: +percentile(setups, 50).toFixed(1), setupP95Ms: +percentile(setups, 95).toFixed(1), lossP95Percent: +percentile(losses, 95).toFixed(2), jitterP95Ms: +percentile(jitters, 95).toFixed(2) };
}

async function sippUac(n: number): Promise<Record<string, number>> {
  const port = await freePort();
  const uas = sipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-m', String(n)]);
  await new Promise((r) => setTimeout(r, 500));
  const t0 = performance.now();
  const uac = sipp(['-sn', 'uac', '-i', '127.0.0.1', '-p', String(await freePort()), `127.0.0.1:${port}`, '-m', String(n), '-l', String(n), '-r', String(Math.max(10, n / 5)), '-d', String(HOLD_MS)]);
  const code = await uac.exited;
  const wall = (performance.now() - t0) / 1000;
  await Promise.race([uas.exited, new Promise((r) => setTimeout(r, 5000))]);
  uas.kill();
  return { calls: n, exitCode: code ?? -1, wallSeconds: +wall.toFixed(1) };
}

if (!SIPP) {
  console.log('SIP calls: skipped (sip-tester is not installed)');
} else {
  const rows = [];
  for (const n of CALLS) {
    const a = await ours(n);
    const b = await sippUac(n);
    rows.push({ vigil: a, sipp: b });
    console.log(`SIP calls: ${n} concurrent, ${HOLD_MS} ms each — vigil probe ${a.ok}/${n} with real-time media both ways (setup p50 ${a.setupP50Ms} ms, p95 ${a.setupP95Ms} ms; echo loss p95 ${a.lossP95Percent} %, jitter p95 ${a.jitterP95Ms} ms; ${a.wallSeconds} s); SIPp uac ${b.exitCode === 0 ? n : 'some failed'}/${n} signalling only (${b.wallSeconds} s); ratio ${(a.ok / n).toFixed(2)}`);
  }
  console.log(JSON.stringify({ machine: { cpus: cpus().length, node: process.version }, holdMs: HOLD_MS, rows }));
}
