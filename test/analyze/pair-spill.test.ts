/**
 * The per-pair aggregates of a streamed report, folded through sorted spills on disk (src/analyze/pair-spill.ts):
 * the same rows, in the same order, as the in-memory accumulator (also from judgements arriving from threads in any
 * interleaving, some judged twice, some cut by a later incarnation), and memory that does not follow the pair count.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PairSpill, type PairFinals } from '../../src/analyze/pair-spill.js';
import { analyzeFile } from '../../src/analyze/analyze.js';
import { AggregateAccumulator, aggregateInput, showsReuse, type AggregateInput } from '../../src/findings/aggregates.js';
import { aggregateJson } from '../../src/model/json.js';
import type { PairAggregate } from '../../src/model/report.js';
import type { Finding } from '../../src/model/report.js';
import { fixtureCaptures } from '../helpers/fixture-captures.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = (): number => { for (let i = 0; i < 3; i++) gc(); return process.memoryUsage().heapUsed; };

/** The rows as PairSpill.rowJson() writes them (each read before the next). */
const jsonRows = (spill: PairSpill): string[] => Array.from(spill.rowJson(), (x) => Buffer.from(x.buf.subarray(x.at, x.end)).toString('utf8'));
const rowText = (a: PairAggregate): string => JSON.stringify(aggregateJson(a));

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
      assert.deepStrictEqual(jsonRows(spill), want.map(rowText), 'as JSON');
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

  test('rows as JSON: addresses that would need escaping or are past ASCII written as the rows are', () => {
    const conns = inputs(600, 30, 4, 3).map((c, i) => (i % 5 === 0 ? { ...c, client: { ...c.client, address: i % 2 === 0 ? `é${c.client.address}` : `"${c.client.address}\\` } } : c));
    const acc = new AggregateAccumulator();
    const spill = new PairSpill(2048);
    for (const c of conns) { acc.add(c); spill.add(c); }
    const want = acc.pairRows();
    assert.ok(want.some((p) => p.client.startsWith('é')) && want.some((p) => p.client.startsWith('"')) && want.some((p) => p.server.ipVersion === 6));
    assert.deepStrictEqual(jsonRows(spill), want.map(rowText));
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

/**
 * Connections as analysis threads hand them to the reader: each with its place in the report (first frame, connection
 * number; some first frames shared), some judged twice (the earlier version differs and must not count), some cut by
 * a later incarnation on their tuple; arriving interleaved from `parts` threads, each thread's in its own order.
 */
function judged(n: number, parts: number, seed: number) {
  const r = rng(seed);
  const conns = inputs(n, 300, 6, seed).map((c, i) => {
    const x = { ...c, teardown: r() < 0.2 ? 'rst' as const : c.teardown, halfCloses: r() < 0.15 ? [[r() < 0.5, Math.round(r() * 500)] as [boolean, number]] : [] };
    return { c: x, ff: r() < 0.1 ? i - (i % 2) : i, seq: ((i * 7919) % 100003) * parts + (i % parts), versions: r() < 0.08 ? 2 : 1, next: x.timeWaitUntil !== null && r() < 0.2 ? x.end + r() * 30 : undefined };
  });
  // The thread's queues, each in the order it judged (first frames ascending, as a session judges roughly).
  const queues: (typeof conns)[] = Array.from({ length: parts }, () => []);
  for (const k of conns) (queues[k.seq % parts] as typeof conns).push(k);
  const arrivals: { c: AggregateInput; ff: number; seq: number; version: number }[] = [];
  for (let left = conns.length; left > 0;) {
    const q = queues[Math.floor(r() * parts)] as typeof conns;
    for (let b = 1 + Math.floor(r() * 20); b > 0 && q.length > 0; b--, left--) {
      const k = q.shift() as (typeof conns)[number];
      // An earlier judgement: another teardown, a stuck half-close, a reuse, a later end (it must not count).
      if (k.versions === 2) arrivals.push({ c: { ...k.c, teardown: 'rst', end: k.c.end + 999, halfCloses: [[true, 9999]], reuses: [[true, 0.001]] }, ff: k.ff, seq: k.seq, version: 0 });
      arrivals.push({ c: k.c, ff: k.ff, seq: k.seq, version: k.versions - 1 });
    }
  }
  const bySeq = new Map(conns.map((k) => [k.seq, k]));
  assert.equal(bySeq.size, conns.length, 'connection numbers are distinct');
  const finals: PairFinals = {
    version: (seq) => (bySeq.get(seq)?.versions === 2 ? 1 : undefined),
    nextStart: (seq) => bySeq.get(seq)?.next,
  };
  // What the whole report folds: the final versions in report order, TIME_WAIT cut at the next incarnation.
  const acc = new AggregateAccumulator();
  for (const k of [...conns].sort((a, b) => a.ff - b.ff || a.seq - b.seq)) {
    const tw = k.c.timeWaitUntil !== null && k.next !== undefined && k.c.timeWaitUntil > k.next ? k.next : k.c.timeWaitUntil;
    acc.add({ ...k.c, timeWaitUntil: tw });
  }
  return { arrivals, finals, acc };
}

describe('aggregates folded from judgements as they arrive from threads', () => {
  test('any number of threads, any interleaving: the whole report\'s server and pair rows, in its order', () => {
    for (const [parts, seed] of [[1, 5], [2, 6], [3, 7], [4, 8]] as const) {
      const { arrivals, finals, acc } = judged(4000, parts, seed);
      const spill = new PairSpill(4096, null, finals);
      for (const a of arrivals) spill.add(a.c, a.ff, a.seq, a.version);
      const servers = acc.serverRows();
      assert.ok(servers.some((s) => s.halfClosed > 0) && servers.some((s) => s.resets > 0), 'server rows with half-closes and resets');
      assert.deepStrictEqual([...spill.rows()], acc.pairRows(), `pairs, ${parts} threads`);
      assert.deepStrictEqual(spill.servers(), servers, `servers, ${parts} threads`);
      spill.close();
    }
  });

  test('ties: rows with equal keys and the same first frame go out by their first connection\'s number, however they arrive', () => {
    const conn = (client: string, server: string, port: number): AggregateInput => ({
      client: { ipVersion: 4, address: client, port: 40000 }, server: { ipVersion: 4, address: server, port },
      teardown: 'fin', start: 1, end: 2, timeWaitUntil: null, halfCloses: [], reuses: [],
    });
    // Four servers and pairs with one connection each: every row ties on every count. Two share a first frame.
    const order: [AggregateInput, number, number][] = [[conn('10.0.0.1', '10.9.0.1', 80), 5, 3], [conn('10.0.0.2', '10.9.0.2', 80), 5, 2], [conn('10.0.0.3', '10.9.0.3', 443), 1, 9], [conn('10.0.0.4', '10.9.0.4', 80), 7, 1]];
    // Later clients of every server (pairs whose hashes come before or after the first pair's): a server's place is its first connection's.
    for (let i = 0; i < 8; i++) for (const [j, [c, ff]] of order.slice(0, 4).entries()) order.push([conn(`10.1.0.${i}`, c.server.address, c.server.port), 100 + 10 * i + ff, 50 + 4 * i + j]);
    const acc = new AggregateAccumulator();
    for (const [c, ff, seq] of [...order].sort((a, b) => a[1] - b[1] || a[2] - b[2])) acc.add(c);
    const spill = new PairSpill();
    for (const [c, ff, seq] of order) spill.add(c, ff, seq);
    const pairs = [...spill.rows()];
    assert.deepStrictEqual(pairs.slice(0, 4).map((p) => p.client), ['10.0.0.3', '10.0.0.2', '10.0.0.1', '10.0.0.4']);
    assert.deepStrictEqual(pairs, acc.pairRows());
    assert.deepStrictEqual(jsonRows(spill), acc.pairRows().map(rowText));
    assert.deepStrictEqual(spill.servers().map((s) => s.server.address), ['10.9.0.3', '10.9.0.2', '10.9.0.1', '10.9.0.4']);
    assert.deepStrictEqual(spill.servers(), acc.serverRows());
    spill.close();
  });
});

test('on every fixture: the report\'s connections split over 3 threads, arriving a thread at a time in reverse, fold to its aggregates', async () => {
  let tied = 0;
  for (const path of fixtureCaptures()) {
    const { report } = await analyzeFile(path);
    const per = new Map<string, Finding[]>();
    for (const f of report.findings) per.set(f.connection, [...(per.get(f.connection) ?? []), f]);
    const parts: [AggregateInput, number, number][][] = [[], [], []];
    report.connections.forEach((c, i) => (parts[i % 3] as [AggregateInput, number, number][]).push([aggregateInput(c, per.get(c.id) ?? []), c.firstFrame, i]));
    const spill = new PairSpill(1024);
    for (const part of parts.reverse()) for (const [c, ff, seq] of part) spill.add(c, ff, seq);
    assert.deepStrictEqual(spill.servers(), report.aggregates.servers, path);
    assert.deepStrictEqual([...spill.rows()], report.aggregates.pairs, path);
    if (report.aggregates.servers.length > 1) tied++;
    spill.close();
  }
  assert.ok(tied > 5, `${tied} fixtures with more than one server`);
});
