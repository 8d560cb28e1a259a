import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DiskColdStore } from '../../src/analyze/cold-store.js';
import { tempDirs } from '../../src/analyze/temp-dir.js';
import { ACK, SYN } from '../../src/decode/packet.js';
import { FlowTable } from '../../src/tcp/flow-table.js';
import { pkt } from '../helpers/table-segments.js';

/**
 * Record i's length: mostly a few hundred bytes; some around the 4 KiB read back at once (a record's length and
 * bytes: one read up to 4,092 bytes, two from 4,093); a few larger than the write buffer.
 */
function recordLength(i: number, random: number): number {
  if (i % 1000 === 999) return (1 << 20) + 17;
  const k = i % 100;
  if (k < 4) return 4091 + k;
  if (k === 4) return 9000;
  return random % 900;
}

describe('the store of asleep connections on disk', () => {
  test('every string back exactly, from the file and from the buffer, in any order; the file removed at close', () => {
    const store = new DiskColdStore();
    const before = tempDirs().length;
    let all = '';
    for (let c = 0; c < 256; c++) all += String.fromCharCode(c);
    const put: [number, string][] = [];
    let x = 1;
    for (let i = 0; i < 6000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const len = recordLength(i, x);
      let s = '';
      while (s.length < len) s += all.slice(x % 256, (x % 256) + Math.min(256, len - s.length));
      s = s.slice(0, len);
      put.push([store.put(s), s]);
    }
    assert.ok(tempDirs().length > before, 'records went to a file');
    for (let i = put.length - 1; i >= 0; i -= 7) assert.equal(store.take(put[i]![0]), put[i]![1], `record ${i}`);
    for (let i = 0; i < put.length; i += 3) assert.equal(store.take(put[i]![0]), put[i]![1], `record ${i}`);
    store.close();
    assert.equal(tempDirs().length, before);
  });

  test('compaction keeps the live records only: the file stays within twice what sleeps', () => {
    const store = new DiskColdStore(10_000);
    const refs = new Map<number, string>();
    for (let i = 0; i < 5000; i++) refs.set(store.put(`connection ${i} `.repeat(20)), `connection ${i} `.repeat(20));
    // Four in five wake (taken: dead).
    let k = 0;
    for (const [ref, s] of [...refs]) if (k++ % 5 !== 0) { assert.equal(store.take(ref), s); refs.delete(ref); }
    assert.ok(store.wasteful());
    const before = store.bytes;
    const live = [...refs];
    const moved = store.compact(live.map(([r]) => r));
    assert.ok(!store.wasteful());
    assert.ok(store.bytes < before / 4, `${store.bytes} of ${before} bytes`);
    for (let i = 0; i < live.length; i++) assert.equal(store.take(moved[i] as number), live[i]![1]);
    store.close();
  });

  test('connections that doze and wake again and again: the table compacts its store, and each one goes on exactly', () => {
    const store = new DiskColdStore(20_000);
    const tab = new FlowTable({ idleSplit: 300, closedLinger: 5, tombstoneLife: 240, maxConnections: 100_000, coldStore: store }, () => []);
    const C = 0x0a000001;
    const S = 0x0a0000ff;
    let frame = 0;
    const n = 300;
    for (let i = 0; i < n; i++) {
      tab.ingest(pkt(C, 2000 + i, S, 80, SYN, 1000, 0), ++frame, 0);
      tab.ingest(pkt(S, 80, C, 2000 + i, SYN | ACK, 5000, 1001), ++frame, 0);
    }
    let peak = 0;
    let perSleep = 0;
    for (let round = 1; round <= 40; round++) {
      tab.sweep(40 * round - 5); // all asleep
      assert.equal(tab.asleep, n);
      if (round === 1) perSleep = store.bytes / n;
      peak = Math.max(peak, store.bytes);
      for (let i = 0; i < n; i++) tab.ingest(pkt(C, 2000 + i, S, 80, ACK, 1001, 5001), ++frame, 40 * round); // all awake
    }
    tab.sweep(40 * 41);
    // Forty rounds of sleep would leave forty records per connection behind; compacted, a few.
    assert.ok(peak < 8 * n * perSleep, `${peak} bytes at most for ${n} sleepers of ~${perSleep.toFixed(0)} bytes`);
    for (const { c } of tab.current()) assert.equal(c.packets, 42);
    tab.flushAll(40 * 41);
    store.close();
  });
});
