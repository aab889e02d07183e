import { describe, expect, it } from 'vitest';
import { classifyAssertion, wilsonInterval } from './wilson.ts';

describe('pass-rate statistics', () => {
  it('Wilson interval', () => {
    const w = wilsonInterval(8, 10);
    expect(w.low).toBeCloseTo(0.4902, 3);
    expect(w.high).toBeCloseTo(0.9433, 3);
    expect(wilsonInterval(10, 10).high).toBe(1);
    expect(wilsonInterval(10, 10).low).toBeCloseTo(0.7225, 3);
    expect(wilsonInterval(0, 0)).toEqual({ rate: 0, low: 0, high: 1 });
  });

  it('calls an assertion flaky only when its pass rate is not reliably high or low', () => {
    expect(classifyAssertion(10, 10)).toBe('stable_pass');
    expect(classifyAssertion(0, 10)).toBe('stable_fail');
    expect(classifyAssertion(5, 10)).toBe('flaky');
    expect(classifyAssertion(1, 2)).toBe('flaky');
    expect(classifyAssertion(999, 1000)).toBe('stable_pass'); // one failure in a thousand is noise, not flakiness
  });
});
