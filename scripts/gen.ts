// Regenerates committed, derived files; `--check` fails when a committed copy is stale (CI runs it).
//   1. TypeScript types for proto/vigil/v1/*.proto -> packages/contract/src/generated/
//   2. The journey JSON Schema -> packages/journey/schema/journey-v1.schema.json
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { journeyJsonSchema } from '@vigil/journey';

const root = new URL('..', import.meta.url).pathname;
const check = process.argv.includes('--check');

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out.sort();
}

function genProto(outDir: string): void {
  const bin = join(root, 'packages/contract/node_modules/.bin/proto-loader-gen-types');
  execFileSync(bin, [
    '--longs=Number', '--enums=String', '--defaults', '--oneofs', '--includeComments',
    '--grpcLib=@grpc/grpc-js', '--importFileExtension=.ts',
    // Relative include path: the generated headers name proto/…, not this checkout's absolute path.
    '-I', 'proto', '-O', outDir, 'vigil/v1/probe.proto',
  ], { stdio: 'inherit', cwd: root });
}

const stale: string[] = [];
function compareOrWrite(generatedDir: string, committedDir: string): void {
  if (!check) {
    rmSync(committedDir, { recursive: true, force: true });
    mkdirSync(committedDir, { recursive: true });
    cpSync(generatedDir, committedDir, { recursive: true });
    return;
  }
  const want = listFiles(generatedDir).map((f) => relative(generatedDir, f));
  let have: string[] = [];
  try { have = listFiles(committedDir).map((f) => relative(committedDir, f)); } catch { /* missing dir: all stale */ }
  for (const f of new Set([...want, ...have])) {
    let a = '', b = '';
    try { a = readFileSync(join(generatedDir, f), 'utf8'); } catch { /* absent */ }
    try { b = readFileSync(join(committedDir, f), 'utf8'); } catch { /* absent */ }
    if (a !== b) stale.push(join(relative(root, committedDir), f));
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'vigil-gen-'));
try {
  genProto(join(tmp, 'proto'));
  compareOrWrite(join(tmp, 'proto'), join(root, 'packages/contract/src/generated'));

  mkdirSync(join(tmp, 'schema'));
  writeFileSync(join(tmp, 'schema/journey-v1.schema.json'), JSON.stringify(journeyJsonSchema(), null, 2) + '\n');
  compareOrWrite(join(tmp, 'schema'), join(root, 'packages/journey/schema'));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

if (stale.length > 0) {
  console.error(`generated files are stale; run \`pnpm gen\` and commit:\n  ${stale.join('\n  ')}`);
  process.exit(1);
}
console.log(check ? 'generated files are up to date' : 'generated files written');
