import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { describe, test } from 'node:test';
import { TextDigest } from '../../src/analyze/digest.js';
import { endpointText } from '../../src/model/endpoint.js';
import { AnalysisSession } from '../../src/analyze/session.js';
import { ReportSpool } from '../../src/analyze/spool.js';
import { SortedSpill } from '../../src/analyze/spill.js';
import { tempDirs } from '../../src/analyze/temp-dir.js';
import { analyzeFile } from '../../src/analyze/analyze.js';
import { streamAnalysis } from '../../src/analyze/stream.js';
import { openCapture } from '../../src/capture/open.js';
import type { RawFrame } from '../../src/capture/types.js';
import type { Report } from '../../src/model/report.js';
import { jsonChunks, jsonSpoolChunks } from '../../src/report/json.js';
import { textReport } from '../../src/report/text.js';
import { lateFinReopen } from '../helpers/late-fin.js';
import { joined } from '../helpers/chunks.js';
import { fixtureCaptures } from '../helpers/fixture-captures.js';



/** The streamed JSON and text of a capture, with runs of ~1 KB so every spill goes through disk. */
async function streamed(path: string): Promise<{ json: string; all: string; text: string; judged: number; runs: boolean }> {
  const json = new ReportSpool({ json: true, runBytes: 1024 });
  const r1 = (await streamAnalysis(await openCapture(path), { sink: {}, packetTickSeconds: null, spool: json })).report;
  const all = new ReportSpool({ json: true, ladders: 'all', runBytes: 1024 });
  const r2 = (await streamAnalysis(await openCapture(path), { sink: {}, packetTickSeconds: null, spool: all })).report;
  const digest = new TextDigest(3);
  // As the CLI's text report makes it: only the pair rows it lists.
  const text = new ReportSpool({ json: false, pairs: 'reuse', runBytes: 1024 });
  const { report: r3, session } = await streamAnalysis(await openCapture(path), {
    sink: { hooks: { onJudged: (c, f, seq, v) => digest.add(c, f, seq, v), onLoose: (f) => digest.addLoose(f) } },
    packetTickSeconds: null, spool: text,
  });
  try {
    return {
      json: joined(jsonSpoolChunks(r1, json)), all: joined(jsonSpoolChunks(r2, all)),
      text: textReport(r3, { maxPerKind: 3 }, digest),
      judged: (session as unknown as { judged: unknown[] }).judged.length,
      runs: r1.summary.connections < 2 || (json as unknown as { conns: { runCount: number } }).conns.runCount > 0,
    };
  } finally {
    json.close(); all.close(); text.close();
  }
}

describe('streamed report (--json/--text write or fold each judged connection; nothing is kept)', () => {
  test('on every fixture, the streamed JSON and text are the whole report\'s, byte for byte', async () => {
    const files = fixtureCaptures();
    assert.ok(files.length > 50);
    for (const f of files) {
      const { report } = await analyzeFile(f);
      const s = await streamed(f);
      assert.equal(s.json, [...jsonChunks(report)].join(''), f);
      assert.equal(s.all, [...jsonChunks(report, { ladders: 'all' })].join(''), `${f} --ladders all`);
      assert.equal(s.text, textReport(report, { maxPerKind: 3 }), `${f} text`);
      assert.equal(s.judged, 0, `${f}: no judged report kept`);
      assert.ok(s.runs, `${f}: spilled to disk`);
    }
  });

  test('a connection reopened by a late FIN, then its tuple reused: same JSON and text as the whole report', () => {
    const cv = lateFinReopen();
    // The same tuple again within TIME_WAIT: its `next` and TIME_WAIT end are settled by this incarnation.
    const again = cv.sibling({ cIsn: 900_000, sIsn: 700_000, t0: cv.t + 2 });
    again.handshake();
    again.c('F.').s('F.').c('.');
    const frames = cv.rawFrames();
    const whole = run(frames);
    const spool = new ReportSpool({ json: true, runBytes: 512 });
    const r = run(frames, spool);
    const folded = new ReportSpool({ json: false, runBytes: 512 });
    const digest = new TextDigest(50);
    const t = run(frames, folded, digest);
    try {
      const mine = whole.connections.filter((c) => endpointText(c.client) === '10.0.0.1:40000');
      assert.equal(mine.length, 2);
      assert.equal(mine[0]!.next, mine[1]!.id);
      assert.ok(whole.findings.some((f) => f.kind === 'lost-final-ack'), 'reopened and re-judged');
      assert.equal(joined(jsonSpoolChunks(r, spool)), [...jsonChunks(whole)].join(''));
      assert.equal(textReport(t, {}, digest), textReport(whole));
    } finally {
      spool.close();
      folded.close();
    }
  });
});

function run(frames: RawFrame[], spool?: ReportSpool, digest?: TextDigest): Report {
  const s = new AnalysisSession({}, digest ? { onJudged: (c, f, seq, v) => digest.add(c, f, seq, v), onLoose: (f) => digest.addLoose(f) } : {}, spool ? { spool } : {});
  for (const f of frames) s.ingest(f);
  return s.finish({
    path: 'test', format: 'pcap', compressed: false, linkTypes: [1], packets: s.counters.packets, tcpPackets: s.counters.tcpPackets,
    undecodable: s.counters.undecodable, firstTime: s.counters.firstTime, lastTime: s.counters.lastTime, truncated: false, interrupted: false,
    error: null, warnings: [], drops: null,
  });
}

test('a spill writes its runs in a private temporary directory (0700) it removes on close, one registry with the view index', () => {
  const before = new Set(tempDirs());
  const spill = new SortedSpill('probe', 4096);
  for (let i = 0; i < 1000; i++) spill.add(1000 - i, 0, 0, 0, [i], 1, `record ${i}`);
  assert.ok(spill.runCount > 0, 'runs went to disk');
  const made = tempDirs().filter((d) => !before.has(d));
  assert.equal(made.length, 1, 'the spill directory is known to the registry that removes temporary directories at exit');
  assert.equal(statSync(made[0]!).mode & 0o777, 0o700);
  spill.close();
  assert.ok(!existsSync(made[0]!));
  assert.deepEqual(tempDirs().filter((d) => !before.has(d)), []);
});
