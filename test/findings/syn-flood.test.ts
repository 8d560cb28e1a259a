import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { analyzeFile } from '../../src/analyze/analyze.js';
import { DistinctCounter } from '../../src/findings/distinct.js';
import { fmix32 as fmix } from '../../src/model/hash.js';
import { FLOOD_MIN_ATTEMPTS } from '../../src/findings/syn-flood.js';
import { textReport } from '../../src/report/text.js';
import { makeHostile } from '../../bench/make-hostile.js';
import { checkReport } from '../fuzz/invariants.js';

// SYN floods and scans are crafted by tools (spoofed sources, no stack behind them): bench/make-hostile.ts
// writes them as such a tool would put them on the wire.
const dir = mkdtempSync(join(tmpdir(), 'teardown-flood-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('syn-flood', () => {
  test('a flood is one finding for its server with exact counts, rate, sources and first/last frames; the table stays bounded', async () => {
    const file = makeHostile({ kind: 'flood', syns: 3000, rate: 100_000, out: join(dir, 'flood.pcap') });
    const { report } = await analyzeFile(file, { maxConnections: 500 });
    checkReport(report, { maxConnections: 500 });
    const floods = report.findings.filter((f) => f.kind === 'syn-flood');
    assert.equal(floods.length, 1);
    const f = floods[0]!;
    assert.equal(f.connection, '');
    assert.equal(f.details.server, '10.0.0.80:80');
    assert.equal(f.details.attempts, 3000);
    assert.equal(f.details.syns, 3000);
    assert.equal(f.details.answered, 0);
    assert.equal(f.details.firstFrame, 1);
    assert.equal(f.details.lastFrame, 3000);
    assert.deepEqual(f.evidence.map((p) => p.frame), [1, 3000]);
    assert.equal(f.details.distinctSourceAddresses, 1);
    const sources = f.details.distinctSources as number;
    assert.ok(Math.abs(sources - 3000) < 3000 * 0.05, `distinct sources ${sources}`); // HyperLogLog past 1024
    assert.ok(Math.abs((f.details.ratePerSecond as number) - 100_000) <= 100, String(f.details.ratePerSecond));
    assert.equal(f.details.countsExact, true);
    assert.deepEqual(report.summary.evicted, { maxConnections: 500, total: 2500, handshakeOnly: 2500, judgedEarly: 0, tombstones: 0 });
    assert.equal(report.connections.length, 500);
    assert.match(textReport(report), /2500 flows evicted under pressure \(--max-connections 500\): 2500 handshake-only dropped, 0 judged early/);
    assert.match(textReport(report), /\[warn\] syn-flood\s+server 10\.0\.0\.80:80/);
  });

  test('a scan (one SYN per port) and a flood below the threshold are not floods', async () => {
    const scan = makeHostile({ kind: 'scan', syns: 3000, rate: 100_000, out: join(dir, 'scan.pcap') });
    const r1 = (await analyzeFile(scan, { maxConnections: 100 })).report;
    checkReport(r1, { maxConnections: 100 });
    assert.equal(r1.findings.filter((f) => f.kind === 'syn-flood').length, 0);
    assert.equal(r1.summary.evicted.handshakeOnly, 2900);
    const few = makeHostile({ kind: 'flood', syns: FLOOD_MIN_ATTEMPTS - 1, rate: 100_000, out: join(dir, 'few.pcap') });
    const r2 = (await analyzeFile(few)).report;
    assert.equal(r2.findings.filter((f) => f.kind === 'syn-flood').length, 0);
    assert.equal(r2.summary.evicted.total, 0);
    assert.equal(textReport(r2).includes('evicted'), false);
    const slow = makeHostile({ kind: 'flood', syns: FLOOD_MIN_ATTEMPTS * 2, rate: 50, out: join(dir, 'slow.pcap') });
    assert.equal((await analyzeFile(slow)).report.findings.filter((f) => f.kind === 'syn-flood').length, 0);
  });

  test('CLI: --max-connections, the flood in --json and the evictions in --ndjson; exit 0', () => {
    const file = makeHostile({ kind: 'flood', syns: 2000, rate: 100_000, out: join(dir, 'cli.pcap') });
    const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'analyze', file, ...args],
      { encoding: 'utf8', cwd: join(import.meta.dirname, '..', '..') });
    const j = run('--json', '--max-connections', '100');
    assert.equal(j.status, 0, j.stderr);
    const r = JSON.parse(j.stdout);
    assert.equal(r.summary.evicted.handshakeOnly, 1900);
    assert.equal(r.findings[0].kind, 'syn-flood');
    const n = run('--ndjson', '--max-connections', '100');
    assert.equal(n.status, 0, n.stderr);
    const lines = n.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const last = lines.at(-1);
    assert.equal(last.type, 'summary');
    assert.equal(last.evicted, 1900);
    assert.equal(last.summary.evicted.handshakeOnly, 1900);
    assert.equal(lines.filter((l) => l.type === 'finding' && l.kind === 'syn-flood').length, 1);
    const bad = run('--max-connections', '0');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--max-connections takes a whole number above 0/);
  });

  test('distinct counts: exact up to 1024 values, then within a few percent', () => {
    const d = new DistinctCounter();
    for (let i = 0; i < 1024; i++) { d.add(fmix(i)); d.add(fmix(i)); }
    assert.equal(d.count(), 1024);
    assert.equal(d.isExact, true);
    for (let i = 1024; i < 200_000; i++) d.add(fmix(i));
    assert.equal(d.isExact, false);
    assert.ok(Math.abs(d.count() - 200_000) < 200_000 * 0.05, String(d.count()));
  });
});
