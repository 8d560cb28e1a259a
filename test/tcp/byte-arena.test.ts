import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ByteArena } from '../../src/tcp/byte-arena.js';

function record(i: number, n: number): Uint8Array {
  const b = new Uint8Array(n + 16); // longer than the record: only the first n bytes are stored
  for (let k = 0; k < b.length; k++) b[k] = (i * 31 + k * 7) & 0xff;
  return b;
}

function stored(a: ByteArena, ref: number): number[] {
  const c = a.chunk(ref);
  const at = a.start(ref);
  return [...c.subarray(at, at + a.length(ref))];
}

describe('ByteArena', () => {
  test('records come back byte for byte, across chunks and larger than a chunk', () => {
    const a = new ByteArena(1024);
    const sizes = [0, 1, 100, 1019, 1020, 3000, 7, 500, 600, 2048];
    const refs = sizes.map((n, i) => a.put(record(i, n), n));
    assert.equal(new Set(refs).size, refs.length);
    sizes.forEach((n, i) => assert.deepStrictEqual(stored(a, refs[i] as number), [...record(i, n).subarray(0, n)], `record ${i}`));
    assert.equal(a.records, sizes.length);
  });

  test('a record larger than a chunk, freed while its chunk is the current one: later records stay within chunk bounds', () => {
    const a = new ByteArena(64);
    a.free(a.put(record(0, 300), 300)); // its own 304-byte chunk, the current one, now empty
    const refs: number[] = [];
    for (let i = 1; i <= 20; i++) refs.push(a.put(record(i, 10), 10)); // 14 bytes each
    assert.equal(new Set(refs).size, refs.length);
    refs.forEach((r, i) => assert.deepStrictEqual(stored(a, r), [...record(i + 1, 10).subarray(0, 10)], `record ${i + 1}`));
  });

  test('a chunk goes back when its last record is freed; the chunk being filled stays', () => {
    const a = new ByteArena(1024);
    const refs: number[] = [];
    for (let i = 0; i < 40; i++) refs.push(a.put(record(i, 200), 200)); // 204 bytes each: 5 per chunk, 8 chunks
    assert.equal(a.bytes, 8 * 1024);
    // Freeing all but the last record of each full chunk releases nothing.
    for (let i = 0; i < 35; i++) if (i % 5 !== 4) a.free(refs[i] as number);
    assert.equal(a.bytes, 8 * 1024);
    // The last one of each: the chunk goes (one kept as a spare).
    for (let i = 4; i < 35; i += 5) a.free(refs[i] as number);
    assert.equal(a.records, 5);
    assert.equal(a.bytes, 2 * 1024);
    // The spare takes the next records: no new chunk.
    for (let i = 0; i < 5; i++) a.put(record(i, 200), 200);
    assert.equal(a.bytes, 2 * 1024);
    // Records still held read back as they were after all that.
    for (let i = 35; i < 40; i++) assert.deepStrictEqual(stored(a, refs[i] as number), [...record(i, 200).subarray(0, 200)]);
  });
});
