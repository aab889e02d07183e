import { afterAll, describe, expect, it } from 'vitest';
import { WebhookListener } from './webhooks.ts';

describe('WebhookListener', async () => {
  const l = await WebhookListener.start({ publicUrl: 'https://probe.example:8443/' });
  afterAll(() => l.close());
  const local = (url: string) => url.replace('https://probe.example:8443', `http://127.0.0.1:${l.port}`);

  it('gives each run its own unguessable URL and hands over its calls in order, waiting when none has come yet', async () => {
    const a = l.open('run-a');
    const b = l.open('run-b');
    expect(a.url).toMatch(/^https:\/\/probe\.example:8443\/hooks\/run-a\/[0-9a-f]{24}$/);
    expect(a.url).not.toBe(b.url);
    await fetch(local(a.url), { method: 'POST', body: '{"n":1}' });
    await fetch(local(a.url), { method: 'POST', body: '{"n":2}' });
    const signal = AbortSignal.timeout(2000);
    expect((await a.next(signal)).body).toBe('{"n":1}');
    expect((await a.next(signal)).body).toBe('{"n":2}');
    const waiting = b.next(signal);
    expect((await fetch(local(b.url), { method: 'PUT', body: 'x', headers: { 'x-event': 'e' } })).status).toBe(204);
    expect(await waiting).toMatchObject({ method: 'PUT', body: 'x', headers: { 'x-event': 'e' } });
    a.close();
    expect((await fetch(local(a.url), { method: 'POST', body: '{}' })).status).toBe(404);
    await expect(b.next(AbortSignal.timeout(50))).rejects.toBeDefined();
  });

  it('refuses unknown paths and bodies over 1 MiB', async () => {
    expect((await fetch(`http://127.0.0.1:${l.port}/hooks/x/${'0'.repeat(24)}`, { method: 'POST', body: '{}' })).status).toBe(404);
    const h = l.open('run-big');
    const r = await fetch(local(h.url), { method: 'POST', body: 'x'.repeat((1 << 20) + 10) }).catch(() => ({ status: 413 }));
    expect(r.status).toBe(413);
  });
});
