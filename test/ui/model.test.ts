import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionReport, Finding, Report } from '../../src/model/report.js';
import { findingRows, kindRows, kindTabs, ladderRows, matchesFilter, memoLast, readFraction, timeline } from '../../src/ui/model.js';
import { fixture, reportOf } from './helpers.js';
import { endpointText } from '../../src/model/endpoint.js';

const NAMES = ['close-wait-stuck.pcap', 'rst-linger0.pcap', 'tw-reuse-lower-isn.pcap', 'lost-final-ack-captured.pcap', 'refused.pcap', 'port-reuse-narrow-range.pcap'];
const present = NAMES.map(fixture).filter((f) => !f.skip);
const skip = present.length < 3 ? 'fewer than three of the finding fixtures are recorded' : false;

/** Findings and connections of several real captures in one list (ids prefixed so they stay apart). */
async function merged(): Promise<{ findings: Finding[]; connections: Map<string, ConnectionReport> }> {
  const findings: Finding[] = [];
  const connections = new Map<string, ConnectionReport>();
  for (const f of present) {
    const r: Report = await reportOf(f.path);
    const tag = f.path.replace(/^fixtures\/|\.pcap$/g, '');
    for (const c of r.connections) connections.set(`${tag}/${c.id}`, { ...c, id: `${tag}/${c.id}` });
    for (const x of r.findings) findings.push({ ...x, connection: `${tag}/${x.connection}` });
  }
  return { findings, connections };
}

test('kind rows: counts and worst severity per kind, in the catalog order; tabs start with all', { skip }, async () => {
  const { findings } = await merged();
  const rows = kindRows(findings);
  assert.equal(rows.reduce((a, r) => a + r.count, 0), findings.length);
  for (const r of rows) {
    const mine = findings.filter((f) => f.kind === r.kind);
    assert.equal(r.count, mine.length);
    const rank = { info: 0, warn: 1, error: 2 };
    assert.equal(rank[r.worst], Math.max(...mine.map((f) => rank[f.severity])));
  }
  assert.deepEqual(kindTabs(findings), ['all', ...rows.map((r) => r.kind)]);
});

test('finding rows: each sort key orders as it says, the kind tab narrows', { skip }, async () => {
  const { findings, connections } = await merged();
  const q = { kind: 'all' as const, filter: '' };
  const byTime = findingRows(findings, connections, { ...q, sort: 'time' });
  assert.equal(byTime.length, findings.length);
  for (let i = 1; i < byTime.length; i++) assert.ok(byTime[i - 1]!.finding.time <= byTime[i]!.finding.time);
  const rank = { info: 0, warn: 1, error: 2 };
  const bySev = findingRows(findings, connections, { ...q, sort: 'severity' });
  for (let i = 1; i < bySev.length; i++) assert.ok(rank[bySev[i - 1]!.finding.severity] >= rank[bySev[i]!.finding.severity]);
  const byAge = findingRows(findings, connections, { ...q, sort: 'age' });
  for (let i = 1; i < byAge.length; i++) assert.ok((byAge[i - 1]!.age ?? -1) >= (byAge[i]!.age ?? -1));
  const stuck = byAge.find((r) => r.finding.kind === 'stuck-half-close');
  if (stuck) assert.equal(stuck.age, stuck.finding.details.ageSeconds, 'a CLOSE_WAIT\'s age is how long it has been half-closed');
  const byServer = findingRows(findings, connections, { ...q, sort: 'server' });
  const servers = byServer.map((r) => endpointText(r.connection!.server));
  assert.deepEqual(servers, [...servers].sort(new Intl.Collator('en', { numeric: true }).compare));
  const kind = findings[0]!.kind;
  assert.ok(findingRows(findings, connections, { ...q, kind, sort: 'time' }).every((r) => r.finding.kind === kind));
});

test('filter: addresses, ports, ids and verdict text, every term must match, case-insensitive', { skip }, async () => {
  const { findings, connections } = await merged();
  const f = findings[0]!;
  const c = connections.get(f.connection)!;
  const port = String(c.client.port);
  assert.ok(matchesFilter(f, c, port));
  assert.ok(matchesFilter(f, c, endpointText(c.server)));
  assert.ok(matchesFilter(f, c, f.summary.split(' ')[1]!.toUpperCase()));
  assert.ok(matchesFilter(f, c, `${f.kind}  ${port}`));
  assert.ok(!matchesFilter(f, c, `${port} no-such-word`));
  const rows = findingRows(findings, connections, { kind: 'all', sort: 'time', filter: port });
  assert.ok(rows.length >= 1 && rows.every((r) => `${endpointText(r.connection!.client)} ${endpointText(r.connection!.server)} ${r.finding.summary} ${r.finding.why}`.includes(port)));
});

const TW = fixture('tw-reuse-lower-isn.pcap');

test('ladder: recorded packets in frame order, evidence marked, one "… N packets" row at the gap', { skip: TW.skip }, async () => {
  const r = await reportOf(TW.path);
  const big = r.connections.find((c) => c.elided > 0);
  assert.ok(big, 'the bulk transfer leaves packets out of the ladder');
  const rows = ladderRows(big, r.findings.filter((f) => f.connection === big.id), null);
  const packets = rows.flatMap((x) => (x.type === 'packet' ? [x.p] : []));
  assert.deepEqual(packets.map((p) => p.frame), big.ladder.map((p) => p.frame));
  const gaps = rows.filter((x) => x.type === 'elided');
  assert.equal(gaps.length, 1);
  assert.equal(gaps[0]!.type === 'elided' && gaps[0]!.count, big.elided);
  const at = rows.findIndex((x) => x.type === 'elided');
  const before = rows[at - 1];
  const after = rows[at + 1];
  assert.ok(before?.type === 'packet' && after?.type === 'packet');
  const widest = Math.max(...big.ladder.slice(1).map((p, i) => p.frame - big.ladder[i]!.frame));
  assert.equal(after.p.frame - before.p.frame, widest);
});

test('ladder: evidence from the previous incarnation is set apart by dividers', { skip: TW.skip }, async () => {
  const r = await reportOf(TW.path);
  const f = r.findings.find((x) => x.kind === 'time-wait-reuse');
  assert.ok(f);
  const c = r.connections.find((x) => x.id === f.connection)!;
  const rows = ladderRows(c, [f], f.kind);
  const marked = rows.flatMap((x) => (x.type === 'packet' && x.evidence ? [x.p.frame] : []));
  assert.deepEqual(marked, f.evidence.map((p) => p.frame).sort((a, b) => a - b));
  const foreign = f.evidence.filter((p) => p.frame < c.firstFrame);
  if (foreign.length > 0) {
    assert.equal(rows[0]!.type, 'divider');
    assert.match(rows[0]!.type === 'divider' ? rows[0]!.text : '', new RegExp(`${c.previous}, previous incarnation`));
    const second = rows.findIndex((x, i) => i > 0 && x.type === 'divider');
    assert.equal(second, foreign.length + 1);
  }
});

function conn(times: Partial<ConnectionReport['times']>): ConnectionReport {
  return { times: { halfClosed: null, closed: null, timeWaitUntil: null, reset: null, ...times } } as ConnectionReport;
}

test('timeline bins: the most spans held at one instant per column, resets once in theirs, clamped to the capture', () => {
  const t = timeline([
    conn({ halfClosed: 0, closed: null }),            // half-closed to the end
    conn({ halfClosed: 2, closed: 4.5, timeWaitUntil: 64.5 }),
    conn({ closed: 7, timeWaitUntil: 8, reset: null }),
    conn({ reset: 9.99, closed: 9.99 }),
    conn({ reset: 0 }),
    conn({ halfClosed: -5, closed: -1 }),              // before the capture: not drawn
  ], 0, 10, 10);
  assert.deepEqual(t.halfClosed, [1, 1, 2, 2, 2, 1, 1, 1, 1, 1]);
  assert.deepEqual(t.timeWait, [0, 0, 0, 0, 1, 1, 1, 2, 1, 1], 'a TIME_WAIT that ends at 8 s is gone in the column that starts at 8 s');
  assert.deepEqual(t.reset, [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(t.binSeconds, 1);
  const one = timeline([conn({ reset: 5 })], 5, 5, 4);
  assert.deepEqual(one.reset, [1, 0, 0, 0], 'a zero-length capture puts everything in the first column');
});

test('timeline peak is true concurrency: 17 TIME_WAITs one after another in one wide column are at most 2 at once', () => {
  // Each holds TIME_WAIT for 1 s, one starting every 0.6 s: at most 2 overlap at any instant.
  const conns = Array.from({ length: 17 }, (_, i) => conn({ closed: i * 0.6, timeWaitUntil: i * 0.6 + 1 }));
  const t = timeline(conns, 0, 100, 4);
  assert.equal(Math.max(...t.timeWait), 2);
  assert.equal(t.timeWait[0], 2);
});

test('read fraction: none without a size, an estimate once under way', () => {
  assert.deepEqual(readFraction(100, null, 3), { fraction: null, left: null });
  assert.deepEqual(readFraction(0, 1000, 0), { fraction: 0, left: null });
  const r = readFraction(250, 1000, 10);
  assert.equal(r.fraction, 0.25);
  assert.equal(r.left, 30);
});

test('memoLast recomputes only when an argument changes identity', () => {
  let calls = 0;
  const f = memoLast((a: readonly number[], k: string) => { calls++; return `${a.length}${k}`; });
  const a = [1, 2];
  f(a, 'x'); f(a, 'x');
  assert.equal(calls, 1);
  f([1, 2], 'x'); f([1, 2], 'x');
  assert.equal(calls, 3);
});
