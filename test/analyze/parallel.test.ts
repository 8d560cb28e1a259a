/**
 * --threads N gives the same bytes as one thread: on every fixture, and on a tiling of fixtures that reuses tuples
 * (ids named inside summaries and notes) and crosses sweeps, through rings small enough to wrap and fill.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TextDigest } from '../../src/analyze/digest.js';
import { shareThreads, streamAnalysisParallel, threadBounds, ThreadStop } from '../../src/analyze/parallel.js';
import { ReportSpool } from '../../src/analyze/spool.js';
import { streamAnalysis } from '../../src/analyze/stream.js';
import { openCapture } from '../../src/capture/open.js';
import { jsonSpoolChunks, jsonSpoolChunksAside } from '../../src/report/json.js';
import { textReport } from '../../src/report/text.js';
import type { Shard } from '../../src/tcp/shard.js';
import { joined, joinedAwaiting } from '../helpers/chunks.js';
import { FIXTURES, fixtureCaptures } from '../helpers/fixture-captures.js';
import { MANY_T0, manyConnections } from '../helpers/big-capture.js';
import { readFrames, remapPorts, shiftTime, toPcap, type Frame } from '../helpers/rewrite.js';

const root = FIXTURES;


/** The JSON and the text report of one run (a JSON spool and a text digest fed by the same sessions). */
/** `aside`: with threads, fold the aggregates on another thread as the CLI does (default), or here. */
interface RunOptions { ringBytes?: number; shard?: Shard; readerLane?: boolean; json?: boolean; aside?: boolean }

async function outputs(path: string, threads: number | null, { ringBytes, shard, readerLane = false, json = true, aside = true }: RunOptions = {}): Promise<{ json: string; text: string }> {
  const spool = new ReportSpool({ json, runBytes: 2048 });
  const digest = new TextDigest(2);
  try {
    const r = threads === null
      ? (await streamAnalysis(await openCapture(path), {
        sink: { hooks: { onJudged: (c, f, seq, v) => digest.add(c, f, seq, v), onLoose: (f) => digest.addLoose(f) } }, packetTickSeconds: null, spool, shard,
      })).report
      : (await streamAnalysisParallel(await openCapture(path), { threads, spool, digest, shard, readerLane, ...(ringBytes ? { ringBytes } : {}) })).report;
    if (!json) return { json: '', text: textReport(r, { maxPerKind: 2 }, digest) };
    // With threads, the aggregates are folded on another thread as the CLI folds them.
    const out = threads === null || !aside ? joined(jsonSpoolChunks(r, spool)) : await joinedAwaiting(jsonSpoolChunksAside(r, spool));
    // The JSON pass folded the aggregates; the text report shows them too.
    return { json: out, text: textReport({ ...r, aggregates: spool.aggregates() }, { maxPerKind: 2 }, digest) };
  } finally {
    spool.close();
  }
}

describe('--threads N: the same report as one thread', () => {
  test('every fixture: 2 threads write the same JSON and text as one, whether the reader analyses a share or not', async () => {
    const files = fixtureCaptures();
    assert.ok(files.length > 50);
    for (const f of files) {
      const a = await outputs(f, null);
      const b = await outputs(f, 2);
      assert.equal(b.json, a.json, f);
      assert.equal(b.text, a.text, f);
      // (the aggregates folded here: a thread per fixture once is enough)
      const c = await outputs(f, 2, { readerLane: true, aside: false });
      assert.equal(c.json, a.json, f);
      assert.equal(c.text, a.text, f);
    }
  });

  test('a tiling that reuses tuples across sweeps, through rings that wrap and fill: the same bytes for 1 and 3 threads', async () => {
    const names = ['port-reuse-narrow-range', 'tw-reuse-lower-isn', 'close-wait-stuck', 'lost-final-ack-captured', 'rst-linger0', 'refused', 'fin-client-first'];
    const bases = await Promise.all(names.map((n) => readFrames(join(root, `${n}.pcap`))));
    const out: Frame[] = [];
    for (let i = 0; out.length < 70_000; i++) {
      const base = bases[i % bases.length] as Frame[];
      const t0 = BigInt(base[0]!.tsSec) * 1_000_000_000n + BigInt(base[0]!.tsNsec);
      const own = base.map((f) => ({ ...f, bytes: new Uint8Array(f.bytes) }));
      // Ports repeat every 61 copies: later copies reuse earlier tuples (incarnations linked across threads' ids).
      out.push(...shiftTime(remapPorts(own, (p) => (p >= 10000 ? 20000 + (i % 61) * 7 + (p % 5) : p)), 1_800_000_000_000_000_000n + BigInt(i) * 50_000_000n - t0));
    }
    // One more connection on its own tuple, and its last segment again after a sweep and more than 120 s: the sweep
    // judged it and let it go, so the late segment starts a connection of its own (without the sweep it would join).
    const lone = remapPorts((bases[6] as Frame[]).map((f) => ({ ...f, bytes: new Uint8Array(f.bytes) })), (p) => (p >= 10000 ? 31000 : p));
    const lt0 = BigInt(lone[0]!.tsSec) * 1_000_000_000n + BigInt(lone[0]!.tsNsec);
    const placed = shiftTime(lone, 1_800_000_000_000_000_000n - lt0);
    out.push(...placed);
    out.sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
    const late = placed.at(-1) as Frame;
    const tEnd = out.at(-1) as Frame;
    out.push({ ...late, bytes: new Uint8Array(late.bytes), tsSec: tEnd.tsSec + 200, tsNsec: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'teardown-par-'));
    try {
      const p = join(dir, 'tiled.pcap');
      writeFileSync(p, toPcap(out));
      const a = await outputs(p, null);
      assert.match(a.json, /"previous":"c\d+"/, 'incarnations are linked');
      assert.match(a.json, /"next":"c\d+"/, 'and their next links settled');
      assert.equal((a.json.match(/"client":"[^"]*:31000"/g) ?? []).length, 2, 'the late segment after the sweep is a connection of its own');
      const b = await outputs(p, 3, { ringBytes: 4096 });
      assert.equal(b.json, a.json);
      assert.equal(b.text, a.text);
      // The reader's own share (thread 0) and two workers': with JSON one share in five and two each, without even.
      const e = await outputs(p, 3, { ringBytes: 4096, readerLane: true });
      assert.equal(e.json, a.json);
      assert.equal(e.text, a.text);
      const t = await outputs(p, null, { json: false });
      assert.equal(t.text, a.text);
      assert.equal((await outputs(p, 3, { ringBytes: 4096, readerLane: true, json: false })).text, t.text);
      // --shard K/N: the reader drops the other shards' segments; the sweeps still count them.
      const c = await outputs(p, null, { shard: { k: 1, n: 2 } });
      const d = await outputs(p, 2, { ringBytes: 4096, shard: { k: 1, n: 2 } });
      assert.notEqual(c.json, a.json);
      assert.equal(d.json, c.json);
      assert.equal((await outputs(p, 2, { ringBytes: 4096, shard: { k: 1, n: 2 }, readerLane: true })).json, c.json);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('--threads N: shares of the tuples and of the bound on connections', () => {
  test('one share per thread, or with the reader spooling JSON one for it and two for each worker', () => {
    assert.deepEqual([...shareThreads(3, false)], [0, 1, 2]);
    assert.deepEqual([...shareThreads(3, true)], [0, 1, 1, 2, 2]);
    assert.deepEqual([...shareThreads(1, true)], [0]);
  });

  test('the threads\' bounds add up to --max-connections, each its shares of it (workers rounded up, thread 0 the rest)', () => {
    assert.deepEqual(threadBounds(100, shareThreads(2, true), 2), [33, 67]);
    assert.deepEqual(threadBounds(100, shareThreads(3, true), 3), [20, 40, 40]);
    assert.deepEqual(threadBounds(100, shareThreads(3, false), 3), [32, 34, 34]);
    assert.deepEqual(threadBounds(100, shareThreads(2, false), 2), [50, 50]);
    // Thread 0 keeps at least one; unbounded stays unbounded.
    assert.deepEqual(threadBounds(2, shareThreads(3, true), 3), [1, 1, 1]);
    assert.deepEqual(threadBounds(Infinity, shareThreads(2, true), 2), [Infinity, Infinity]);
  });
});

describe('--threads N: frames larger than a ring takes', () => {
  // A data segment of a real capture (fin-client-first: IPv4 on Ethernet, frame 4) with 6,000 bytes added by hand,
  // and its IP total length set to 0 (TSO) when `tso`: no stack sends a frame past the rings' half (1 MiB by default;
  // 2 KiB through the 4 KiB rings here).
  async function withBigFrame(tso: boolean): Promise<string> {
    const frames = await readFrames(join(root, 'fin-client-first.pcap'));
    // IPv4 total length past its headers (20 + the TCP header's): a segment with data.
    const i = frames.findIndex((f) => ((f.bytes[16]! << 8) | f.bytes[17]!) > 20 + ((f.bytes[14 + 20 + 12]! >> 4) << 2));
    assert.equal(i, 3, 'frame 4 carries data');
    const f = frames[i] as Frame;
    const bytes = new Uint8Array(f.bytes.length + 6000);
    bytes.set(f.bytes);
    if (tso) { bytes[16] = 0; bytes[17] = 0; }
    frames[i] = { ...f, bytes, wireLength: bytes.length };
    const p = join(mkdtempSync(join(tmpdir(), 'teardown-big-')), 'big.pcap');
    writeFileSync(p, toPcap(frames));
    return p;
  }

  test('a frame padded past its IP length goes to its thread cut (its segment unchanged): the same bytes as one thread', async () => {
    const p = await withBigFrame(false);
    try {
      const a = await outputs(p, null);
      const b = await outputs(p, 2, { ringBytes: 4096 });
      assert.equal(b.json, a.json);
      assert.equal(b.text, a.text);
    } finally {
      rmSync(join(p, '..'), { recursive: true, force: true });
    }
  });

  test('a segment whose length comes from its captured bytes (IPv4 length 0, TSO) that a cut would change: the run stops, naming the frame, for one thread to read it', async () => {
    const p = await withBigFrame(true);
    const spool = new ReportSpool({ json: true, runBytes: 2048 });
    try {
      const { bytes } = (JSON.parse((await outputs(p, null)).json) as { connections: { bytes: { c2s: number; s2c: number } }[] }).connections[0]!;
      assert.ok(bytes.c2s + bytes.s2c > 6000, `one thread reads the whole segment (its length from the captured bytes): ${JSON.stringify(bytes)}`);
      await assert.rejects(streamAnalysisParallel(await openCapture(p), { threads: 2, spool, ringBytes: 4096, readerLane: false }),
        (e: unknown) => e instanceof ThreadStop && e.why === 'frame' && /^frame 4: a TCP segment of 6\d{3} bytes .*IP length 0.* \(--threads 1 reads it\)$/.test(e.message));
      // The reader's own share takes frames whole: with every tuple in it, the report is one thread's.
      const whole = await outputs(p, 1, { ringBytes: 4096, readerLane: true });
      assert.equal(whole.json, (await outputs(p, null)).json);
    } finally {
      spool.close();
      rmSync(join(p, '..'), { recursive: true, force: true });
    }
  });

  test('a run that stops removes the analysis threads\' temporary files (a terminated thread removes nothing itself)', async () => {
    // 14,000 copies of a real connection (11 segments) on ports of their own, 5 ms apart, then the TSO segment above:
    // the sweep after 131,072 segments judges the ~10,900 copies closed for 5 s, each thread keeps their frozen copies
    // (a few hundred bytes each) in a temporary file (written a MiB at a time), and the run stops at the big segment,
    // which the reader reaches only once the threads have taken the frames before it through their 4 KiB rings.
    const out = await manyConnections(14_000, 5_000_000n);
    const big = await withBigFrame(true);
    const tail = await readFrames(big);
    const b0 = BigInt(tail[0]!.tsSec) * 1_000_000_000n + BigInt(tail[0]!.tsNsec);
    const at = out.length + 4; // the big segment: frame 4 of its capture
    out.push(...shiftTime(tail, MANY_T0 + 71_000_000_000n - b0));
    rmSync(join(big, '..'), { recursive: true, force: true });
    const dir = mkdtempSync(join(tmpdir(), 'teardown-stop-'));
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    const was = process.env.TMPDIR;
    const spool = new ReportSpool({ json: true });
    try {
      const p = join(dir, 'copies.pcap');
      writeFileSync(p, toPcap(out));
      process.env.TMPDIR = tmp; // (read by tmpdir() here, and by the threads, which start with this environment)
      await assert.rejects(streamAnalysisParallel(await openCapture(p), { threads: 2, spool, ringBytes: 4096, readerLane: false }),
        (e: unknown) => e instanceof ThreadStop && e.why === 'frame' && e.message.startsWith(`frame ${at}: `));
      spool.close();
      // (tsx, which loads the threads' modules in the tests, keeps its cache there: tsx-<uid>)
      assert.deepEqual(readdirSync(tmp).filter((f) => !f.startsWith('tsx-')), []);
    } finally {
      if (was === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = was;
      spool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
