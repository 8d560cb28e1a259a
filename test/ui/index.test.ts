/**
 * The view's on-disk index (src/ui/index/): after `teardown analyze` the store holds no rows in memory beyond a
 * bounded cache, and every list, sort, filter, connection and timeline read through the index is the same as from
 * the whole report in memory. Ladders the report did not keep are read back from the capture by frame offsets (pcap
 * and pcapng by byte range, gzip by inflating again), stdin keeps them in the index, and the index files go away.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { analyzeFile } from '../../src/analyze/analyze.js';
import { openCapture } from '../../src/capture/open.js';
import type { ConnectionReport, Report } from '../../src/model/report.js';
import { RowIndex, ROW_CACHE } from '../../src/ui/index/row-index.js';
import { tempDirs } from '../../src/analyze/temp-dir.js';
import { MemoryRows, type RowSource } from '../../src/ui/rows.js';
import { AnalysisStore, runAnalysis } from '../../src/ui/store.js';
import { SORT_KEYS } from '../../src/ui/view-state.js';
import type { KindFilter } from '../../src/ui/view-state.js';
import { writeBigCapture } from '../helpers/big-capture.js';
import { fixture } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'teardown-index-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const json = (x: unknown) => JSON.parse(JSON.stringify(x));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Analyze through the UI's path (streamed, indexed); the store and its rows. */
async function indexed(path: string, stdin?: PassThrough): Promise<{ store: AnalysisStore; rows: RowSource; report: Report }> {
  const store = new AnalysisStore(path);
  const { report } = await runAnalysis(store, await openCapture(path, stdin ? { stdin } : {}));
  return { store, rows: store.getSnapshot().rows, report };
}

/** Wait for a ladder read back from the capture. */
async function readBack(rows: RowSource, c: ConnectionReport) {
  assert.ok(rows.readLadder, 'ladders can be read back');
  for (let i = 0; i < 2000; i++) {
    const r = rows.readLadder(c);
    if (r.state !== 'reading') return r;
    await sleep(5);
  }
  throw new Error(`the ladder of ${c.id} was not read back`);
}

// 400 copies of a real 30-connection capture: 12,000 connections, past the 10,000 whose ladders the session keeps.
const big = join(dir, 'big.pcap');
const ready = writeBigCapture(big, 400);

test('the index pages the whole report\'s rows, in order, for every sort, kind and filter, holding only a bounded cache', { timeout: 300_000 }, async () => {
  await ready;
  const whole = (await analyzeFile(big)).report;
  assert.ok(whole.connections.length >= 12_000 && whole.findings.length > 100, `${whole.connections.length} connections, ${whole.findings.length} findings`);
  const memory = new MemoryRows(whole.findings, new Map(whole.connections.map((c) => [c.id, c])));
  const { store, rows, report } = await indexed(big);
  try {
    assert.ok(rows instanceof RowIndex, 'the rows come from the on-disk index');
    const snap = store.getSnapshot();
    assert.equal(snap.findings.length, 0, 'no finding list in memory');
    assert.equal(snap.connections.size, 0, 'no connection map in memory');
    assert.equal(report.connections.length, 0);
    assert.equal(rows.findingCount, whole.findings.length);
    assert.deepEqual(json(rows.kinds()), json(memory.kinds()));
    assert.deepEqual(rows.severities(), memory.severities());
    assert.deepEqual(json(report.aggregates), json(whole.aggregates));

    const kinds: KindFilter[] = ['all', ...memory.kinds().map((k) => k.kind)];
    const server = whole.connections.find((c) => c.findings.length > 0)!.server;
    for (const sort of SORT_KEYS) {
      for (const q of [...kinds.map((kind) => ({ kind, sort, filter: '' })), { kind: 'all' as const, sort, filter: `${server.address}:${server.port} TIME` }]) {
        const a = rows.list(q);
        const b = memory.list(q);
        assert.equal(a.length, b.length, JSON.stringify(q));
        assert.ok(a.length > 0, JSON.stringify(q));
        // Page through as the view does, 23 rows at a time, to the end.
        for (let from = 0; from < a.length; from += 23) {
          const got = a.rows(from, from + 23);
          const want = b.rows(from, from + 23);
          assert.deepEqual(got.map((r) => [r.finding.connection, r.finding.kind, r.finding.time, r.age, r.connection?.id]),
            want.map((r) => [r.finding.connection, r.finding.kind, r.finding.time, r.age, r.connection?.id]), `${JSON.stringify(q)} from ${from}`);
          assert.ok(rows.cachedRows <= 2 * ROW_CACHE, `${rows.cachedRows} rows held in memory`);
        }
      }
    }
    // Every connection, and its findings, read back whole; the cache stays bounded.
    for (const c of whole.connections) {
      assert.deepEqual(json(rows.connection(c.id)), json(c));
      assert.deepEqual(json(rows.findingsOf(c.id)), json(memory.findingsOf(c.id)));
    }
    assert.ok(rows.cachedRows <= 2 * ROW_CACHE, `${rows.cachedRows} rows held in memory`);
    const t0 = whole.capture.firstTime!;
    const t1 = whole.capture.lastTime!;
    assert.deepEqual(rows.timeline(t0, t1, 97), memory.timeline(t0, t1, 97));

    // A connection past the first 10,000 without findings: its ladder was not kept, and is read back by byte range.
    const session = (await analyzeFile(big, { ladders: 'all' })).report;
    const late = whole.connections.filter((c) => c.ladder.length === 0 && c.packets > 0);
    assert.ok(late.length > 100, `${late.length} connections without a kept ladder`);
    for (const c of [late[0]!, late[Math.floor(late.length / 2)]!, late.at(-1)!]) {
      const r = await readBack(rows, rows.connection(c.id)!);
      assert.equal(r.state, 'done', JSON.stringify(r));
      if (r.state !== 'done') continue;
      assert.match(r.how, /byte offset/);
      const full = session.connections.find((x) => x.id === c.id)!;
      assert.deepEqual(json(r.ladder), json(full.ladder), c.id);
      assert.equal(r.elided, full.elided);
    }
  } finally {
    store.close();
  }
});

for (const name of ['fin-client-first.pcap', 'fin-client-first.pcapng', 'close-wait-stuck.pcap', 'tw-reuse-higher-isn.pcap']) {
  const F = fixture(name);
  test(`ladders read back from the capture by frame offsets match the report's: ${name}, and gzip (inflated again)`, { skip: F.skip, timeout: 120_000 }, async () => {
    const whole = (await analyzeFile(F.path)).report;
    const gz = join(dir, `${name}.gz`);
    writeFileSync(gz, gzipSync(readFileSync(F.path)));
    for (const path of [F.path, gz]) {
      const { store, rows } = await indexed(path);
      try {
        for (const c of whole.connections) {
          assert.ok(c.ladder.length > 0);
          const r = await readBack(rows, c);
          assert.equal(r.state, 'done', JSON.stringify(r));
          if (r.state !== 'done') continue;
          assert.match(r.how, path === gz ? /inflated again/ : /byte offset/);
          assert.deepEqual(json(r.ladder), json(c.ladder), `${path} ${c.id}`);
        }
      } finally {
        store.close();
      }
    }
  });
}

test('stdin cannot be read twice: the index keeps every ladder, nothing is read back', { timeout: 120_000 }, async () => {
  await ready;
  const stdin = new PassThrough();
  const run = indexed('-', stdin);
  stdin.end(readFileSync(big));
  const { store, rows } = await run;
  try {
    assert.equal(rows.readLadder, undefined);
    const whole = (await analyzeFile(big, { ladders: 'all' })).report;
    for (const c of [whole.connections[0]!, whole.connections[11_000]!, whole.connections.at(-1)!]) {
      assert.ok(c.ladder.length > 0);
      assert.deepEqual(json(rows.connection(c.id)!.ladder), json(c.ladder), c.id);
    }
  } finally {
    store.close();
  }
});

test('the index lives in a private temporary directory, removed by close()', { timeout: 120_000 }, async () => {
  const F = fixture('close-wait-stuck.pcap');
  const before = new Set(tempDirs());
  const { store, rows } = await indexed(F.path);
  const made = tempDirs().filter((d) => !before.has(d));
  assert.equal(made.length, 1);
  const path = made[0]!;
  assert.equal((rows as RowIndex).path, path);
  assert.ok(path.startsWith(tmpdir()), path);
  assert.ok(readdirSync(path).includes('connections.jsonl'), readdirSync(path).join(' '));
  store.close();
  assert.ok(!existsSync(path), `${path} removed`);
  assert.ok(!tempDirs().includes(path));
});

test('while reading, analyze\'s list keeps the latest findings (LIVE_ROWS at most); the count stays exact', async () => {
  const F = fixture('port-reuse-narrow-range.pcap');
  const whole = (await analyzeFile(F.path)).report;
  assert.ok(whole.findings.length > 3);
  const store = new AnalysisStore(F.path, { interval: 0, now: () => 0, keep: 3 });
  for (const f of whole.findings) store.hooks.onFinding?.(f);
  for (const c of whole.connections) store.hooks.onConnectionEnd?.(c);
  // The first publish (a timer, out of the loop) copies the list.
  while (store.getSnapshot().version === 0) await sleep(5);
  const s = store.getSnapshot();
  assert.equal(s.findings.length, 3);
  assert.deepEqual(s.findings, whole.findings.slice(-3));
  assert.equal(s.listCapped, true);
  assert.equal(s.progress.findingsSoFar, whole.findings.length);
  assert.ok([...s.connections.keys()].every((id) => s.findings.some((f) => f.connection === id)));
  store.dispose();
});
