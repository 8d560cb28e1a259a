import { Worker, type MessagePort } from 'node:worker_threads';

/**
 * An analysis thread's young generation (MiB: two semi-spaces and the promotion reserve, 8 MiB each), set so the
 * thread's heap guard knows it (src/analyze/memory.ts). Every isolate keeps its own, committed once it has filled.
 * Half of V8's default (48 MiB): on the bench capture with two threads, six alternating pairs of runs, ~45 MiB less
 * at the peak (267–279 against 313–319 MiB with `--json`, 245–258 against 291–301 MiB with `--text`), which keeps
 * the default under the 300 MiB the bench aims at, for ~3 % more CPU with `--json` (32.2 against 31.3 s) and ~8 %
 * with `--text` (26.8 against 24.8 s): twice the scavenges, and a connection's objects, alive until it is judged,
 * are copied by more of them (bench/README.md). 12 MiB saved ~20 MiB more for ~15 % more CPU; 30 or 36 MiB
 * measured the same as 48 (and node's --max-semi-space-size=12 the same as 16).
 * A user's --max-semi-space-size (node's flag, or NODE_OPTIONS) overrides it in every thread: 16 gives V8's default.
 */
export const WORKER_YOUNG_MB = 24;

/**
 * The worker: dist/analyze/worker.js when built; under tsx (tests, `node --import tsx`) this module is .ts and the
 * worker is loaded through tsx's loader, registered in the worker first (a worker does not inherit --import hooks).
 */
export function startWorker(workerData: unknown, transferList: MessagePort[], module = new URL('./worker', import.meta.url)): Worker {
  const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_MB };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`${module.href}.js`), { workerData, resourceLimits, transferList });
  const api = import.meta.resolve('tsx/esm/api');
  const target = `${module.href}.ts`;
  return new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`, { eval: true, workerData, resourceLimits, transferList });
}
