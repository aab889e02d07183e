/**
 * Kamailio (Debian kamailio + kamailio-websocket-modules + kamailio-tls-modules) as the proxy/SBC in front of a
 * SIPp UAS: digest auth, registrar, Record-Route, TLS and SIP over WebSocket. The config is
 * tests/fixtures/kamailio/proxy.cfg with ports, credentials and a throwaway certificate filled in.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from './services.ts';

export const KAMAILIO = ['/usr/sbin/kamailio', '/usr/local/sbin/kamailio'].find((p) => existsSync(p));
const MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules';
export const KAMAILIO_READY = !!KAMAILIO && existsSync(`${MODULES}/websocket.so`) && existsSync(`${MODULES}/tls.so`) && existsSync('/usr/bin/openssl');
const FIXTURES = fileURLToPath(new URL('../fixtures/kamailio/', import.meta.url));

export interface KamailioProxy {
  sipPort: number;
  tlsPort: number;
  wsPort: number;
  /** PEM of the self-signed certificate (CN and SAN sbc.vigil.test, SAN IP 127.0.0.1). */
  ca: string;
  user: string;
  password: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** A CA-capable self-signed certificate for the proxy's TLS listener. */
function makeCertificate(dir: string): { key: string; cert: string } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=sbc.vigil.test',
    '-addext', 'subjectAltName=DNS:sbc.vigil.test,IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE'], { stdio: 'ignore' });
  return { key, cert };
}

export async function startKamailio(uasPort: number, o: { user?: string; password?: string } = {}): Promise<KamailioProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-kamailio-'));
  const { key, cert } = makeCertificate(dir);
  const [sipPort, tlsPort, wsPort] = [await freePort(), await freePort(), await freePort()];
  const user = o.user ?? 'probe-eu1';
  const password = o.password ?? 's3cret-test';
  const fill = (text: string, values: Record<string, string | number>) => text.replace(/\{\{(\w+)\}\}/g, (_m, k: string) => String(values[k] ?? `{{${k}}}`));
  writeFileSync(join(dir, 'tls.cfg'), fill(readFileSync(join(FIXTURES, 'tls.cfg'), 'utf8'), { KEY: key, CERT: cert }));
  writeFileSync(join(dir, 'kamailio.cfg'), fill(readFileSync(join(FIXTURES, 'proxy.cfg'), 'utf8'), {
    SIP_PORT: sipPort, TLS_PORT: tlsPort, WS_PORT: wsPort, UAS_PORT: uasPort, USER: user, PASSWORD: password, TLS_CFG: join(dir, 'tls.cfg'),
  }));
  const child = spawn(KAMAILIO!, ['-f', join(dir, 'kamailio.cfg'), '-DD', '-E', '-m', '64', '-M', '8', '-Y', dir, '-w', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let dead = false;
  void exited.then(() => { dead = true; });
  // Ready once its TLS and WebSocket listeners accept connections.
  await waitFor('kamailio listening', async () => {
    if (dead) throw new Error(`kamailio exited:\n${out.slice(-3000)}`);
    const ok = await Promise.all([tlsPort, wsPort].map((p) => new Promise<boolean>((r) => {
      const s = net.connect(p, '127.0.0.1', () => { s.destroy(); r(true); });
      s.on('error', () => r(false));
    })));
    return ok.every(Boolean);
  }, 15_000);
  return {
    sipPort, tlsPort, wsPort, ca: readFileSync(cert, 'utf8'), user, password, output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (!dead) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
