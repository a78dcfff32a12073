/** The most events in any window [t, t + windowMs): what a rolling rate limit bounds. */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}
