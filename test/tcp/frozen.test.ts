import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openCapture } from '../../src/capture/open.js';
import { Connection } from '../../src/tcp/connection.js';
import { freezeTombstone, tombstone } from '../../src/tcp/flow-table.js';
import { ByteArena } from '../../src/tcp/byte-arena.js';
import { Tombstone } from '../../src/tcp/tombstone.js';
import { freeze, freezeTo, thaw } from '../../src/tcp/frozen.js';
import { added, EMPTY_LIST } from '../../src/tcp/empty-list.js';
import { fixtureCaptures } from '../helpers/fixture-captures.js';
import { judgedConnections } from '../helpers/judged-connections.js';
import { streamAnalysis } from '../../src/analyze/stream.js';
import { AnalysisSession } from '../../src/analyze/session.js';
import { ReportSpool } from '../../src/analyze/spool.js';
import type { CaptureSummary } from '../../src/model/report.js';

/** The values of every accessor (getter) of every class instance reachable from `x`, by path. */
function accessorValues(x: unknown, path = '', out: Record<string, unknown> = {}, seen = new Set<object>()): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || seen.has(x)) return out;
  seen.add(x);
  const proto = Object.getPrototypeOf(x) as object | null;
  if (proto !== null && proto !== Object.prototype && proto !== Array.prototype) {
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (d.get !== undefined) out[`${path}.${k}`] = (x as Record<string, unknown>)[k];
    }
  }
  for (const [k, v] of Object.entries(x)) accessorValues(v, `${path}.${k}`, out, seen);
  return out;
}

/** The bytes of record `ref` of an arena. */
function recordBytes(a: ByteArena, ref: number): number[] {
  const s = a.start(ref);
  return [...a.chunk(ref).subarray(s, s + a.length(ref))];
}

describe('frozen judged connections', () => {
  test('thaw(freeze(c)) rebuilds every connection of every fixture, and its tombstone, exactly: classes, fields, shared records', async () => {
    let count = 0;
    let shared = 0;
    const arenaA = new ByteArena();
    const arenaB = new ByteArena();
    for (const path of fixtureCaptures()) {
      await judgedConnections(path, (c) => {
        const s = freeze(c);
        const back = thaw(s);
        assert.deepStrictEqual(back, c, `${path} ${c.id}`); // prototypes included
        // Sequence numbers and times of endpoints and FIN records, and the packet log's first rows, live in pool rows
        // behind accessors, not in fields: compared apart.
        assert.deepStrictEqual(accessorValues(back), accessorValues(c), `${path} ${c.id}`);
        assert.deepStrictEqual(back.log.packets(), c.log.packets(), `${path} ${c.id}`);
        assert.notEqual(back, c);
        // The accepted RST is one of its sender's RST records, in the copy too (a later packet may revise it).
        if (c.acceptedRst !== null) {
          shared++;
          assert.ok(back.ep[c.rstBy].rsts.includes(back.acceptedRst as NonNullable<typeof back.acceptedRst>), `${path} ${c.id}`);
        }
        assert.equal(freeze(back), s);
        // Its tombstone too (closing packets included): the tuple keeps it frozen.
        const last = c.log.packets().slice(-4);
        const tomb = tombstone(c, last.map((r) => r.frame));
        // Its closing packets are the log's records of those frames, copied row by row.
        assert.deepStrictEqual(tomb.closeRecs, last, `${path} ${c.id}`);
        const tombBack = thaw<Tombstone>(freeze(tomb));
        assert.deepStrictEqual(tombBack, tomb);
        assert.deepStrictEqual(tombBack.closeRecs, tomb.closeRecs);
        assert.deepStrictEqual([tombBack.sndMax, tombBack.isn, tombBack.closeFrames], [tomb.sndMax, tomb.isn, tomb.closeFrames]);
        // The flow table freezes it without making it: the same bytes, one connection after another in one arena.
        const viaObject = freezeTo(tomb, arenaA);
        const direct = freezeTombstone(c, last.map((r) => r.frame), arenaB);
        assert.deepStrictEqual(recordBytes(arenaB, direct), recordBytes(arenaA, viaObject), `${path} ${c.id}`);
        count++;
      });
    }
    assert.ok(count > 200, `${count} connections`);
    assert.ok(shared > 20, `${shared} connections with an accepted RST`);
  });

  test('every kind of number comes back as it was: small and large integers of each width, uint32, doubles, -0, NaN, infinities', () => {
    const c = new Connection(1, true, false, 0, null);
    const edges = [0, -0, 1, -1, 8191, -8191, 8192, -8192, 0x7fffff, -0x800000, 0x800000, -0x800001, 0x7fffffff, -0x80000000,
      0x80000000, 0xffffffff, 2 ** 32, -(2 ** 32), 2 ** 53, 0.5, -1.25, 1_735_689_600.123456, 1e-300, 1e300, NaN, Infinity, -Infinity];
    // Each twice in a row and again later: the second and third time from the cache of recent numbers.
    const nums = [...edges.flatMap((v) => [v, v]), ...edges];
    // In a number array, and as fields of a plain object (each written by its shape's writer).
    c.kept = { nums, fields: Object.fromEntries(nums.map((v, i) => [`f${i}`, v])) };
    c.firstT = -0x800001; c.lastT = 0xffffffff; c.thirdT = -0;
    const back = thaw(freeze(c));
    const kept = back.kept as { nums: number[]; fields: Record<string, number> };
    assert.equal(kept.nums.length, nums.length);
    nums.forEach((v, i) => {
      assert.ok(Object.is(kept.nums[i], v), `nums[${i}]: ${kept.nums[i]} for ${v}`);
      assert.ok(Object.is(kept.fields[`f${i}`], v), `f${i}: ${kept.fields[`f${i}`]} for ${v}`);
    });
    assert.ok(Object.is(back.firstT, -0x800001) && Object.is(back.lastT, 0xffffffff) && Object.is(back.thirdT, -0));
    back.free();
    c.free();
  });

  test('a packet log head comes back row by row: by column, and generically when a number is not what a column holds', () => {
    // Rows as the log keeps them: frames, times, per-direction seq/ack that wrap, jump back and repeat, windows, notes.
    const rows: [number, number, 0 | 1, number, number, number, number, number][] = [
      [7, 1_735_689_600.123456, 0, 0, 4_294_967_295, 0, 0, 65535],
      [8, 1_735_689_600.123457, 1, 16, 4_294_967_290, 1, 0, 501],
      [9, 1_735_689_600.2, 0, 18, 5, 4_294_967_291, 1448, 0],
      [8_388_608, 1_735_689_601, 1, 17, 0, 6, 4_294_967_295, 7],
      [12, 0.5, 0, 17, 3, 3, 1, 1],
      [11, -0, 1, 2, 1, 7, 0, 0],
      [4_294_967_295, 1e300, 1, 1, 2_000_000_000, 8, 9, 10],
    ];
    const states = ['ESTABLISHED', 'FIN_WAIT_1', 'CLOSE_WAIT'] as const;
    const logOf = (edit?: (r: (typeof rows)[number]) => void) => {
      const c = new Connection(1, true, false, 0, null);
      rows.forEach((r0, i) => {
        const r = [...r0] as (typeof rows)[number];
        if (i === 3) edit?.(r);
        c.log.record(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], states[i % 3] as 'ESTABLISHED', states[(i + 1) % 3] as 'ESTABLISHED',
          i % 2 === 0 ? null : `note ${i % 4}`, false);
      });
      return c;
    };
    const odd: ((r: (typeof rows)[number]) => void)[] = [
      () => {},
      (r) => { r[0] = -0; }, (r) => { r[0] = 2 ** 32; }, (r) => { r[3] = -1; }, (r) => { r[4] = 2 ** 32 + 5; },
      (r) => { r[5] = 1.5; }, (r) => { r[6] = NaN; }, (r) => { r[7] = -0; }, (r) => { r[1] = NaN; },
    ];
    for (const edit of odd) {
      const c = logOf(edit);
      const back = thaw(freeze(c));
      const a = back.log.packets();
      const b = c.log.packets();
      assert.equal(a.length, rows.length);
      // Object.is per number: -0 and NaN must come back as they were.
      a.forEach((r, i) => {
        for (const [k, v] of Object.entries(b[i] as object)) assert.ok(Object.is((r as unknown as Record<string, unknown>)[k], v), `${edit.toString()} row ${i} ${k}: ${String((r as unknown as Record<string, unknown>)[k])} for ${String(v)}`);
      });
      assert.equal(freeze(back), freeze(c));
      back.free();
      c.free();
    }
  });

  test('a tombstone comes back with its class, its numbers and its id, alone or as a reused tuple\'s previous connection', () => {
    const fresh = new Connection(41, false, true, 3, 'c40');
    const tomb = tombstone(fresh, []);
    fresh.free();
    const facts = { id: 'c41', clientIsA: false, closed: true, closeT: 1_735_689_600.5, endedByRst: true, timeWait: [true, false] as [boolean, boolean],
      sndMax: [4_294_967_295, 0] as [number, number], lastTsVal: [1, 2_000_000_000] as [number, number], usedTs: true,
      closeFrames: [9, 10, 8_388_608], closeRows: [], closeRowsLength: 0, isn: [0, 4_294_967_294] as [number, number], firstT: -0, lastT: NaN };
    const t2 = new Tombstone(facts);
    for (const t of [tomb, t2]) {
      const back = thaw<Tombstone>(freeze(t));
      assert.equal(Object.getPrototypeOf(back), Object.getPrototypeOf(t));
      assert.deepStrictEqual(back, t);
      assert.deepStrictEqual([back.id, back.closed, back.endedByRst, back.timeWait, back.sndMax, back.lastTsVal, back.isn, back.closeFrames, back.usedTs],
        [t.id, t.closed, t.endedByRst, t.timeWait, t.sndMax, t.lastTsVal, t.isn, t.closeFrames, t.usedTs]);
      assert.ok(Object.is(back.firstT, t.firstT) && Object.is(back.lastT, t.lastT));
      // Inside a connection (a reuse of the tuple), the same tombstone twice is one object.
      const c = new Connection(42, true, false, 4, t.id);
      c.kept = { previous: t, again: t };
      const cb = thaw(freeze(c));
      const k = cb.kept as { previous: Tombstone; again: Tombstone };
      assert.equal(k.previous, k.again);
      assert.deepStrictEqual(k.previous, t);
      cb.free();
      c.free();
    }
  });

  test('a field holding another kind of value than a new instance\'s (-0, a fraction, beyond 32 bits, a string, a number for a boolean) comes back as it was', () => {
    type Odd = Record<string, unknown>;
    const cases: [string, (c: Connection) => Odd, unknown][] = [
      ['endpoint win -0', (c) => c.ep[0] as unknown as Odd, -0],
      ['endpoint packets 1.5', (c) => c.ep[1] as unknown as Odd, 1.5],
      ['connection packets 2^40', (c) => c as unknown as Odd, 2 ** 40],
      ['connection duplicates -2^31 - 1', (c) => c as unknown as Odd, -(2 ** 31) - 1],
      ['connection lost "3"', (c) => c as unknown as Odd, '3'],
      ['endpoint seen 1', (c) => c.ep[0] as unknown as Odd, 1],
      ['endpoint ttl NaN', (c) => c.ep[1] as unknown as Odd, NaN],
    ];
    const field = (name: string) => name.split(' ')[1] as string;
    for (const [name, of, value] of cases) {
      const c = new Connection(5, true, false, 0, null);
      c.ep[0].packets = 3; c.ep[1].win = 65535; c.packets = 9; c.ep[0].seen = true; c.ep[1].ttl = 64; c.duplicates = -1;
      of(c)[field(name)] = value;
      const back = thaw(freeze(c));
      assert.ok(Object.is(of(back)[field(name)], value), `${name}: ${String(of(back)[field(name)])}`);
      assert.deepStrictEqual(back, c, name);
      assert.deepStrictEqual([back.ep[0].packets, back.ep[1].win, back.packets, back.ep[0].seen, back.ep[1].ttl],
        [c.ep[0].packets, c.ep[1].win, c.packets, c.ep[0].seen, c.ep[1].ttl], name);
      back.free();
      c.free();
    }
  });

  test('a frozen connection is a fraction of the live one', async () => {
    const sizes: number[] = [];
    await judgedConnections(fixtureCaptures().find((p) => p.endsWith('fin-3way.pcap')) as string, (c) => { sizes.push(freeze(c).length); });
    assert.ok(sizes.length > 0);
    for (const n of sizes) assert.ok(n < 1200, `${n} bytes`);
  });
});

/**
 * A capture analysed with a tick (sweep and live aging) after every packet, as everything the caller hears: the
 * findings announced, the connections judged (in order, with their findings), the report, and with a spool its lines
 * and aggregates. `idleFreeze` 0: every open connection is frozen after each of its packets and thawed by the next.
 */
async function everything(path: string, idleFreeze: number, opts: { maxConnections?: number; spool?: boolean }): Promise<string> {
  const heard: unknown[] = [];
  const spool = opts.spool ? new ReportSpool({ json: true, ladders: 'all', runBytes: 4096 }) : undefined;
  const { report } = await streamAnalysis(await openCapture(path), {
    sink: { hooks: {
      onFinding: (f) => heard.push(['finding', f]),
      onJudged: (c, f, seq, version) => heard.push(['judged', c, f, seq, version]),
    } },
    packetTickSeconds: 1e-9, memoryGuard: null, ladders: 'all', idleFreeze,
    ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}), ...(spool ? { spool } : {}),
  });
  const lines = spool ? [[...spool.connectionLines()], [...spool.findingLines()], spool.aggregates()] : null;
  spool?.close();
  return JSON.stringify({ heard, report, lines });
}

describe('open connections frozen while idle', () => {
  test('frozen after every packet and thawed by the next: the same findings, judgements and report on every fixture', async () => {
    let asleepSeen = 0;
    for (const path of fixtureCaptures()) {
      for (const opts of [{}, { maxConnections: 3 }, { spool: true }]) {
        const plain = await everything(path, Infinity, opts);
        const frozen = await everything(path, 0, opts);
        assert.equal(frozen, plain, `${path} ${JSON.stringify(opts)}`);
      }
      // The tiny threshold did freeze connections that were still open (not only judged ones).
      const s = new AnalysisSession({}, {}, { idleFreeze: 0, sweeps: 'external' });
      const src = await openCapture(path);
      await src.run((f) => {
        s.ingest(f);
        s.sweep(f.tsSec + f.tsNsec * 1e-9);
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        asleepSeen += (s as any).table.asleep;
      });
    }
    assert.ok(asleepSeen > 1000, `${asleepSeen} connection-packets asleep`);
  });

  test('snapshots and capture loss see asleep connections as they are, and leave them asleep', async () => {
    const path = fixtureCaptures().find((p) => p.endsWith('close-wait-stuck.pcap')) as string;
    const capture = { path } as unknown as CaptureSummary;
    const run = async (idleFreeze: number) => {
      const s = new AnalysisSession({}, {}, { idleFreeze, ladders: 'all' });
      const snaps: string[] = [];
      const src = await openCapture(path);
      await src.run((f) => {
        s.ingest(f);
        const t = f.tsSec + f.tsNsec * 1e-9;
        s.tick(t);
        s.captureLoss(f.index % 3);
        snaps.push(JSON.stringify(s.snapshot(capture)));
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return { snaps, asleep: (s as any).table.asleep as number, report: JSON.stringify(s.finish(capture)) };
    };
    const plain = await run(Infinity);
    const frozen = await run(0);
    assert.ok(frozen.asleep > 0);
    assert.equal(plain.asleep, 0);
    assert.deepStrictEqual(frozen.snaps, plain.snaps);
    assert.equal(frozen.report, plain.report);
    assert.match(frozen.report, /"captureLoss":[1-9]/);
  });
});

test('the shared empty list comes back as itself, not as one new list shared by every field that held it', () => {
  const c = new Connection(7, true, false, 0, null);
  const lists = (x: Connection) => [x.liveSynFrames, x.revisions, x.inferences, x.ep[0].rsts, x.ep[1].rsts, x.ep[0].dataAfterPeerFinFrames, x.ep[1].dataAfterPeerFinFrames];
  for (const l of lists(c)) assert.equal(l, EMPTY_LIST);
  const back = thaw(freeze(c));
  for (const l of lists(back)) assert.equal(l, EMPTY_LIST);
  assert.throws(() => (EMPTY_LIST as number[]).push(1));
  // Adding to one list gives it a list of its own; the others stay empty.
  back.liveSynFrames = added(back.liveSynFrames, 5);
  back.ep[0].dataAfterPeerFinFrames = added(back.ep[0].dataAfterPeerFinFrames, 6);
  const again = thaw(freeze(back));
  assert.deepStrictEqual([again.liveSynFrames, again.ep[0].dataAfterPeerFinFrames], [[5], [6]]);
  assert.equal(again.ep[1].dataAfterPeerFinFrames, EMPTY_LIST);
  assert.equal(again.revisions, EMPTY_LIST);
  c.free(); back.free(); again.free();
});
