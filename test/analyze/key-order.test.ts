/** keyOrder: the stable order of records by four numeric keys, as a stable comparison sort gives it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyOrder } from '../../src/analyze/key-order.js';

/** The reference: Array.prototype.sort (stable) with the keys compared in turn. */
function reference(keys: Float64Array, n: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  return idx.sort((a, b) => {
    for (let j = 0; j < 4; j++) {
      const p = keys[4 * a + j] as number;
      const q = keys[4 * b + j] as number;
      if (p !== q) return p < q ? -1 : 1;
    }
    return 0;
  });
}

/** A small deterministic generator (the cases are the same on every run). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

test('keyOrder gives the order of a stable sort on every key, ties in the order added', () => {
  const next = lcg(7);
  const shapes: [string, (i: number) => number[]][] = [
    ['nearly in order', (i) => [i + Math.floor(next() * 40), i, 0, 0]],
    ['scrambled', () => [Math.floor(next() * 1e9), next(), -next(), 0]],
    ['many ties on the first keys', (i) => [i % 5, Math.floor(next() * 3), 0, Math.floor(next() * 2)]],
    ['hashes up to 2^32 - 1', (i) => [i % 3 === 0 ? 2 ** 32 - 1 - (i % 4) : Math.floor(next() * 2 ** 32), Math.floor(next() * 2 ** 32), i % 2, 0]],
    ['all equal', () => [1, 2, 3, 4]],
    ['whole but for one', (i) => [i === 50 ? 0.5 : i % 60, -i, 0, 0]],
    ['whole and 2^32', (i) => [i === 17 ? 2 ** 32 : i % 30, i % 7, 0, 0]],
    ['descending', (i) => [-i, 0, 0, 0]],
    ['negative zero and fractions', (i) => [i % 2 === 0 ? -0 : 0, (i % 7) / 3, -(i % 3), i % 4]],
  ];
  for (const [name, key] of shapes) {
    for (const n of [0, 1, 2, 15, 16, 17, 33, 100, 1000, 4099]) {
      const keys = new Float64Array(4 * n);
      for (let i = 0; i < n; i++) keys.set(key(i), 4 * i);
      assert.deepEqual([...keyOrder(keys, n)], reference(keys, n), `${name}, ${n} records`);
    }
  }
});
