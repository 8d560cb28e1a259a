/**
 * The aggregates folded on another thread while the connections go out (src/analyze/pairs-aside.ts,
 * src/analyze/pair-worker.ts): the same JSON as folded on the reading thread, the version that counts and the
 * TIME_WAIT cut by a later incarnation included; a failure of that thread settles the run's promise (no hang, no
 * unhandled rejection), a full temporary directory as the run's usual error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AnalysisSession } from '../../src/analyze/session.js';
import { PairsAside } from '../../src/analyze/pairs-aside.js';
import type { PairWorkerInput, PairWorkerResult } from '../../src/analyze/pair-worker.js';
import { ReportSpool } from '../../src/analyze/spool.js';
import { seqLookup, type SeqTable } from '../../src/analyze/seq-index.js';
import { startWorker } from '../../src/analyze/start-worker.js';
import { tempDirs } from '../../src/analyze/temp-dir.js';
import type { RawFrame } from '../../src/capture/types.js';
import type { Report } from '../../src/model/report.js';
import { jsonChunks, jsonSpoolChunksAside } from '../../src/report/json.js';
import { joined, joinedAwaiting } from '../helpers/chunks.js';
import { lateFinReopen } from '../helpers/late-fin.js';

/** No seq listed. */
const NONE: SeqTable = { seqs: new Float64Array(0), values: new Float64Array(0) };

function run(frames: RawFrame[], spool?: ReportSpool): Report {
  const s = new AnalysisSession({}, {}, spool ? { spool } : {});
  for (const f of frames) s.ingest(f);
  return s.finish({
    path: 'test', format: 'pcap', compressed: false, linkTypes: [1], packets: s.counters.packets, tcpPackets: s.counters.tcpPackets,
    undecodable: s.counters.undecodable, firstTime: s.counters.firstTime, lastTime: s.counters.lastTime, truncated: false, interrupted: false,
    error: null, warnings: [], drops: null,
  });
}

/**
 * A reopened, re-judged connection whose tuple is then reused within TIME_WAIT by a connection reset at once (its
 * TIME_WAIT cut there: the port is free again), then many connections of the same pair on other ports.
 */
function frames(): RawFrame[] {
  const cv = lateFinReopen();
  const again = cv.sibling({ cIsn: 900_000, sIsn: 700_000, t0: cv.t + 2 });
  again.handshake();
  again.c('R.');
  for (let i = 0; i < 40; i++) {
    const o = cv.sibling({ cport: 42000 + i, t0: cv.t + 3 + i * 0.01 });
    o.handshake();
    o.c('F.').s('F.').c('.');
  }
  return cv.rawFrames();
}

describe('aggregates folded on another thread (PairsAside)', () => {
  test('the same JSON as folded here, the re-judged version and the TIME_WAIT cut by the next incarnation included', async () => {
    const f = frames();
    const whole = run(f);
    const spool = new ReportSpool({ json: true, runBytes: 512 });
    const r = run(f, spool);
    try {
      const out = await joinedAwaiting(jsonSpoolChunksAside(r, spool));
      assert.ok((spool as unknown as { aside: PairsAside | null }).aside !== null, 'folded on the other thread');
      assert.equal(out, [...jsonChunks(whole)].join(''));
      // The rows depend on the version that counts and on the next incarnation's start (port 40000 free again).
      assert.match(out, /"timeWaitReuses":1/);
      assert.match(out, /"portsInUsePeak":40,/);
    } finally {
      spool.close();
    }
    assert.deepEqual(tempDirs(), [], 'its files removed');
  });

  test('a pair spill that never outgrew memory is folded here: no thread to start, nothing to wait for', () => {
    const f = frames();
    const spool = new ReportSpool({ json: true });
    const r = run(f, spool);
    try {
      const chunks = [...jsonSpoolChunksAside(r, spool)];
      assert.ok(chunks.every((c) => !(c instanceof Promise)));
      assert.equal((spool as unknown as { aside: PairsAside | null }).aside, null);
      assert.equal(joined(chunks as (string | Uint8Array)[]), [...jsonChunks(run(f))].join(''));
    } finally {
      spool.close();
    }
  });

  test('the thread failing (a run file gone) rejects `ready` with its reason, and only when awaited', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'teardown-aside-'));
    try {
      const aside = new PairsAside({ name: 'pairs', runs: [join(dir, 'gone')], runBytes: 4096 }, undefined, false, NONE, NONE);
      // Nothing awaits it for a while: a rejection then must not be an unhandled one (node would end the test run).
      await new Promise((res) => setTimeout(res, 300));
      await assert.rejects(aside.ready, /^Error: the aggregates thread failed: .*ENOENT/);
      assert.throws(() => aside.rows(), /not folded yet/);
      aside.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a temporary directory the thread cannot write is reported by its code (ENOTDIR), as the run\'s TempDirError is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'teardown-aside-'));
    try {
      const file = join(dir, 'a-file');
      writeFileSync(file, '');
      // The rows go to a path under a file; the runs are empty.
      const run0 = join(dir, 'run0');
      writeFileSync(run0, '');
      const input: PairWorkerInput = { runs: { name: 'pairs', runs: [run0], runBytes: 4096 }, runBytes: null, reuseOnly: false, latest: NONE, next: NONE, dir, out: join(file, 'rows') };
      const w = startWorker(input, [], new URL('../../src/analyze/pair-worker', import.meta.url));
      const m = await new Promise<PairWorkerResult>((res, rej) => { w.once('message', res); w.once('error', rej); });
      await w.terminate();
      assert.equal(m.type, 'failed');
      assert.equal(m.type === 'failed' ? m.code : null, 'ENOTDIR');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('seqLookup: a value per seq, the last listed for a seq listed twice (as LinkTable answers), undefined for others', () => {
  const t: SeqTable = { seqs: new Float64Array([7, 3, 7, 12, 7, 1]), values: new Float64Array([1, 10, 2, 5, 3, 0]) };
  const v = seqLookup(t);
  assert.equal(v(7), 3);
  assert.equal(v(3), 10);
  assert.equal(v(12), 5);
  assert.equal(v(1), 0);
  assert.equal(v(2), undefined);
  assert.equal(v(13), undefined);
  assert.equal(seqLookup(NONE)(0), undefined);
});
