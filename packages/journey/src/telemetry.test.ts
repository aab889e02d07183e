import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { fetchTelemetry, parseTelemetry, telemetryFacts } from './telemetry.ts';

describe('target turn telemetry', () => {
  it('parses the format and names the field at fault', () => {
    expect(parseTelemetry({ turns: [{ heard: 'what are the fees', intent: 'fees', asrMs: 210, llmMs: 35.5, ttsMs: 90 }, {}] }))
      .toEqual([{ heard: 'what are the fees', intent: 'fees', asrMs: 210, llmMs: 35.5, ttsMs: 90 }, {}]);
    expect(() => parseTelemetry([])).toThrow(expect.objectContaining({ code: 'VIGIL_E_TELEMETRY_INVALID', field: 'turns' }));
    expect(() => parseTelemetry({ turns: [{ asrMs: -1 }] })).toThrow(expect.objectContaining({ field: 'turns[0].asrMs' }));
    expect(() => parseTelemetry({ turns: [{}, { heard: 7 }] })).toThrow(expect.objectContaining({ field: 'turns[1].heard' }));
  });

  it('turns a turn into the target\'s layer timings and what it heard against what was said', () => {
    const f = telemetryFacts('what are the fees', { heard: 'what are the keys', intent: 'unknown', asrMs: 200, llmMs: 30, ttsMs: 80 });
    expect(f.timings).toEqual([{ layer: 'asr', finalTranscriptMs: 200 }, { layer: 'llm', timeToFirstTokenMs: 0, totalMs: 30 }, { layer: 'tts', timeToFirstByteMs: 80 }]);
    expect(f.structured).toEqual({ source: 'target-telemetry', heard: 'what are the keys', intent: 'unknown', wordErrorRate: 0.25 });
  });

  it('fills {{run.id}} and waits (up to waitMs) until every spoken turn is reported', async () => {
    let calls = 0;
    const urls: string[] = [];
    const server = createServer((req, res) => {
      urls.push(req.url!);
      calls++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ turns: calls < 3 ? [{ heard: 'a' }] : [{ heard: 'a' }, { heard: 'b' }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const turns = await fetchTelemetry({ url: `${base}/t?runId={{run.id}}`, variables: { 'run.id': 'r 1' }, expectTurns: 2, waitMs: 5_000 });
      expect(turns.map((t) => t.heard)).toEqual(['a', 'b']);
      expect(urls[0]).toBe('/t?runId=r%201');
      // Not all turns in time: what there is.
      calls = -100;
      expect(await fetchTelemetry({ url: `${base}/t`, variables: {}, expectTurns: 2, waitMs: 300 })).toHaveLength(1);
      await expect(fetchTelemetry({ url: 'http://127.0.0.1:1/t', variables: {}, expectTurns: 1, waitMs: 0 })).rejects.toMatchObject({ code: 'VIGIL_E_TELEMETRY_UNAVAILABLE', field: 'config.telemetry.url' });
    } finally {
      server.close();
    }
  });
});
