import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { IdLedger } from '../../src/analyze/parallel.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('IdLedger: a thread\'s n-th connection gets 1 + the connections opened before its frame on every thread, across chunks', () => {
  // Three threads, 150 k connections: frames spread by a hash, appended in batches of uneven sizes.
  const n = 150_000;
  const owner = (f: number) => (Math.imul(f, 0x9e3779b1) >>> 0) % 3;
  const ledger = new IdLedger(3);
  const per: number[][] = [[], [], []];
  const pending: number[][] = [[], [], []];
  for (let f = 1; f <= n; f++) {
    const w = owner(f);
    (per[w] as number[]).push(f);
    (pending[w] as number[]).push(f);
    if ((pending[w] as number[]).length >= 1 + (f % 977)) { ledger.append(w, Uint32Array.from(pending[w] as number[])); pending[w] = []; }
  }
  for (let w = 0; w < 3; w++) ledger.append(w, Uint32Array.from(pending[w] as number[]));
  ledger.seal();
  for (let w = 0; w < 3; w++) {
    const frames = per[w] as number[];
    for (let i = 0; i < frames.length; i += 97) assert.equal(ledger.global(w, i + 1), frames[i], `thread ${w}, connection ${i + 1}`);
    assert.equal(ledger.global(w, frames.length), frames[frames.length - 1]);
  }
});

test('IdLedger: 1.1 M connections cost it under 4.5 bytes each (no doubled array)', () => {
  for (let i = 0; i < 3; i++) gc();
  const before = process.memoryUsage().arrayBuffers;
  const ledger = new IdLedger(1);
  const batch = new Uint32Array(512);
  for (let f = 0; f < 1_100_000; f += 512) { for (let i = 0; i < 512; i++) batch[i] = f + i; ledger.append(0, batch); }
  for (let i = 0; i < 3; i++) gc();
  const per = (process.memoryUsage().arrayBuffers - before) / 1_100_000;
  ledger.seal();
  assert.equal(ledger.global(0, 1_000_000), 1_000_000);
  assert.ok(per < 4.5, `${per.toFixed(2)} bytes per connection`);
});

test('IdLedger: advance() ranks only the frames every thread has sent up to; seal() ranks the rest and refuses more', () => {
  const ledger = new IdLedger(2);
  ledger.append(0, Uint32Array.of(1, 4, 6));
  ledger.append(1, Uint32Array.of(2, 3));
  ledger.advance(3);
  assert.deepEqual([ledger.global(0, 1), ledger.global(1, 1), ledger.global(1, 2)], [1, 2, 3]);
  assert.throws(() => ledger.global(0, 2), /has no id yet/);
  ledger.append(1, Uint32Array.of(5, 9));
  ledger.advance(6);
  assert.deepEqual([ledger.global(0, 2), ledger.global(1, 3), ledger.global(0, 3)], [4, 5, 6]);
  assert.throws(() => ledger.global(1, 4), /has no id yet/);
  ledger.seal();
  assert.equal(ledger.global(1, 4), 7);
  assert.throws(() => ledger.append(0, Uint32Array.of(10)), /sealed/);
});
