/**
 * baresip (Debian) as the far end: a real SIP user agent that auto-answers, plays a WAV as its microphone and
 * hangs up (BYE) when the file ends. With -s it logs every SIP message, and it logs the RFC 4733 events it
 * receives ("received event: '1'").
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './services.ts';

export const BARESIP = ['/usr/bin/baresip', '/usr/local/bin/baresip'].find((p) => existsSync(p));
const MODULES = '/usr/lib/baresip/modules';

export interface BaresipPeer { port: number; output: () => string; exited: Promise<number | null>; stop: () => Promise<void> }

export async function startBaresip(o: { wav: string; user?: string; srtp?: 'srtp' | 'srtp-mand' }): Promise<BaresipPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-baresip-'));
  const port = await freePort();
  const rtp = await freePort();
  writeFileSync(join(dir, 'config'), [
    'poll_method epoll',
    `sip_listen 127.0.0.1:${port}`,
    `audio_source aufile,${o.wav}`,
    `audio_player aufile,${join(dir, 'heard.wav')}`,
    'ausrc_srate 8000', 'auplay_srate 8000', 'ausrc_channels 1', 'auplay_channels 1',
    `rtp_ports ${rtp}-${rtp + 10}`,
    `module_path ${MODULES}`,
    'module g711.so', 'module aufile.so', ...(o.srtp ? ['module srtp.so'] : []),
    'module_app account.so', 'module_app menu.so',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'accounts'), `<sip:${o.user ?? 'ivr'}@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA${o.srtp ? `;mediaenc=${o.srtp}` : ''}\n`);
  const child = spawn(BARESIP!, ['-f', dir, '-v', '-s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  await waitFor('baresip ready', async () => out.includes('baresip is ready'), 10_000);
  return {
    port, output: () => out, exited,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
