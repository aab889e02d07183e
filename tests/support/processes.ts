/** Runs `vigil` commands as separate processes, the way operators run them. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const VIGIL = `${ROOT}packages/cli/src/main.ts`;
export const LOG_DIR = `${ROOT}.vigil/test-logs`;

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function spawnVigil(args: string[], env: Record<string, string>, logName: string): Spawned {
  mkdirSync(LOG_DIR, { recursive: true });
  const log = createWriteStream(`${LOG_DIR}/${logName}.log`);
  const child = spawn(process.execPath, [VIGIL, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  const take = (d: Buffer) => { buf += d.toString(); log.write(d); };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { log.end(); resolve(code); }));
  return { child, output: () => buf, exited };
}
