import assert from 'node:assert/strict';
import { test } from 'node:test';
import { D_RETIRED, D_TOMB, DOUBLES, TupleStore, W_A, W_HASH, WORDS } from '../../src/tcp/tuple-store.js';

test('TupleStore: rows keep their numbers when the store grows, a freed slot is handed out again cleared', () => {
  const s = new TupleStore(4);
  const slots: number[] = [];
  for (let i = 0; i < 50; i++) {
    const x = s.alloc();
    slots.push(x);
    s.u32[x * WORDS + W_A] = 0xc0a80000 + i; // past the small-integer range
    s.i32[x * WORDS + W_HASH] = -i;
    s.f64[x * DOUBLES + D_TOMB] = i * 1.5;
  }
  assert.equal(new Set(slots).size, 50);
  assert.equal(s.live, 50);
  assert.ok(s.bytes < 50 * 1.25 * (4 * WORDS + 8 * DOUBLES) + 2048 * (4 * WORDS + 8 * DOUBLES), `${s.bytes} bytes`);
  for (let i = 0; i < 50; i++) {
    const x = slots[i] as number;
    assert.equal(s.u32[x * WORDS + W_A], 0xc0a80000 + i);
    assert.equal(s.i32[x * WORDS + W_HASH], -i | 0);
    assert.equal(s.f64[x * DOUBLES + D_TOMB], i * 1.5);
  }
  const freed = slots[7] as number;
  s.release(freed);
  const again = s.alloc();
  assert.equal(again, freed);
  assert.equal(s.u32[again * WORDS + W_A], 0);
  assert.equal(s.f64[again * DOUBLES + D_TOMB], -1);
  assert.equal(s.f64[again * DOUBLES + D_RETIRED], -1);
});
