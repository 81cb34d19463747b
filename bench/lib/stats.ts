/** Small statistics for benchmark samples. Pure. */

export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error('median of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function minOf(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error('min of no samples');
  return Math.min(...samples);
}

/**
 * How cost grows with size between two measurements: the exponent k in cost ∝ size^k
 * (1 = linear, 2 = quadratic). Needs two different positive sizes and positive costs.
 */
export function growthExponent(sizeA: number, costA: number, sizeB: number, costB: number): number {
  if (!(sizeA > 0 && sizeB > 0 && costA > 0 && costB > 0) || sizeA === sizeB) {
    throw new Error('growthExponent needs two different positive sizes and positive costs');
  }
  return Math.log(costB / costA) / Math.log(sizeB / sizeA);
}

/** Rounds to a fixed number of decimals for the results file (stable, readable JSON). */
export function round(value: number, decimals = 2): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
