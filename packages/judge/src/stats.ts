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
