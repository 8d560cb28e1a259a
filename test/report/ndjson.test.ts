/**
 * The NDJSON stream: line shapes and order through a real AnalysisSession, provisional (clock) vs final findings,
 * and `teardown analyze - --ndjson` emitting findings while its standard input is still open.
 * Hand-built segments: exact timestamps (a 2-minute gap, a quiet pipe) that a recorded capture cannot give.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AnalysisSession } from '../../src/analyze/session.js';
import { ReportSpool } from '../../src/analyze/spool.js';
import { streamAnalysis } from '../../src/analyze/stream.js';
import { openCapture } from '../../src/capture/open.js';
import type { Settings } from '../../src/model/report.js';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { NdjsonBytes, NdjsonSink, connectionLine, findingLine, writeConnectionLine } from '../../src/report/ndjson.js';
import { jsonConnection } from '../../src/report/json.js';
import { analyzeFile } from '../../src/analyze/analyze.js';
import { makeHostile } from '../../bench/make-hostile.js';
import { fixtureCaptures } from '../helpers/fixture-captures.js';
import { buildFrame, frameOf, type SegmentSpec } from '../helpers/packets.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLIENT = '10.1.0.1';
const SERVER = '10.1.0.2';

interface Seg { t: number; bytes: Uint8Array }

/** One connection's segments: sport picks the connection; `end` how it ends. Client ISN 1000, server ISN 5000. */
function conversation(t0: number, sport: number, end: 'half-close' | 'abort' | 'graceful'): Seg[] {
  const c2s = (flags: string, seq: number, ack: number, len = 0): SegmentSpec => ({ src: CLIENT, dst: SERVER, sport, dport: 80, seq, ack, flags, len });
  const s2c = (flags: string, seq: number, ack: number, len = 0): SegmentSpec => ({ src: SERVER, dst: CLIENT, sport: 80, dport: sport, seq, ack, flags, len });
  const specs: SegmentSpec[] = [
    { ...c2s('S', 1000, 0), ack: undefined }, s2c('S.', 5000, 1001), c2s('.', 1001, 5001), c2s('P.', 1001, 5001, 10), s2c('.', 5001, 1011),
  ];
  if (end === 'half-close') specs.push(c2s('F.', 1011, 5001), s2c('.', 5001, 1012));
  if (end === 'abort') specs.push(c2s('R.', 1011, 5001));
  if (end === 'graceful') specs.push(c2s('F.', 1011, 5001), s2c('F.', 5001, 1012), c2s('.', 1012, 5002));
  return specs.map((s, i) => ({ t: t0 + i * 0.001, bytes: buildFrame(s) }));
}

function feed(session: AnalysisSession, segs: Seg[], first: number): number {
  let n = first;
  for (const s of segs) {
    const sec = Math.floor(s.t);
    session.ingest(frameOf(s.bytes, 1, { index: n++, tsSec: sec, tsNsec: Math.round((s.t - sec) * 1e9) }));
  }
  return n;
}

const parse = (lines: string[]) => lines.map((l) => {
  assert.ok(l.endsWith('\n') && !l.slice(0, -1).includes('\n'), 'one line each');
  return JSON.parse(l) as Record<string, any>;
});

test('NdjsonSink: findings as made, a line per connection as it ends, provisional clock findings, summary last', () => {
  const out: string[] = [];
  const sink = new NdjsonSink((l) => out.push(l));
  const session = new AnalysisSession({ halfCloseTimeout: 1 }, sink.hooks);
  let n = feed(session, conversation(1000, 40000, 'half-close'), 1);
  n = feed(session, conversation(1000.5, 40001, 'abort'), n);
  n = feed(session, conversation(1000.7, 40002, 'graceful'), n);
  assert.equal(out.length, 0, 'nothing is judged yet');

  sink.tick(session, 1002); // the half-close is 2 s old with an idle server: stuck, connection still open
  let lines = parse(out);
  assert.deepEqual(lines.map((l) => [l.type, l.kind, l.final]), [['finding', 'stuck-half-close', false]]);
  assert.equal(lines[0]!.details.stuck, true);

  sink.tick(session, 1200); // 2 minutes later the closed connections leave the table: their findings are final
  lines = parse(out);
  const kinds = lines.map((l) => `${l.type}:${l.kind ?? l.id}:${l.final ?? ''}`);
  assert.deepEqual(kinds.slice(1), ['finding:rst-teardown:true', 'connection:c2:', 'connection:c3:']);
  const abort = lines[1]!;
  assert.equal(abort.details.class, 'abort');
  assert.equal(abort.connection, 'c2');
  assert.ok(abort.evidence.length > 0 && typeof abort.why === 'string' && typeof abort.rule === 'string');
  assert.deepEqual(lines[2]!.findings, ['rst-teardown']);
  assert.ok(lines[2]!.ladder.length > 0, 'a connection with findings keeps its ladder');
  assert.deepEqual(lines[3]!.ladder, [], 'a clean connection has its ladder left out');
  assert.equal(lines[3]!.teardown, 'fin');

  const report = session.finish({
    path: 'test', format: 'pcap', compressed: false, linkTypes: [1], packets: session.counters.packets, tcpPackets: session.counters.tcpPackets,
    undecodable: {}, firstTime: session.counters.firstTime, lastTime: session.counters.lastTime, truncated: false, interrupted: false, error: null, warnings: [], drops: null,
  });
  sink.end(report, { evicted: 3 });
  lines = parse(out);
  // The stuck half-close is not announced twice; its connection line carries the final verdict.
  assert.equal(lines.filter((l) => l.kind === 'stuck-half-close').length, 1);
  const c1 = lines.find((l) => l.type === 'connection' && l.id === 'c1')!;
  assert.deepEqual(c1.findings, ['stuck-half-close']);
  assert.deepEqual(c1.states, { client: 'FIN_WAIT_2', server: 'CLOSE_WAIT' });
  const last = lines.at(-1)!;
  assert.equal(last.type, 'summary');
  assert.equal(last.evicted, 3);
  assert.equal(last.summary.connections, 3);
  assert.deepEqual(last.summary.findings, { 'stuck-half-close': 1, 'rst-teardown': 1 });
  assert.equal(last.connections, undefined, 'the summary line does not repeat connections');
  assert.equal(sink.connections, 3);
  assert.equal(sink.findings, 2);
});

test('connectionLine keeps every ladder with ladders=all; findingLine marks final', () => {
  const lines: string[] = [];
  const session = new AnalysisSession({}, { onConnectionEnd: (c) => lines.push(connectionLine(c, { ladders: 'all' })) });
  feed(session, conversation(5000, 41000, 'graceful'), 1);
  session.finish({
    path: 'x', format: 'pcap', compressed: false, linkTypes: [1], packets: 0, tcpPackets: 0, undecodable: {}, firstTime: null,
    lastTime: null, truncated: false, interrupted: false, error: null, warnings: [], drops: null,
  });
  const [c] = parse(lines);
  assert.equal(c!.type, 'connection');
  assert.ok(c!.ladder.length >= 3);
  const f = JSON.parse(findingLine({ kind: 'refused', severity: 'info', connection: 'c9', summary: 's', why: 'w', rule: 'r', time: 1, evidence: [], details: {} }, false));
  assert.deepEqual([f.type, f.kind, f.final], ['finding', 'refused', false]);
});

test('analyze - --ndjson: findings stream out while standard input is still open (packet time, then a quiet pipe)', { timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'analyze', '-', '--ndjson', '--half-close-timeout', '1'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; for (const w of waiters.splice(0)) w(); });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const exited = new Promise<number | null>((r) => child.on('close', r));
  const waitFor = (re: RegExp, ms: number) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms; stdout:\n${stdout}\nstderr:\n${stderr}`)), ms);
    const check = (): void => { if (re.test(stdout)) { clearTimeout(timer); resolve(); } else waiters.push(check); };
    check();
  });
  const w = new PcapWriter((c) => child.stdin.write(c), { nanosecond: true });
  const send = (segs: Seg[]): void => {
    for (const s of segs) { const sec = Math.floor(s.t); w.writeFrame(sec, Math.round((s.t - sec) * 1e9), s.bytes); }
    w.flush();
  };
  try {
    send([...conversation(1000, 40000, 'half-close'), ...conversation(1000.5, 40001, 'abort')]);
    send(conversation(1002, 40002, 'graceful')); // packet time moves 2 s: the half-close is announced
    await waitFor(/"kind":"stuck-half-close"/, 10_000);
    send(conversation(1200, 40003, 'graceful')); // 2 minutes of packet time: the aborted connection ends
    await waitFor(/"kind":"rst-teardown"/, 10_000);
    await waitFor(/"type":"connection","id":"c2"/, 10_000);
    send(conversation(1300, 40004, 'half-close')); // then the pipe goes quiet: the clock ages it
    await waitFor(/"kind":"stuck-half-close".*"connection":"c5"/, 10_000);
    assert.doesNotMatch(stdout, /"type":"summary"/, 'all of this before the end of input');
    child.stdin.end();
    assert.equal(await exited, 0, stderr);
  } finally {
    child.kill('SIGKILL');
  }
  const lines = stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>);
  assert.equal(lines.at(-1)!.type, 'summary');
  assert.equal(lines.at(-1)!.summary.connections, 5);
  assert.equal(lines.at(-1)!.capture.format, 'pcap');
  const stuck = lines.filter((l) => l.kind === 'stuck-half-close');
  assert.deepEqual(stuck.map((l) => [l.connection, l.final]), [['c1', false], ['c5', false]]);
  assert.equal(lines.filter((l) => l.type === 'connection').length, 5);
});

/** A capture's whole NDJSON stream through streamAnalysis, into `sink` (ticks every second of packet time). */
async function ndjsonOf(path: string, sink: NdjsonSink, settings: Partial<Settings>): Promise<void> {
  const spool = new ReportSpool({ json: false });
  try {
    const { report, session } = await streamAnalysis(await openCapture(path), { sink, settings, spool, packetTickSeconds: 1, memoryGuard: null });
    sink.end(report, { evicted: session.counters.evicted });
  } finally {
    spool.close();
  }
}

test('NDJSON as bytes (NdjsonBytes, what live writes): the same lines as the text ones, on every fixture', async () => {
  const files = fixtureCaptures();
  assert.ok(files.length > 50);
  // A SYN flood, as a flooding tool puts it on the wire (bench/make-hostile.ts): its finding is not the judge's.
  const dir = mkdtempSync(join(tmpdir(), 'teardown-ndjson-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  files.push(makeHostile({ kind: 'flood', syns: 1500, rate: 100_000, out: join(dir, 'flood.pcap') }));
  const seen = { connections: 0, elided: 0, findings: 0, provisional: 0, flood: 0, multiByte: 0 };
  for (const f of files) {
    for (const [ladders, settings] of [['findings', {}], ['all', { halfCloseTimeout: 1 }]] as const) {
      const text: string[] = [];
      await ndjsonOf(f, new NdjsonSink((l) => text.push(l), { ladders }), settings);
      const chunks: Uint8Array[] = [];
      // A small limit: lines also go out between flushes.
      const bytes = new NdjsonBytes((c) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c), 4096);
      await ndjsonOf(f, new NdjsonSink(bytes, { ladders }), settings);
      bytes.flush();
      const got = Buffer.concat(chunks).toString('utf8');
      assert.equal(got, text.join(''), `${f} ladders=${ladders}`);
      for (const l of text) {
        const o = JSON.parse(l) as Record<string, any>;
        if (o.type === 'connection') { seen.connections++; if (o.ladder.length === 0 && o.packets > 0) seen.elided++; }
        if (o.type === 'finding') { seen.findings++; if (!o.final) seen.provisional++; if (o.kind === 'syn-flood') seen.flood++; }
        if (Buffer.byteLength(l) !== l.length) seen.multiByte++;
      }
    }
  }
  // The fixtures reach every kind of line the byte writer treats apart.
  assert.ok(seen.connections > 100 && seen.elided > 0 && seen.findings > 50 && seen.provisional > 0 && seen.flood > 0 && seen.multiByte > 0, JSON.stringify(seen));
});

test('NdjsonBytes: a copy goes out (the buffer is reused), once past its limit and at each flush; text after the bytes before it', () => {
  const chunks: (string | Uint8Array)[] = [];
  const b = new NdjsonBytes((c) => chunks.push(c), 8);
  b.w.ascii('{"a":1}\n');
  assert.equal(chunks.length, 0);
  b.lineDone();
  assert.equal(chunks.length, 1, 'past the limit');
  b.w.ascii('{}\n');
  b.text('{"type":"summary"}\n');
  b.w.ascii('xx');
  assert.deepEqual(chunks.map((c) => (typeof c === 'string' ? c : Buffer.from(c).toString())), ['{"a":1}\n', '{}\n', '{"type":"summary"}\n']);
  assert.notEqual((chunks[0] as Uint8Array).buffer, b.w.buf.buffer);
});

test('NdjsonBytes: a line far longer than the limit grows the buffer only until it is written', () => {
  const chunks: Uint8Array[] = [];
  const b = new NdjsonBytes((c) => chunks.push(c as Uint8Array), 1024);
  const size = b.w.buf.length;
  b.w.str('x'.repeat(1 << 20));
  b.lineDone();
  assert.equal(chunks[0]!.length, (1 << 20) + 2);
  assert.equal(b.w.buf.length, size);
  b.w.ascii('{}');
  b.flush();
  assert.equal(Buffer.from(chunks[1]!).toString(), '{}');
});

test('a connection line leaves out a ladder as --json does: an empty ladder, its packets counted in elided (every fixture)', async () => {
  let leftOut = 0;
  for (const name of fixtureCaptures()) {
    const { report } = await analyzeFile(name);
    for (const c of report.connections) {
      const want = { type: 'connection', ...jsonConnection(c, false) };
      const line = JSON.parse(connectionLine(c));
      const b = new NdjsonBytes(() => {});
      writeConnectionLine(b.w, c);
      const bytes = JSON.parse(Buffer.from(b.w.buf.subarray(0, b.w.n)).toString('utf8'));
      assert.deepEqual(line, want, `${name} ${c.id}: text line`);
      assert.deepEqual(bytes, want, `${name} ${c.id}: byte line`);
      if (c.findings.length === 0 && c.ladder.length > 0) {
        leftOut++;
        assert.deepEqual(line.ladder, []);
        assert.equal(line.elided, c.elided + c.ladder.length, `${name} ${c.id}: the packets of the ladder left out`);
      }
    }
  }
  assert.ok(leftOut > 0, 'some fixture has a connection without findings');
});
