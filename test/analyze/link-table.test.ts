import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LinkTable } from '../../src/analyze/link-table.js';

test('LinkTable: each seq answers the id and start set for it; others answer undefined', () => {
  const t = new LinkTable();
  // More than the initial capacity and text buffer, seqs out of order, ids of several lengths and non-ASCII bytes.
  const n = 5000;
  for (let i = 0; i < n; i++) {
    const seq = (i * 7919) % n * 2; // even seqs only, shuffled
    t.set(seq, i % 3 === 0 ? `\u0001${i % 4}.${i}\u0002` : `c${i}é`, 1_700_000_000 + i / 8);
  }
  assert.equal(t.size, n);
  for (let i = 0; i < n; i++) {
    const seq = (i * 7919) % n * 2;
    assert.deepEqual(t.get(seq), [i % 3 === 0 ? `\u0001${i % 4}.${i}\u0002` : `c${i}é`, 1_700_000_000 + i / 8]);
    assert.equal(t.start(seq), 1_700_000_000 + i / 8);
    assert.equal(t.get(seq + 1), undefined);
    assert.equal(t.start(seq + 1), undefined);
  }
  assert.equal(t.get(-1), undefined);
  assert.equal(t.get(2 * n), undefined);
});

test('LinkTable: a seq set again answers the last, also when set after a lookup', () => {
  const t = new LinkTable();
  t.set(5, 'c9', 1);
  t.set(3, 'c4', 2);
  assert.deepEqual(t.get(5), ['c9', 1]);
  t.set(5, 'c12', 3);
  assert.deepEqual(t.get(5), ['c12', 3]);
  assert.equal(t.start(5), 3);
  assert.deepEqual(t.get(3), ['c4', 2]);
  assert.equal(new LinkTable().get(0), undefined);
});
