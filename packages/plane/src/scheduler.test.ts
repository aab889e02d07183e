import { describe, expect, it } from 'vitest';
import { defaultJitterMs, nextDue, parseCron } from './scheduler.ts';

describe('nextDue', () => {
  const at = (s: string) => new Date(s);
  it('moves an interval schedule one period ahead', () => {
    expect(nextDue({ intervalMs: 60_000, cron: null, nextDueAt: at('2026-01-01T00:00:00Z') }, at('2026-01-01T00:00:00.500Z'))).toEqual(at('2026-01-01T00:01:00Z'));
  });
  it('skips periods missed while no plane ran instead of back-filling them', () => {
    expect(nextDue({ intervalMs: 60_000, cron: null, nextDueAt: at('2026-01-01T00:00:00Z') }, at('2026-01-01T01:30:10Z'))).toEqual(at('2026-01-01T01:31:00Z'));
  });
  it('follows cron in UTC', () => {
    expect(nextDue({ intervalMs: null, cron: '*/15 * * * *', nextDueAt: at('2026-01-01T00:00:00Z') }, at('2026-01-01T00:07:00Z'))).toEqual(at('2026-01-01T00:15:00Z'));
  });
  it('refuses a bad cron naming the field', () => {
    expect(() => parseCron('every day')).toThrow(expect.objectContaining({ code: 'VIGIL_E_SCHEDULE_INVALID', field: 'cron' }));
  });
  it('jitters a tenth of the period, at most 30 s', () => {
    expect(defaultJitterMs(60_000)).toBe(6_000);
    expect(defaultJitterMs(3_600_000)).toBe(30_000);
  });
});
