import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACK, FIN, SYN } from '../../src/decode/packet.js';
import { FlowTable } from '../../src/tcp/flow-table.js';
import { field, TimerHeap } from '../../src/tcp/timers.js';
import { CLIENT, close, nextFrame, open, pkt, SERVER } from '../helpers/table-segments.js';

describe('time-ordered expiry', () => {
  test('a sweep visits the tuples whose deadline came, not every open connection', () => {
    const judged: string[] = [];
    const tab = new FlowTable({ idleSplit: 300, closedLinger: 5, tombstoneLife: 240, maxConnections: 100_000, idleFreeze: Infinity },
      (c) => { judged.push(c.id); return []; });
    // 20 000 established connections, idle but never due (no FIN, no RST, never frozen): a sweep has nothing to do with them.
    for (let i = 0; i < 20_000; i++) open(tab, 1024 + i, 0);
    // Then, 10 s apart, one more connection opened and closed at a time, and a sweep.
    let sweepVisits = 0;
    for (let k = 0; k < 50; k++) {
      const t = 10 + 10 * k;
      open(tab, 40_000 + k, t);
      close(tab, 40_000 + k, t);
      const before = tab.visits;
      tab.sweep(t + 6);
      sweepVisits += tab.visits - before;
    }
    // Each sweep judges the connection closed 6 s before (past its 5 s linger) and nothing else.
    assert.equal(judged.length, 50);
    assert.equal(tab.active, 20_000);
    // A full pass over the table visits 20 000 tuples per sweep (a million in all); the deadlines, a few per sweep.
    assert.ok(sweepVisits <= 4 * 50, `${sweepVisits} tuples visited by 50 sweeps (50 due)`);
  });

  test('an idle open connection is visited once, when it falls asleep: not again by later sweeps', () => {
    const tab = new FlowTable({ idleSplit: 300, closedLinger: 5, tombstoneLife: 240, maxConnections: 100_000, idleFreeze: 30 }, () => []);
    for (let i = 0; i < 20_000; i++) open(tab, 1024 + i, 0);
    const before = tab.visits;
    for (let k = 0; k < 50; k++) tab.sweep(10 + 10 * k);
    // Swept at 10 s and 20 s: none due. At 30 s every one falls asleep (one visit each); later sweeps leave them be.
    assert.equal(tab.asleep, 20_000);
    assert.equal(tab.active, 20_000);
    assert.equal(tab.visits - before, 20_000);
    // A packet wakes one: it is open again as objects, and sleeps again once idle.
    open(tab, 1024, 600);
    assert.equal(tab.asleep, 19_999);
    tab.sweep(629);
    assert.equal(tab.asleep, 19_999);
    tab.sweep(630);
    assert.equal(tab.asleep, 20_000);
  });

  test('deadlines are exact: a closed connection is judged at its linger, its tuple leaves when its tombstone expires', () => {
    const judged: string[] = [];
    const tab = new FlowTable({ idleSplit: 300, closedLinger: 5, tombstoneLife: 240, maxConnections: 100_000 },
      (c) => { judged.push(c.id); return []; });
    open(tab, 2000, 100);
    close(tab, 2000, 101);
    tab.sweep(105.9);
    assert.deepEqual(judged, []); // 4.9 s after the last packet: still lingering
    tab.sweep(106);
    assert.deepEqual(judged, ['c1']);
    assert.equal(tab.entries, 1); // the tombstone stays
    // A late packet within the reopen window reopens it; it is judged again after a new linger.
    tab.ingest(pkt(SERVER, 80, CLIENT, 2000, FIN | ACK, 5001, 1002), nextFrame(), 150);
    assert.equal(tab.active, 1);
    tab.sweep(154.9);
    assert.deepEqual(judged, ['c1']);
    tab.sweep(155);
    assert.deepEqual(judged, ['c1', 'c1']);
    tab.sweep(150 + 239.9);
    assert.equal(tab.entries, 1);
    tab.sweep(150 + 240);
    assert.equal(tab.entries, 0);
  });
});

describe('the deadline heap stays the size of what waits', () => {
  test('a SYN flood under the connection bound: evicted tuples do not leave their idle deadlines behind', () => {
    const tab = new FlowTable({ idleSplit: 300, closedLinger: 5, tombstoneLife: 240, maxConnections: 1_000, idleFreeze: 30 }, () => []);
    // 200 000 SYNs from distinct ports at 100 k/s: each tuple is evicted a few ms after it opened, long before its
    // 30 s idle deadline; every one of them scheduled that deadline.
    let t = 0;
    for (let i = 0; i < 200_000; i++) {
      t = i * 1e-5;
      tab.ingest(pkt(CLIENT + (i >>> 16), 1024 + (i & 0xffff), SERVER, 80, SYN, 1000 + i), nextFrame(), t);
      if ((i & 0xfff) === 0) tab.sweep(t);
    }
    assert.ok(tab.evicted > 190_000, `${tab.evicted} evicted`);
    // What waits: at most the 1 000 open tuples and the resting ones (bounded like them); dead entries at most as many
    // again, plus the first compaction's threshold.
    assert.ok(tab.timerEntries <= 2 * (tab.entries + 1) + 4096, `${tab.timerEntries} heap entries for ${tab.entries} tuples`);
  });

  test('deadlines that tie pop in the order they were set, before and after the heap drops dead entries', () => {
    const heap = new TimerHeap<{ at: number; id: number }>(field('at'));
    const all = Array.from({ length: 20_000 }, (_, id) => ({ at: Infinity, id }));
    // Deadlines 0..9 in a scrambled order; every third sleeper cancelled (its entry dead) to force compactions.
    for (const s of all) heap.schedule(s, (s.id * 7919) % 10);
    for (const s of all) if (s.id % 3 === 0) s.at = Infinity;
    const extra = Array.from({ length: 20_000 }, (_, k) => ({ at: Infinity, id: 20_000 + k }));
    for (const s of extra) heap.schedule(s, (s.id * 7919) % 10);
    const out: { at: number; id: number }[] = [];
    heap.popDue(100, 0, out);
    const expected = [...all.filter((s) => s.id % 3 !== 0), ...extra]
      .map((s) => ({ id: s.id, d: (s.id * 7919) % 10 }))
      .sort((a, b) => a.d - b.d || a.id - b.id);
    assert.deepEqual(out.map((s) => s.id), expected.map((s) => s.id));
    assert.equal(heap.size, 0);
  });
});
