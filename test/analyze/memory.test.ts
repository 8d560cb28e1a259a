import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { WORKER_YOUNG_MB } from '../../src/analyze/start-worker.js';

/** youngReserve() as a thread started with these resourceLimits computes it (tsx's loader registered first, as parallel.ts does). */
function reserveInWorker(resourceLimits: { maxYoungGenerationSizeMb: number }): Promise<number> {
  const api = import.meta.resolve('tsx/esm/api');
  const target = new URL('../../src/analyze/memory.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); })
    .then((m) => require('node:worker_threads').parentPort.postMessage(m.youngReserve()));`;
  const w = new Worker(code, { eval: true, resourceLimits });
  return new Promise((res, rej) => { w.once('message', (v: number) => { void w.terminate(); res(v); }); w.once('error', rej); });
}

test('an analysis thread\'s heap guard counts its own young generation, not the process flags\'', async () => {
  assert.equal(await reserveInWorker({ maxYoungGenerationSizeMb: WORKER_YOUNG_MB }), WORKER_YOUNG_MB << 20);
  assert.equal(await reserveInWorker({ maxYoungGenerationSizeMb: 12 }), 12 << 20);
});
