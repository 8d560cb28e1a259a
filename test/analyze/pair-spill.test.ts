/**
 * The per-pair aggregates of a streamed report, folded through sorted spills on disk (src/analyze/pair-spill.ts):
 * the same rows, in the same order, as the in-memory accumulator, and memory that does not follow the pair count.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PairSpill } from '../../src/analyze/pair-spill.js';
import { AggregateAccumulator, showsReuse, type AggregateInput } from '../../src/findings/aggregates.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = (): number => { for (let i = 0; i < 3; i++) gc(); return process.memoryUsage().heapUsed; };

/** A small deterministic generator (sfc32-like): the same inputs every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0; return s / 4294967296; };
}

/**
 * n connections in report order over `clients` × `servers` pairs: some pairs with one connection, some with dozens
 * (port reuse, TIME_WAIT spans, reuse findings), starts slightly out of order, IPv4 and IPv6, ties in every key.
 */
function inputs(n: number, clients: number, servers: number, seed = 7): AggregateInput[] {
  const r = rng(seed);
  const out: AggregateInput[] = [];
  let t = 1000;
  for (let i = 0; i < n; i++) {
    t += r() < 0.9 ? r() * 0.01 : 0;
    const v6 = r() < 0.1;
    const ci = Math.floor(r() * r() * clients);
    const si = Math.floor(r() * servers);
    const start = t - (r() < 0.05 ? r() * 0.02 : 0);
    const end = start + (r() < 0.5 ? r() * 2 : 0);
    const reuses: [boolean, number][] = r() < 0.1 ? [[r() < 0.5, Math.round(r() * 60)]] : [];
    out.push({
      client: { ipVersion: v6 ? 6 : 4, address: v6 ? `2001:db8::${ci.toString(16)}` : `10.1.${ci >> 8}.${ci & 255}`, port: 40000 + Math.floor(r() * (r() < 0.5 ? 4 : 2000)) },
      server: { ipVersion: v6 ? 6 : 4, address: v6 ? `2001:db8:1::${si}` : `10.0.0.${si}`, port: r() < 0.5 ? 80 : 443 },
      teardown: 'fin', start, end, timeWaitUntil: r() < 0.7 ? end + 60 : null, halfCloses: [], reuses,
    });
  }
  return out;
}

describe('per-pair aggregates spilled', () => {
  test('the same rows in the same order as the in-memory accumulator, across many runs on disk', () => {
    for (const [n, clients, servers] of [[3000, 40, 5], [5000, 4000, 3], [200, 3, 2]] as const) {
      const conns = inputs(n, clients, servers, n);
      const acc = new AggregateAccumulator();
      const spill = new PairSpill(2048); // a run every few dozen records
      for (const c of conns) { acc.add(c); spill.add(c); }
      const want = acc.pairRows();
      const got = [...spill.rows()];
      if (clients < 100) assert.ok(want.some((p) => p.exhaustionRatio !== null && p.exhaustionRatio > 0), 'rows with pressure');
      assert.ok(want.some((p) => p.timeWaitReuses > 0), 'rows with reuses');
      assert.deepStrictEqual(got, want, `${n} connections over ${clients}×${servers}`);
      assert.deepStrictEqual([...spill.rows()], want, 'read twice');
      spill.close();
    }
  });

  test('with a row filter (what the text report lists): exactly the rows it keeps, in the same order', () => {
    const conns = inputs(5000, 400, 3, 11);
    const acc = new AggregateAccumulator();
    const spill = new PairSpill(2048, showsReuse);
    for (const c of conns) { acc.add(c); spill.add(c); }
    const all = acc.pairRows();
    const want = all.filter(showsReuse);
    assert.ok(want.length > 20 && want.length < all.length / 2, `${want.length} of ${all.length} rows kept`);
    assert.deepStrictEqual([...spill.rows()], want);
    spill.close();
  });

  test('memory does not follow the number of pairs', () => {
    const conns = inputs(200_000, 1_000_000, 64, 3);
    const before = heap();
    const spill = new PairSpill();
    for (const c of conns) spill.add(c);
    let rows = 0;
    let held = 0;
    for (const _ of spill.rows()) if (++rows % 50_000 === 0) held = Math.max(held, heap() - before);
    spill.close();
    assert.ok(rows > 150_000, `${rows} pairs`);
    // As running totals and rows in memory this is ~400 bytes a pair (~70 MB); spilled, the runs' buffers.
    assert.ok(held < 12 * 2 ** 20, `${(held / 2 ** 20).toFixed(1)} MiB held while reading ${rows} pairs back`);
  });
});
