import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SegmentArena } from '../../src/analyze/segment-arena.js';
import { tempDirs } from '../../src/analyze/temp-dir.js';
import { ACK, FIN, SYN } from '../../src/decode/packet.js';
import { ByteArena } from '../../src/tcp/byte-arena.js';
import { freeze } from '../../src/tcp/frozen.js';
import { FlowTable } from '../../src/tcp/flow-table.js';
import { pkt } from '../helpers/table-segments.js';

/** A record of `len` bytes made from `seed` (and 5 bytes more that must not be stored). */
function record(seed: number, len: number): Uint8Array {
  const b = new Uint8Array(len + 5);
  for (let k = 0; k < b.length; k++) b[k] = (seed + k * 31) & 0xff;
  return b;
}

function check(store: SegmentArena, ref: number, b: Uint8Array, what: string): void {
  const chunk = store.chunk(ref);
  const at = store.start(ref);
  assert.ok(Buffer.from(chunk.buffer, chunk.byteOffset + at, b.length).equals(b), what);
}

describe('the store of judged connections on disk', () => {
  test('every record back exactly, from the file and from the segment being filled, in any order; the file removed at close', () => {
    const store = new SegmentArena();
    const before = tempDirs().length;
    const put: [number, Uint8Array][] = [];
    let x = 7;
    for (let i = 0; i < 6000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      // Mostly a few hundred bytes; some around the 4 KiB read at once; a few larger than a segment.
      const len = i % 1000 === 999 ? (1 << 20) + 17 : i % 100 < 4 ? 4091 + (i % 100) : x % 900;
      const b = record(x, len);
      put.push([store.put(b, len), b.subarray(0, len)]);
    }
    assert.ok(tempDirs().length > before, 'records went to a file');
    assert.equal(store.records, 6000);
    // Only its buffers are in memory.
    assert.ok(store.bytes <= (1 << 20) + (1 << 21), `${store.bytes} bytes held`);
    for (let i = put.length - 1; i >= 0; i -= 7) check(store, put[i]![0], put[i]![1], `record ${i}`);
    for (let i = 0; i < put.length; i += 3) check(store, put[i]![0], put[i]![1], `record ${i}`);
    for (let i = 0; i < put.length; i++) store.free(put[i]![0]);
    assert.equal(store.records, 0);
    store.close();
    assert.equal(tempDirs().length, before);
  });

  test('records that die in about the order they came: dead segments are filled again and the file stays within what is alive', () => {
    const segment = 4096;
    const store = new SegmentArena(segment);
    const alive: [number, Uint8Array][] = [];
    let liveBytes = 0;
    let peakLive = 0;
    let x = 11;
    let put = 0;
    for (let i = 0; i < 40_000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const len = 50 + (x % 400);
      const b = record(x, len);
      alive.push([store.put(b, len), b.subarray(0, len)]);
      liveBytes += 4 + len;
      put += 4 + len;
      // A window of ~1,000 records, each freed up to 50 places out of order.
      while (alive.length > 1000) {
        const k = Math.min(alive.length - 1, x % 50);
        const [[ref, r]] = alive.splice(k, 1) as [[number, Uint8Array]];
        if (k % 7 === 0) check(store, ref, r, `record before it dies`);
        store.free(ref);
        liveBytes -= 4 + r.length;
      }
      peakLive = Math.max(peakLive, liveBytes);
    }
    for (const [ref, r] of alive) check(store, ref, r, 'a record alive at the end');
    // Without reuse the file would hold everything put (~10 MB).
    assert.ok(put > 9_000_000, `${put}`);
    // A segment is filled again once its last record is dead: a few records that outlive their neighbours by far hold
    // theirs, so the file is somewhat more than what is alive at most.
    assert.ok(store.fileBytes <= 1.25 * peakLive + 8 * segment, `file ${store.fileBytes} bytes, at most ${peakLive} alive`);
    // A record larger than a segment takes new ones at the end of the file; once it is dead they are filled again.
    const size = store.fileBytes;
    const big = record(1, 3 * segment);
    const ref = store.put(big, 3 * segment);
    assert.equal(store.fileBytes, size + 4 * segment);
    check(store, ref, big.subarray(0, 3 * segment), 'a large record');
    store.free(ref);
    for (let i = 0; i < 200; i++) {
      const b = record(i, 100);
      alive.push([store.put(b, 100), b.subarray(0, 100)]);
      const [[r]] = alive.splice(0, 1) as [[number, Uint8Array]];
      store.free(r);
    }
    assert.equal(store.fileBytes, size + 4 * segment);
    for (const [r, b] of alive) check(store, r, b, 'a record alive at the end');
    store.close();
  });

  test('judged connections kept on disk: a late FIN reopens each exactly as with the copies in memory', () => {
    const C = 0x0a000001;
    const S = 0x0a0000ff;
    const run = (judgedStore: SegmentArena | ByteArena) => {
      const judged: string[] = [];
      const tab = new FlowTable({ idleSplit: 300, closedLinger: 5, tombstoneLife: 240, maxConnections: 100_000, ...(judgedStore instanceof SegmentArena ? { judgedStore } : {}) },
        (c, _e, now, atEnd) => { judged.push(`${c.id} ${now} ${atEnd} ${freeze(c)}`); return []; });
      let frame = 0;
      // Rounds of 400 connections closed (the client's FIN, the server's FIN, the last ACK), judged after their linger;
      // in each round the server's FIN of the previous round's even ones comes again (a lost final ACK): reopened.
      for (let round = 0; round < 12; round++) {
        const t = 10 * round;
        for (let i = 0; i < 400; i++) {
          const port = 2000 + round * 400 + i;
          tab.ingest(pkt(C, port, S, 80, SYN, 1000, 0), ++frame, t);
          tab.ingest(pkt(S, 80, C, port, SYN | ACK, 5000, 1001), ++frame, t);
          tab.ingest(pkt(C, port, S, 80, ACK, 1001, 5001), ++frame, t);
          tab.ingest(pkt(C, port, S, 80, FIN | ACK, 1001, 5001), ++frame, t + 0.1);
          tab.ingest(pkt(S, 80, C, port, FIN | ACK, 5001, 1002), ++frame, t + 0.2);
          tab.ingest(pkt(C, port, S, 80, ACK, 1002, 5002), ++frame, t + 0.3);
        }
        if (round > 0) for (let i = 0; i < 400; i += 2) tab.ingest(pkt(S, 80, C, 2000 + (round - 1) * 400 + i, FIN | ACK, 5001, 1002), ++frame, t + 1);
        tab.sweep(t + 7);
      }
      tab.sweep(1000);
      return judged;
    };
    // Small segments: most copies are read back from the file, and segments are filled again.
    const store = new SegmentArena(16_384);
    const onDisk = run(store);
    const inMemory = run(new ByteArena());
    assert.equal(store.records, 0);
    assert.equal(onDisk.length, 12 * 400 + 11 * 200);
    assert.deepEqual(onDisk, inMemory);
    store.close();
  });
});
