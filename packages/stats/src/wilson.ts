/**
 * Wilson score interval for a pass rate (successes of n) at confidence z (1.96 ≈ 95 %): honest for small n and
 * for rates near 0 or 1, where the normal approximation says nonsense like 100 % ± 0.
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): { rate: number; low: number; high: number } {
  if (n <= 0) return { rate: 0, low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export type AssertionStability = 'stable_pass' | 'stable_fail' | 'flaky';

/**
 * An assertion that both passed and failed over the same journey, target and region is flaky: its pass rate's
 * Wilson interval lies between the floors (by default: it is neither reliably above 90 % nor reliably under
 * 10 %), or it is too young to tell and has seen both outcomes.
 */
export function classifyAssertion(pass: number, n: number, o: { floor?: number; z?: number } = {}): AssertionStability {
  const floor = o.floor ?? 0.1;
  if (pass === n) return 'stable_pass';
  if (pass === 0) return 'stable_fail';
  const w = wilsonInterval(pass, n, o.z);
  if (w.low >= 1 - floor) return 'stable_pass';
  if (w.high <= floor) return 'stable_fail';
  return 'flaky';
}
