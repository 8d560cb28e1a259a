import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Connection } from '../../src/tcp/connection.js';
import { EMPTY_LIST } from '../../src/tcp/empty-list.js';
import { Endpoint, FinRecord } from '../../src/tcp/endpoint.js';
import { fieldReset, FreeList } from '../../src/tcp/free-list.js';
import { freeze } from '../../src/tcp/frozen.js';
import { PacketLog } from '../../src/tcp/packet-log.js';
import { fixtureCaptures } from '../helpers/fixture-captures.js';
import { judgedConnections } from '../helpers/judged-connections.js';

/** The values of the getters of `x`'s class (the numbers kept in pool rows), by name. */
function rowValues(x: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(Object.getPrototypeOf(x) as object))) {
    if (d.get !== undefined) out[k] = (x as Record<string, unknown>)[k];
  }
  return out;
}

test('a connection dropped after judging is made new again for the next: every field, endpoint, row and its log as a new one\'s', async () => {
  const judged = new Set<Connection>();
  for (const path of fixtureCaptures()) await judgedConnections(path, (c) => { judged.add(c); });
  let reused = 0;
  let prev: Connection | null = null;
  for (let i = 0; i < 64; i++) {
    const c = Connection.open(7, true, false, 2, 'c6');
    if (judged.has(c)) reused++;
    const fresh = new Connection(7, true, false, 2, 'c6');
    assert.deepStrictEqual(c, fresh); // fields, endpoints, packet log and path record, prototypes included
    for (const [x, y] of [[c, fresh], [c.ep[0], fresh.ep[0]], [c.ep[1], fresh.ep[1]]] as const) assert.deepStrictEqual(rowValues(x), rowValues(y));
    assert.deepStrictEqual(c.log.packets(), []);
    assert.equal(c.log.headLength, 0);
    assert.notEqual(c.ep[0], c.ep[1]);
    // Rows of their own: the one taken before keeps its numbers.
    if (prev !== null) {
      prev.firstT = 111; prev.ep[0].isn = 11; prev.ep[1].isn = 12;
      c.firstT = 222; c.ep[0].isn = 21; c.ep[1].isn = 22;
      assert.deepStrictEqual([prev.firstT, prev.ep[0].isn, prev.ep[1].isn], [111, 11, 12]);
    }
    prev = c; // (not given back: the next open() takes another)
  }
  assert.ok(reused > 0, 'the connections judged were reused');
  // The id follows the ordinal when none is given, as the constructor's does.
  const c = Connection.open(12, false, true, 0, null);
  assert.equal(c.id, 'c12');
  assert.equal(c.clientIsA, false);
  assert.equal(c.clientGuessed, true);
});

test('an endpoint and a packet log given back come out as new ones', () => {
  const e = Endpoint.take();
  e.state = 'ESTABLISHED'; e.packets = 9; e.sndMax = 12345; e.dataAfterPeerFinFrames = [3];
  e.free();
  e.free(); // once only: not given back twice
  const again = Endpoint.take();
  assert.equal(again, e);
  assert.deepStrictEqual(again, new Endpoint());
  assert.deepStrictEqual(rowValues(again), rowValues(new Endpoint()));
  assert.notEqual(Endpoint.take(), e, 'given back once');

  // A FIN record goes with its endpoint.
  const e2 = Endpoint.take();
  const fin = FinRecord.make(100, 5, 1.5, true, 200, false, 0.25, 0);
  fin.retx = 2; fin.retxFrames = [6, 7]; fin.ackFrame = 9; fin.ackT = 2.5;
  e2.fin = fin;
  e2.free();
  const fin2 = FinRecord.make(300, 8, 3.5, false, 0, true, 0, 4);
  assert.equal(fin2, fin);
  const want = new FinRecord(300, 8, 3.5, false, 0, true, 0, 4);
  assert.deepStrictEqual(fin2, want);
  assert.deepStrictEqual(rowValues(fin2), rowValues(want));

  const l = PacketLog.take();
  for (let i = 1; i <= 40; i++) l.record(i, i / 10, i & 1 ? 0 : 1, 0x10, 1000 + i, 2000 + i, 10, 500, 'ESTABLISHED', 'ESTABLISHED', null, i % 7 === 0);
  l.free();
  const log = PacketLog.take();
  assert.equal(log, l);
  assert.deepStrictEqual(log, new PacketLog());
  assert.deepStrictEqual(log.packets(), []);
  log.free();

  // A tail given back with its log serves the next log that outgrows its head: that log's packets only, and the same
  // frozen bytes as a new tail's.
  const reused = Connection.open(3, true, false, 0, null);
  const fresh = new Connection(3, true, false, 0, null);
  for (const c of [reused, fresh]) {
    for (let i = 1; i <= 15; i++) c.log.record(100 + i, i / 100, 0, 0x10, 5000 + i, 6000 + i, 1, 700, 'ESTABLISHED', 'ESTABLISHED', null, false);
  }
  assert.deepStrictEqual(reused.log.packets(), fresh.log.packets());
  assert.equal(reused.log.packets().length, 15);
  assert.equal(freeze(reused), freeze(fresh));
});

test('fieldReset sets fields to constants and refuses a field that would be shared, or a skipped field that is not one', () => {
  class R { n = 3; s = 'UNKNOWN'; b = false; z: number | null = null; u: undefined = undefined; list: number[] = EMPTY_LIST; own = 1 }
  const reset = fieldReset(new R(), ['own']);
  const r = new R();
  r.n = 9; r.s = 'CLOSED'; r.b = true; r.z = 4; r.list = [1]; r.own = 5;
  reset(r);
  assert.deepStrictEqual({ ...r }, { n: 3, s: 'UNKNOWN', b: false, z: null, u: undefined, list: EMPTY_LIST, own: 5 });
  assert.equal(r.list, EMPTY_LIST);
  class Shared { rows: number[] = [] }
  assert.throws(() => fieldReset(new Shared(), []), /rows holds an object/);
  assert.throws(() => fieldReset(new R(), ['gone']), /gone is not a field/);
  // Numbers JSON cannot write come back as they were.
  class Odd { z = -0; n = NaN; i = -Infinity; f = 0.1 + 0.2 }
  const odd = new Odd();
  odd.z = 0; odd.n = 1; odd.i = 2; odd.f = 3;
  fieldReset(new Odd(), [])(odd);
  assert.ok(Object.is(odd.z, -0) && Number.isNaN(odd.n) && odd.i === -Infinity && odd.f === 0.1 + 0.2);
});

test('a free list keeps at most its bound and makes what it gives out new again', () => {
  const f = new FreeList<{ n: number }>(2, (o) => { o.n = 0; });
  f.give({ n: 1 }); f.give({ n: 2 }); f.give({ n: 3 });
  assert.deepEqual(f.take(), { n: 0 });
  assert.deepEqual(f.take(), { n: 0 });
  assert.equal(f.take(), undefined);
});
