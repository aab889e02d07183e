/**
 * Checks that the services the integration tests need are up, and says how to start them if not.
 * `.ci/run` starts them; a developer's machine usually has them already.
 */
import net from 'node:net';

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(2000);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.once('timeout', () => { s.destroy(); resolve(false); });
  });
}

export default async function setup(): Promise<void> {
  const missing: string[] = [];
  if (!(await reachable('127.0.0.1', 5432))) missing.push('PostgreSQL on 127.0.0.1:5432 (pg_ctlcluster --skip-systemctl-redirect <version> main start)');
  if (!(await reachable('127.0.0.1', 4222))) missing.push('nats-server with JetStream on 127.0.0.1:4222 (nats-server -a 127.0.0.1 -p 4222 -js -sd <dir> &)');
  if (missing.length) throw new Error(`integration tests need:\n  ${missing.join('\n  ')}\nor run them through .ci/run, which starts both.`);
}
