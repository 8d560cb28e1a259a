/**
 * What a tuple costs while it rests (its connection judged, kept for a reopen and for its tombstone): a busy capture
 * holds tens of thousands of them at once, so the cost per tuple is the memory floor. Measured as the heap after a
 * full GC with and without them, plus what the flow table holds outside the heap for them (a count of bytes, not of time).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ACK, FIN, newTcpPacket, PSH, SYN } from '../../src/decode/packet.js';
import { FlowTable, type ColdStore } from '../../src/tcp/flow-table.js';
import { DiskColdStore } from '../../src/analyze/cold-store.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

function pkt(src: number, sport: number, dst: number, dport: number, flags: number, seq: number, ack: number, len = 0) {
  const p = newTcpPacket();
  p.src[0] = src; p.dst[0] = dst; p.srcPort = sport; p.dstPort = dport; p.flags = flags; p.seq = seq; p.ack = ack;
  p.ipId = -1; p.payloadLen = len; p.capturedPayloadLen = 0; p.window = 502; p.hasTs = true; p.tsVal = 7;
  return p;
}

/**
 * Connection i's first five packets on `tab` (handshake, a request and its answer) from frame f + 1, then `last`:
 * a FIN from each side and the last ACK (closed), or the client's ACK of the answer (left open and silent).
 */
function exchange(tab: FlowTable, i: number, f: number, last: 'close' | 'stay-open'): number {
  const S = 0x0a0000ff;
  const C = 0x0a010000 + (i >>> 14);
  const port = 1024 + (i & 0x3fff);
  const t = 1_700_000_000 + i * 1e-3;
  const c = (0x1000 * i + 12345) >>> 0;
  const s = (0x2000 * i + 777) >>> 0;
  tab.ingest(pkt(C, port, S, 80, SYN, c, 0), ++f, t);
  tab.ingest(pkt(S, 80, C, port, SYN | ACK, s, c + 1), ++f, t + 1e-4);
  tab.ingest(pkt(C, port, S, 80, ACK, c + 1, s + 1), ++f, t + 2e-4);
  tab.ingest(pkt(C, port, S, 80, PSH | ACK, c + 1, s + 1, 100), ++f, t + 3e-4);
  tab.ingest(pkt(S, 80, C, port, PSH | ACK, s + 1, c + 101, 1000), ++f, t + 4e-4);
  if (last === 'stay-open') {
    tab.ingest(pkt(C, port, S, 80, ACK, c + 101, s + 1001), ++f, t + 5e-4);
    return f;
  }
  tab.ingest(pkt(C, port, S, 80, FIN | ACK, c + 101, s + 1001), ++f, t + 5e-4);
  tab.ingest(pkt(S, 80, C, port, FIN | ACK, s + 1001, c + 102), ++f, t + 6e-4);
  tab.ingest(pkt(C, port, S, 80, ACK, c + 102, s + 1002), ++f, t + 7e-4);
  return f;
}

/** n connections of 8 packets (handshake, a request and its answer, FIN from each side, last ACK), all resting. */
function restingTable(n: number): FlowTable {
  const tab = new FlowTable({ idleSplit: 300, closedLinger: 5, tombstoneLife: 240, maxConnections: 1_000_000 }, () => []);
  let f = 0;
  for (let i = 0; i < n; i++) f = exchange(tab, i, f, 'close');
  tab.sweep(1_700_000_000 + n * 1e-3 + 6); // every one closed and past its linger: judged, resting
  return tab;
}

/** n connections that stay open: handshake, a request and its answer, then silence (no FIN, no RST). */
function idleTable(n: number, coldStore?: ColdStore): FlowTable {
  const tab = new FlowTable({ idleSplit: 300, closedLinger: 5, tombstoneLife: 240, maxConnections: 1_000_000, ...(coldStore ? { coldStore } : {}) }, () => []);
  let f = 0;
  for (let i = 0; i < n; i++) f = exchange(tab, i, f, 'stay-open');
  tab.sweep(1_700_000_000 + n * 1e-3 + 60); // a minute of silence for each
  return tab;
}

describe('memory per resting tuple', () => {
  test('an open connection gone idle costs under 1.2 KB with its tuple (frozen), not ~4.5 KB as objects', () => {
    const n = 20_000;
    const before = heapAfterGc();
    let tab: FlowTable | null = idleTable(n);
    assert.equal(tab.active, n);
    assert.equal(tab.asleep, n);
    const per = (heapAfterGc() - before) / n;
    tab = null;
    assert.ok(per < 1200, `${per.toFixed(0)} bytes per idle open connection`);
    // Thawed on its next packet: the same connection goes on (its seventh packet), and it alone is awake.
    const t2 = idleTable(10);
    const i = 3;
    const c = (0x1000 * i + 12345) >>> 0;
    const s = (0x2000 * i + 777) >>> 0;
    t2.ingest(pkt(0x0a010000, 1024 + i, 0x0a0000ff, 80, ACK, c + 101, s + 1001), 1000, 1_700_000_100);
    assert.equal(t2.asleep, 9);
    const woken = [...t2.current()].map((x) => x.c).filter((x) => x.packets === 7);
    assert.equal(woken.length, 1);
    assert.equal(t2.asleep, 9);
  });

  test('with the store on disk (a streamed analysis), an idle open connection costs the heap its tuple: under 600 bytes', () => {
    const n = 20_000;
    const store = new DiskColdStore();
    const before = heapAfterGc();
    let tab: FlowTable | null = idleTable(n, store);
    assert.equal(tab.asleep, n);
    assert.ok(store.records >= n);
    const per = (heapAfterGc() - before) / n;
    tab = null;
    store.close();
    assert.ok(per < 600, `${per.toFixed(0)} bytes per idle open connection`);
  });

  test('parked (asleep on disk, its tuple without an object), an idle open connection costs under 120 bytes of heap, under 300 with its row', () => {
    // Stuck half-closes never end on the wire: a long capture parks tens of thousands per analysis thread.
    const n = 30_000;
    const warm = new DiskColdStore();
    idleTable(n, warm); // the code compiled and warm: only the tuples are measured
    warm.close();
    const store = new DiskColdStore();
    const before = heapAfterGc();
    let tab: FlowTable | null = idleTable(n, store);
    assert.equal(tab.parked, n);
    const heap = (heapAfterGc() - before) / n;
    const withRow = heap + tab.tupleBytes / n;
    tab = null;
    store.close();
    // With an object per tuple (~175 bytes with its links and deadlines) it was 200-230 bytes of heap, ~350 with its row.
    assert.ok(heap < 120, `${heap.toFixed(0)} bytes of heap per parked connection`);
    assert.ok(withRow < 300, `${withRow.toFixed(0)} bytes per parked connection with its row`);
  });


  test('a judged connection at rest with its tombstone costs under 2.5 KB', () => {
    const n = 20_000;
    const before = heapAfterGc();
    let tab: FlowTable | null = restingTable(n);
    assert.equal(tab.active, 0);
    assert.equal(tab.entries, n);
    // The frozen copies and tombstones are held outside the heap (src/tcp/byte-arena.ts): counted with it.
    assert.equal(tab.restingRecords, 2 * n);
    const held = heapAfterGc() - before + tab.restingBytes;
    const per = held / n;
    tab = null;
    // As live objects (~4 KB per judged connection, ~1.5 KB per tombstone, plus the tuple) it was ~6 KB.
    assert.ok(per < 2500, `${per.toFixed(0)} bytes per resting tuple`);
  });

  test('a resting tuple itself (addresses, ports, paths, times, links, deadlines) costs under 400 bytes, not ~460', () => {
    // 30 000 tuples: the store of their rows (src/tcp/tuple-store.ts) is nearly full, its bytes are counted whole.
    const n = 30_000;
    restingTable(n); // the code compiled and warm: only the tuples are measured
    const before = heapAfterGc();
    let tab: FlowTable | null = restingTable(n);
    assert.equal(tab.entries, n);
    // The frozen records are outside the heap, counted in the test above; the tuples' rows are counted here.
    const per = (heapAfterGc() - before + tab.tupleBytes) / n;
    tab = null;
    // As ~30 object fields (addresses, hashes and times as separate heap numbers) a tuple was ~460 bytes here.
    assert.ok(per < 400, `${per.toFixed(0)} bytes per resting tuple, its records aside`);
  });

  test('a resting tuple keeps no object (parked: its numbers, links and deadline in its row): under 100 bytes of heap', () => {
    const n = 30_000;
    restingTable(n);
    const before = heapAfterGc();
    let tab: FlowTable | null = restingTable(n);
    assert.equal(tab.entries, n);
    assert.equal(tab.parked, n);
    const heap = (heapAfterGc() - before) / n;
    tab = null;
    // With an object per tuple (its links, deadline and references) it was ~230 bytes of heap.
    assert.ok(heap < 100, `${heap.toFixed(0)} bytes of heap per resting tuple`);
  });

  test('resting tuples give their frozen records back when their times run out: the arenas end empty', () => {
    const n = 5_000;
    const tab = restingTable(n);
    assert.equal(tab.restingRecords, 2 * n);
    assert.ok(tab.restingBytes > n * 500, `${tab.restingBytes} bytes for ${n} resting tuples`);
    // Past every reopen window (the frozen copies go) …
    tab.sweep(1_700_000_000 + n * 1e-3 + 200);
    assert.equal(tab.restingRecords, n);
    // … and every tombstone's life (the tuples go).
    tab.sweep(1_700_000_000 + n * 1e-3 + 1000);
    assert.equal(tab.entries, 0);
    assert.equal(tab.restingRecords, 0);
    // Each arena keeps at most the chunk it fills and one spare (1 MiB each) for the next records.
    assert.ok(tab.restingBytes <= 4 * (1 << 20), `${tab.restingBytes} bytes held with no tuple resting`);
  });
});
