import { describe, expect, it } from 'vitest';
import type { RunRequest } from '@vigil/contract';
import { MemoryBus } from './memory.ts';

const req = (runId: string): RunRequest => ({ runId, region: 'r1', journeyId: 'j', journeyVersionId: 'v', journey: {}, target: { id: 't', name: 't', channel: 'chat.http', endpoint: 'http://x', config: {} }, scheduledAtMs: 0, notBeforeMs: 0 });

describe('MemoryBus (the embedded run bus)', () => {
  it('dedupes by run id, redelivers a nak with the next attempt, and honours concurrency', async () => {
    const bus = new MemoryBus({ ackWaitMs: 60_000, maxDeliver: 3 });
    await bus.publish(req('a'));
    await bus.publish(req('a'));
    await bus.publish(req('b'));
    const seen: Array<[string, number]> = [];
    let active = 0;
    let maxActive = 0;
    const done = new Promise<void>((resolve) => {
      void bus.consume('r1', {
        concurrency: 1,
        handler: async (d) => {
          active++; maxActive = Math.max(maxActive, active);
          seen.push([d.request.runId, d.attempt]);
          await new Promise((r) => setTimeout(r, 20));
          active--;
          if (d.request.runId === 'a' && d.attempt === 1) d.nak(0);
          else await d.ack();
          if (seen.length === 3) resolve();
        },
      });
    });
    await done;
    expect(seen.map((s) => s.join(':')).sort()).toEqual(['a:1', 'a:2', 'b:1']);
    expect(maxActive).toBe(1);
  });

  it('redelivers when the ack wait passes without ack or working()', async () => {
    const bus = new MemoryBus({ ackWaitMs: 1000, maxDeliver: 2 });
    await bus.publish(req('c'));
    const attempts: number[] = [];
    const sub = await bus.consume('r1', { concurrency: 2, handler: async (d) => { attempts.push(d.attempt); if (d.attempt === 2) await d.ack(); } });
    await new Promise((r) => setTimeout(r, 1700));
    await sub.drain();
    expect(attempts).toEqual([1, 2]);
  });
});
