/** SIPp (Debian sip-tester) as the far end: one scenario, one call, its exit code says whether it was happy. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from './services.ts';

export const SIPP = ['/usr/bin/sipp', '/usr/local/bin/sipp'].find((p) => existsSync(p));
export const SIPP_FIXTURES = fileURLToPath(new URL('../fixtures/sipp/', import.meta.url));

export interface SippPeer { port: number; mediaPort: number; exited: Promise<number | null>; output: () => string; kill(): void }

/** Starts SIPp as a UAS on loopback: the built-in `uas` (with RTP echo) or a scenario file from fixtures. */
export async function startSippUas(scenario: 'uas' | string, calls = 1, transport: 'udp' | 'tcp' = 'udp', extra: string[] = [], fixedPort?: number): Promise<SippPeer> {
  const port = fixedPort ?? await freePort();
  const mediaPort = await freePort();
  const sc = scenario === 'uas' ? ['-sn', 'uas'] : ['-sf', scenario.startsWith('/') ? scenario : `${SIPP_FIXTURES}${scenario}`];
  // The built-in uas echoes our RTP back; scenario files send their own media (pcap) instead.
  const echo = scenario === 'uas' ? ['-rtp_echo'] : [];
  const child = spawn(SIPP!, [...sc, '-i', '127.0.0.1', '-p', String(port), '-mi', '127.0.0.1', '-mp', String(mediaPort), ...echo, '-m', String(calls), '-t', transport === 'tcp' ? 't1' : 'u1', ...extra, '-nostdin', '-timeout', '60s', '-timeout_error'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise((r) => setTimeout(r, 400)); // SIPp binds its socket at start-up
  return { port, mediaPort, exited, output: () => out, kill: () => child.kill('SIGKILL') };
}
