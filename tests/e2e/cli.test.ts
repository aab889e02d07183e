/**
 * The `vigil` command as a user runs it: `vigil run` exit codes, readable and JSON output, JUnit files,
 * positioned journey errors; `vigil demo --runs N` on the embedded default (PGlite + in-process bus).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_JOURNEYS_DIR, startRefBot, type RefBot } from '@vigil/refbot';
import pg from 'pg';
import { spawnVigil } from '../support/processes.ts';
import { createTestDatabase, natsNames, NATS_URL } from '../support/services.ts';

describe('vigil run', () => {
  let bot: RefBot;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  beforeAll(async () => { bot = await startRefBot(); });
  afterAll(async () => { await bot.close(); });

  it('exits 0 on pass and writes JUnit', async () => {
    const junit = join(dir, 'pass.xml');
    const p = spawnVigil(['run', `${EXAMPLE_JOURNEYS_DIR}/balance.yaml`, '--target', `${bot.url}/v1`, '--model', 'vigil-refbot', '--junit', junit], {}, 'cli-pass');
    expect(await p.exited).toBe(0);
    expect(p.output()).toMatch(/PASS balance-inquiry: 6 steps passed, 0 failed/);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="balance-inquiry" tests="6" failures="0" errors="0"/);
  });

  it('exits 1 on fail, with the failed assertion in the output and in JUnit', async () => {
    const f = join(dir, 'fail.yaml');
    writeFileSync(f, 'version: 1\nname: fees\nchannel: chat\nsteps:\n  - say: what are the fees\n  - expect: { contains: "free forever" }\n');
    const junit = join(dir, 'fail.xml');
    const p = spawnVigil(['run', f, '--target', `${bot.url}/webhook`, '--reply-path', '$.reply', '--junit', junit], {}, 'cli-fail');
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/✗ contains "free forever": reply does not contain "free forever"/);
    expect(readFileSync(junit, 'utf8')).toMatch(/<failure type="assertion" message="contains &quot;free forever&quot;: reply does not contain/);
  });

  it('exits 2 on error (unreachable bot), and prints JSON with --json', async () => {
    const p = spawnVigil(['run', `${EXAMPLE_JOURNEYS_DIR}/card-lost.yaml`, '--target', 'ws://127.0.0.1:9/ws', '--json'], {}, 'cli-error');
    expect(await p.exited).toBe(2);
    const json = JSON.parse(p.output()) as { verdict: string; errorCode: string; events: unknown[] };
    expect(json).toMatchObject({ verdict: 'error', errorCode: 'VIGIL_E_CHANNEL_UNREACHABLE' });
  });

  it('names file, line and column of every problem in a bad journey, and exits 2', async () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'version: 1\nname: Bad Name\nchannel: chat\nsteps:\n  - say: hi\n  - expect:\n      matches: hi\n');
    const p = spawnVigil(['run', f, '--target', `${bot.url}/v1`, '--model', 'm'], {}, 'cli-bad-journey');
    expect(await p.exited).toBe(2);
    const out = p.output();
    expect(out).toMatch(/error VIGIL_E_JOURNEY_INVALID/);
    expect(out).toContain(`${f}:2:7: name: name is required`);
    expect(out).toContain(`${f}:7:7: steps[1].expect: unknown assertion "matches"`);
  });
});

describe('vigil wer', () => {
  it('prints per-utterance and overall WER from sclite trn files, and JSON with --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-wer-'));
    writeFileSync(join(dir, 'ref.trn'), 'Press 1 for billing. (ivr_0001)\nYour balance is $1,250. (ivr_0002)\n');
    writeFileSync(join(dir, 'hyp.trn'), 'press one for billing (ivr_0001)\nyour balance is one thousand two hundred (ivr_0002)\n');
    const p = spawnVigil(['wer', join(dir, 'ref.trn'), join(dir, 'hyp.trn')], {}, 'cli-wer');
    expect(await p.exited).toBe(0);
    expect(p.output()).toMatch(/ivr_0001\s+4\s+4\s+0\s+0\s+0\s+0\.0%/);
    expect(p.output()).toMatch(/ivr_0002\s+9\s+7\s+0\s+2\s+0\s+22\.2%/);
    expect(p.output()).toMatch(/overall\s+13\s+11\s+0\s+2\s+0\s+15\.4%/);
    const j = spawnVigil(['wer', join(dir, 'ref.trn'), join(dir, 'hyp.trn'), '--json'], {}, 'cli-wer-json');
    expect(await j.exited).toBe(0);
    expect(JSON.parse(j.output())).toMatchObject({ normalisation: 1, wer: { refLength: 13, deletions: 2 } });
    writeFileSync(join(dir, 'bad.trn'), 'no id\n');
    const bad = spawnVigil(['wer', join(dir, 'ref.trn'), join(dir, 'bad.trn')], {}, 'cli-wer-bad');
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/bad\.trn:1: a trn line is "text \(utterance_id\)"/);
  });
});

describe('vigil demo', () => {
  it('starts plane, probe and the contact center with no external services and runs the example journeys green, voice too', async () => {
    const p = spawnVigil(['demo', '--runs', '6', '--interval-ms', '120000'], { ...DEMO_PORTS, DATABASE_URL: '', NATS_URL: '' }, 'cli-demo');
    const code = await p.exited;
    const out = p.output();
    expect(out).toMatch(/storage\s+pglite/);
    expect(out).toMatch(/run bus memory/);
    expect(out.match(/^\S+\s+PASS\s/gm), out.slice(-2000)).toHaveLength(6);
    expect(out).toMatch(/PASS\s+ivr-billing → refcc-ivr/);
    expect(out).toMatch(/PASS\s+ivr-agent-transfer → refcc-ivr/); // transfer + agent-desktop check
    expect(out).toMatch(/PASS\s+bot-lost-card → refcc-bot/); // with its CRM side-effect check
    expect(code).toBe(0);
  });

  it('runs the same command on Postgres and JetStream when DATABASE_URL and NATS_URL are set', async () => {
    const db = await createTestDatabase();
    const nats = natsNames();
    try {
      const p = spawnVigil(['demo', '--runs', '3', '--interval-ms', '60000'], {
        ...DEMO_PORTS, DATABASE_URL: db.url, NATS_URL, VIGIL_NATS_STREAM: nats.stream, VIGIL_NATS_SUBJECT_PREFIX: nats.prefix,
      }, 'cli-demo-real');
      const code = await p.exited;
      expect(p.output()).toMatch(/storage\s+postgres; run bus jetstream/);
      expect(p.output().match(/^\S+\s+PASS\s/gm)).toHaveLength(3);
      expect(code).toBe(0);
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      const { rows } = await c.query<{ n: string }>("SELECT count(*) AS n FROM runs WHERE verdict = 'pass'");
      await c.end();
      expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(3);
    } finally {
      await nats.drop();
      await db.drop();
    }
  });
});

const DEMO_PORTS = { VIGIL_HTTP_PORT: '0', VIGIL_GRPC_PORT: '0', VIGIL_PROBE_HTTP_PORT: '0', VIGIL_DEMO_BOT_PORT: '0', VIGIL_DEMO_SIP_PORT: '0', VIGIL_DEMO_CC_PORT: '0' };
