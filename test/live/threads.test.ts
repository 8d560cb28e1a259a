/**
 * `teardown live --threads N`: the analysis threads (src/report/live-threads.ts) write the same NDJSON lines as one
 * thread does, for the same frames. The frames are every fixture capture (real captures of the Linux stack), laid
 * out side by side so that their connections are open at once, and played again every 3 s (the same tuples reused:
 * TIME_WAIT reuses, previous/next links across rounds); packet-time ticks every second age and judge them, as in a
 * live capture. The live loop (analyzeLive, as the live command runs it) runs them once with one session and once
 * with 2 and 3 threads: the same lines (ids included) and the same summary line; with threads, the same lines in
 * the same order for any number of them.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ThreadedLiveSession } from '../../src/report/live-threads.js';
import { openCapture } from '../../src/capture/open.js';
import type { FrameSink, PacketSource, RawFrame } from '../../src/capture/types.js';
import { analyzeLive } from '../../src/cli/commands/live.js';
import { NdjsonBytes, NdjsonSink, summaryLine } from '../../src/report/ndjson.js';

const DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const REPEATS = 30;

interface Frame { t: number; linkType: number; bytes: Buffer }

async function frames(): Promise<Frame[]> {
  const out: Frame[] = [];
  const files = readdirSync(DIR).filter((f) => f.endsWith('.pcap')).sort();
  for (const [j, name] of files.entries()) {
    const src = await openCapture(DIR + name);
    let t0: number | null = null;
    const own: Frame[] = [];
    await src.run((f: RawFrame) => {
      const t = f.tsSec + f.tsNsec * 1e-9;
      t0 ??= t;
      own.push({ t: t - t0, linkType: f.linkType, bytes: Buffer.from(f.data.subarray(f.dataOffset, f.dataOffset + f.capLength)) });
    });
    for (let r = 0; r < REPEATS; r++) for (const f of own) out.push({ ...f, t: 1_763_000_000 + r * 3 + j * 0.11 + f.t });
  }
  // Stable: frames at the same instant keep their capture's order.
  return out.sort((a, b) => a.t - b.t);
}

function source(all: Frame[]): PacketSource {
  return {
    info: { path: 'fixtures', format: 'live', compressed: false, linkTypes: [1], totalBytes: null, drops: 0, dropCounters: null },
    bytesRead: 0,
    async run(sink: FrameSink) {
      const f: RawFrame = { index: 0, tsSec: 0, tsNsec: 0, linkType: 1, interfaceId: 0, data: Buffer.alloc(0), dataOffset: 0, capLength: 0, wireLength: 0, fileOffset: 0 };
      for (let i = 0; i < all.length; i++) {
        const x = all[i]!;
        f.index = i + 1;
        f.tsSec = Math.floor(x.t);
        f.tsNsec = Math.round((x.t - f.tsSec) * 1e6) * 1000;
        f.linkType = x.linkType;
        f.data = x.bytes; f.capLength = f.wireLength = x.bytes.length;
        sink(f);
        if ((i & 1023) === 1023) await new Promise<void>((r) => setImmediate(r));
      }
      return { frames: all.length, error: null, warnings: [] };
    },
  };
}

async function live(all: Frame[], threads: number): Promise<string[]> {
  let text = '';
  const lines = new NdjsonBytes((c) => { text += typeof c === 'string' ? c : Buffer.from(c).toString('utf8'); });
  const threaded = threads > 1 ? new ThreadedLiveSession({ threads, ladders: 'findings', out: lines }) : null;
  try {
    const sink = threaded === null ? new NdjsonSink(lines, { ladders: 'findings' }) : { end: () => {} };
    const { report } = await analyzeLive(source(all), false, { sink, memoryGuard: null, gate: () => { lines.flush(); return null; }, ...(threaded ? { session: threaded } : {}) });
    lines.text(summaryLine(report));
  } finally {
    threaded?.close();
  }
  return text.split('\n').filter((l) => l !== '');
}

test('live with 2 and 3 analysis threads writes the lines one thread writes, in one order for any number', async () => {
  const all = await frames();
  const one = await live(all, 1);
  const two = await live(all, 2);
  const three = await live(all, 3);
  const conns = one.filter((l) => l.startsWith('{"type":"connection"')).length;
  assert.ok(conns > 500, `${conns} connections`);
  assert.ok(one.some((l) => l.includes('"kind":"time-wait-reuse"')), 'reused tuples across rounds');
  assert.ok(one.some((l) => l.includes('"final":false')), 'findings announced on the clock');
  // The summary line: counts, findings by kind, aggregates.
  assert.equal(two.at(-1), one.at(-1));
  assert.equal(three.at(-1), one.at(-1));
  // The same lines, ids included (one thread writes the clock's judgements in deadline order, threads in id order).
  assert.deepEqual([...two].sort(), [...one].sort());
  assert.deepEqual(three, two);
});
