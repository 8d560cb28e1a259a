import { getHeapStatistics } from 'node:v8';

/** Share of V8's heap limit at which reading stops (the rest is headroom to judge and report what was read). */
export const HEAP_STOP_FRACTION = 0.8;

/**
 * Returns a check for the analysis loop: null while the heap is below `fraction` of its limit, else a one-line
 * explanation. Stopping there leaves room to finish the report; reaching V8's limit would end the process with a
 * fatal error and no report at all.
 */
export function heapGuard(fraction = HEAP_STOP_FRACTION): () => string | null {
  const limit = getHeapStatistics().heap_size_limit;
  const stopAt = limit * fraction;
  return () => {
    const used = getHeapStatistics().used_heap_size;
    if (used < stopAt) return null;
    const mib = (n: number): string => `${Math.round(n / (1 << 20))} MiB`;
    return `out of memory: the heap reached ${mib(used)} of its ${mib(limit)} limit; reading stopped (--max-connections bounds the connection table; NODE_OPTIONS=--max-old-space-size=<MiB> raises the limit)`;
  };
}
