/** The order statistics every bench reports, in one place so their figures mean the same. */

/**
 * The nearest-rank percentile `p` (0–100) of `values`, which need not be sorted: the smallest
 * value with at least p % of the values at or below it. NaN when there are none.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** The median of `values` (the nearest-rank 50th percentile); NaN when there are none. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}
