/**
 * Parked tuples (src/tcp/flow-table.ts park()): in a streamed analysis an open connection idle for 30 s of capture time
 * goes to the cold store, and its tuple gives up its object (as a resting tuple does once its connection is judged). Stuck half-closes never end on the wire and pile up so
 * over a long capture; whatever wakes one (a late FIN, the bound on connections, the end of input) must find it
 * exactly as it was.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RawFrame } from '../../src/capture/types.js';
import { AnalysisSession } from '../../src/analyze/session.js';
import { ReportSpool } from '../../src/analyze/spool.js';
import type { CaptureSummary } from '../../src/model/report.js';
import { Conversation } from '../helpers/conversation.js';

const T0 = 1_700_000_000;

/**
 * n half-closes 10 ms apart (handshake, a request and its answer, the client's FIN acknowledged, the server silent),
 * then, 100 s later, a late FIN from the server of every even one and the client's ACK of it; then n/4 new
 * connections that stay open. Returns the frames and the index of the first late one.
 */
function halfCloses(n: number): { frames: RawFrame[]; late: number } {
  const first = new Conversation({ cport: 20_000, t0: T0 });
  const cvs = [first];
  for (let i = 1; i < n; i++) cvs.push(first.sibling({ cport: 20_000 + i, t0: T0 + i * 0.01 }));
  for (const cv of cvs) cv.handshake().c('P.', { len: 100 }).s('P.', { len: 1000 }).c('F.').s('.');
  const late = 7 * n;
  for (let i = 0; i < n; i += 2) (cvs[i] as Conversation).s('F.', { at: T0 + 100 + i * 0.01 }).c('.');
  for (let i = 0; i < n / 4; i++) first.sibling({ cport: 30_000 + i, t0: T0 + 110 + i * 0.01 }).handshake();
  return { frames: first.rawFrames(), late };
}

const capture = { path: 'test', format: 'pcap' } as unknown as CaptureSummary;

/** The analysis streamed, as everything it says: judgements in order, findings, spool lines; and the parked counts. */
function run(frames: RawFrame[], late: number, opts: { idleFreeze?: number; maxConnections?: number }) {
  const heard: unknown[] = [];
  const spool = new ReportSpool({ json: true, ladders: 'all', runBytes: 4096 });
  const s = new AnalysisSession({}, {
    onFinding: (f) => heard.push(['finding', f]),
    onJudged: (c, f, seq, version) => heard.push(['judged', c, f, seq, version]),
  }, { spool, sweeps: 'external', ladders: 'all', ...opts });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const table = (s as any).table;
  let parkedBeforeLate = -1;
  frames.forEach((f, i) => {
    const t = f.tsSec + f.tsNsec * 1e-9;
    if (i === late) { s.sweep(t); parkedBeforeLate = table.parked; }
    s.ingest(f);
    s.sweep(t);
  });
  const parkedAtEnd = table.parked as number;
  const asleepAtEnd = table.asleep as number;
  const report = s.finish(capture);
  const out = JSON.stringify({ heard, summary: report.summary, conns: [...spool.connectionLines()], finds: [...spool.findingLines()] });
  spool.close();
  return { out, parkedBeforeLate, parkedAtEnd, asleepAtEnd };
}

describe('parked tuples', () => {
  test('stuck half-closes park after 30 s idle; a late FIN thaws one exactly (same judgements and report as never frozen)', () => {
    const n = 200;
    const { frames, late } = halfCloses(n);
    const plain = run(frames, late, { idleFreeze: Infinity });
    const parked = run(frames, late, {});
    assert.equal(plain.parkedBeforeLate, 0);
    // Every half-close rests parked before the late FINs; the odd ones (no late FIN) until the end, asleep; the even
    // ones, closed by their late FIN and judged, rest parked with their tombstones.
    assert.equal(parked.parkedBeforeLate, n);
    assert.equal(parked.asleepAtEnd, n / 2);
    assert.equal(parked.parkedAtEnd, n);
    assert.equal(parked.out, plain.out);
    // The late FINs closed the even ones, the odd ones end stuck.
    assert.match(plain.out, /stuck-half-close/);
  });

  test('under the bound, parked connections are judged early in the order they were last active, as if never parked', () => {
    const n = 200;
    const { frames, late } = halfCloses(n);
    // The new connections at the end push the table past 180 open: the least recently active go first.
    const plain = run(frames, late, { idleFreeze: Infinity, maxConnections: 180 });
    const parked = run(frames, late, { maxConnections: 180 });
    assert.ok(parked.parkedBeforeLate > 0);
    assert.equal(parked.out, plain.out);
    assert.match(plain.out, /"judgedEarly":[1-9]/);
  });
});
