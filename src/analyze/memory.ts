import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { isMainThread, resourceLimits } from 'node:worker_threads';

/** Share of the old generation's limit at which reading stops (the rest is headroom to judge and report). */
export const HEAP_STOP_FRACTION = 0.75;

/** V8's default semi-space size on 64-bit (MiB); --max-semi-space-size overrides it. */
const DEFAULT_SEMI_MIB = 16;

/**
 * The young generation V8 reserves inside heap_size_limit: three semi-spaces (two, plus the promotion reserve). An
 * analysis thread's is its own (the Worker's resourceLimits).
 */
export function youngReserve(): number {
  if (!isMainThread && resourceLimits.maxYoungGenerationSizeMb !== undefined) return resourceLimits.maxYoungGenerationSizeMb * (1 << 20);
  const flags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
  const m = /--max-semi-space-size[= ](\d+)/.exec(flags);
  return 3 * (m === null ? DEFAULT_SEMI_MIB : Number(m[1])) * (1 << 20);
}

/**
 * Returns a check for the analysis loop: null while the long-lived heap (everything but the young generation) is
 * below `fraction` of its limit, else a one-line explanation. Stopping there leaves room to finish the report;
 * reaching V8's limit would end the process with a fatal error and no report at all.
 */
export function heapGuard(fraction = HEAP_STOP_FRACTION): () => string | null {
  const total = getHeapStatistics().heap_size_limit;
  const limit = Math.max(total - youngReserve(), total / 2);
  const stopAt = limit * fraction;
  return () => {
    let used = 0;
    for (const s of getHeapSpaceStatistics()) if (s.space_name !== 'new_space' && s.space_name !== 'new_large_object_space') used += s.space_used_size;
    if (used < stopAt) return null;
    const mib = (n: number): string => `${Math.round(n / (1 << 20))} MiB`;
    return `out of memory: the heap reached ${mib(used)} of its ${mib(limit)} limit; reading stopped (--max-connections bounds the connection table; NODE_OPTIONS=--max-old-space-size=<MiB> raises the limit)`;
  };
}
