import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { streamAnalysis } from '../../src/analyze/stream.js';
import { openCapture } from '../../src/capture/open.js';
import { openDb, type Db } from '../../src/results/duckdb.js';
import { ResultsSink } from '../../src/results/sink.js';
import { textReport } from '../../src/report/text.js';
import { allFixtures, analyzeDigest, analyzeJson, analyzeTo, canonical, reportOf, reportOutputs, reportPart } from './util.js';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
}

describe('teardown report', () => {
  let db: Db;
  let tmp: string;
  before(async () => { db = await openDb('test'); tmp = mkdtempSync(join(tmpdir(), 'teardown-report-')); });
  after(() => { db.close(); rmSync(tmp, { recursive: true, force: true }); });

  it('round trip: every field of analyze --json survives --out → report, for every fixture', async () => {
    for (const [i, f] of allFixtures().entries()) {
      const dir = join(tmp, `rt${i}`);
      const report = await analyzeTo(db, f, dir);
      assert.equal(canonical(reportPart(await reportOf(db, [dir]))), canonical(analyzeJson(report)), f);
    }
  });

  it('a live capture\'s frame loss per connection (captureLoss) survives --out → report', async () => {
    const dir = join(tmp, 'loss');
    const { report } = await streamAnalysis(await openCapture('fixtures/close-wait-stuck.pcap'), { sink: {}, packetTickSeconds: null });
    // What the live session sets on a connection open while the capture dropped frames (src/analyze/session.ts).
    report.connections[0]!.captureLoss = 7;
    const sink = new ResultsSink({ dir, db });
    await sink.open();
    await sink.end(report);
    const back = reportPart(await reportOf(db, [dir]));
    assert.equal(canonical(back), canonical(analyzeJson(report)));
    assert.match(JSON.stringify(back), /"captureLoss":7/);
  });

  it('report --json prints analyze --json byte for byte (then its own fields), and report --text the analyze text report', async () => {
    for (const [i, f] of allFixtures().entries()) {
      const dir = join(tmp, `rt${i}`);
      const report = await analyzeTo(db, f, dir);
      const { body, tail, text } = await reportOutputs(db, [dir], 3);
      assert.equal(body, analyzeDigest(report), f);
      assert.match(tail, /^,\n {2}"captures": /, f);
      const alone = textReport(report, { maxPerKind: 3 }).trimEnd();
      assert.equal(text.slice(0, alone.length), alone, f);
      assert.match(text.slice(alone.length), /^(\n|\n\nOver time [^]*)$/, f); // a capture longer than a bucket: the over-time table follows
    }
  });

  it('several captures: per-label breakdowns match each capture analyzed alone', async () => {
    const picks = ['fixtures/close-wait-stuck.pcap', 'fixtures/port-reuse-narrow-range.pcap', 'fixtures/rst-linger0.pcap', 'fixtures/tw-reuse-lower-isn.pcap'];
    const labels = ['api-1', 'lb-1', 'api-2', 'lb-1'];
    const alone = new Map<string, { summary: { connections: number; findings: Record<string, number> }; aggregates: unknown }[]>();
    const dirs: string[] = [];
    for (const [i, f] of picks.entries()) {
      const dir = join(tmp, `many${i}`);
      const r = await analyzeTo(db, f, dir, { label: labels[i] });
      alone.set(labels[i]!, [...(alone.get(labels[i]!) ?? []), r]);
      dirs.push(dir);
    }
    const m = await reportOf(db, dirs);
    assert.deepEqual(m.labels.map((l) => l.label).sort(), ['api-1', 'api-2', 'lb-1']);
    for (const l of m.labels) {
      const rs = alone.get(l.label)!;
      assert.equal(l.captures, rs.length);
      if (rs.length === 1) {
        // One capture under this label: its summary and aggregates are exactly those of the capture alone.
        assert.equal(canonical(l.summary), canonical(rs[0]!.summary), l.label);
        assert.equal(canonical(l.aggregates), canonical(rs[0]!.aggregates), l.label);
      } else {
        assert.equal(l.summary.connections, rs.reduce((s, r) => s + r.summary.connections, 0));
        const kinds: Record<string, number> = {};
        for (const r of rs) for (const [k, n] of Object.entries(r.summary.findings)) kinds[k] = (kinds[k] ?? 0) + n;
        assert.equal(canonical(l.summary.findings), canonical(kinds));
      }
    }
    assert.equal(m.summary.connections, [...alone.values()].flat().reduce((s, r) => s + r.summary.connections, 0));
    assert.equal(m.captures.length, 4);
    // Ids are unique across captures, and every finding points at a connection of its own capture.
    const ids = new Set(m.connections.map((c) => c.id));
    assert.equal(ids.size, m.connections.length);
    for (const f of m.findings) assert.ok(ids.has(f.connection));
    const tw = m.findings.filter((f) => f.kind === 'time-wait-reuse');
    assert.ok(tw.length > 0);
    for (const f of tw) {
      const c = m.connections.find((x) => x.id === f.connection)!;
      assert.equal(f.details.previous, c.previous, 'details.previous follows the renumbering');
      assert.ok(f.summary.includes(c.previous!), f.summary);
    }
  });

  it('captures of different formats: the header names each (mixed: 1 pcap, 1 pcapng, 1 pcap (gzip)), captures[] carries format and gzip', async () => {
    const picks = ['fixtures/close-wait-stuck.pcap', 'fixtures/fin-client-first.pcapng', 'fixtures/field/scapy/http_tcp_psh.pcap.gz'];
    const dirs: string[] = [];
    for (const [i, f] of picks.entries()) { dirs.push(join(tmp, `fmt${i}`)); await analyzeTo(db, f, dirs[i]!); }
    const { text, tail } = await reportOutputs(db, dirs);
    const head = text.split('\n')[0]!;
    const mixed = /— 3 captures \(mixed: ([^)]*(?:\(gzip\))?[^)]*), Ethernet/.exec(head);
    assert.ok(mixed, head);
    assert.deepEqual(mixed[1]!.split(', ').sort(), ['1 pcap', '1 pcap (gzip)', '1 pcapng'], head);
    const m = JSON.parse(`{${tail.slice(1)}`) as { captures: { capture: string; format: string; compressed: boolean }[] };
    assert.deepEqual(m.captures.map((c) => [c.capture, c.format, c.compressed]).sort(), [
      ['fixtures/close-wait-stuck.pcap', 'pcap', false], ['fixtures/field/scapy/http_tcp_psh.pcap.gz', 'pcap', true], ['fixtures/fin-client-first.pcapng', 'pcapng', false],
    ]);
    // One format: said as for one capture.
    await analyzeTo(db, 'fixtures/rst-linger0.pcap', join(tmp, 'fmt3'));
    assert.match((await reportOutputs(db, [dirs[0]!, join(tmp, 'fmt3')])).text.split('\n')[0]!, /— 2 captures \(pcap, /);
  });

  it('--sql runs over the views connections and findings', () => {
    const a = join(tmp, 'sql-a');
    const b = join(tmp, 'sql-b');
    assert.equal(cli('analyze', 'fixtures/port-reuse-narrow-range.pcap', '--out', a, '--label', 'lb').status, 0);
    assert.equal(cli('analyze', 'fixtures/close-wait-stuck.pcap', '--out', b, '--label', 'api').status, 0);
    const r = cli('report', a, b, '--sql', "SELECT label, kind, count(*) AS n FROM findings GROUP BY ALL ORDER BY label, kind");
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'label\tkind\tn');
    const lb = JSON.parse(readFileSync(join(a, 'run.json'), 'utf8')) as { summary: { findings: Record<string, number> } };
    for (const [k, n] of Object.entries(lb.summary.findings)) assert.ok(lines.includes(`lb\t${k}\t${n}`), `${k} ${n} in\n${r.stdout}`);
    assert.ok(lines.some((l) => l.startsWith('api\tstuck-half-close\t')), r.stdout);
    const j = cli('report', a, b, '--json', '--sql', 'SELECT count(*) AS n, sum(packets) AS p FROM connections');
    const row = JSON.parse(j.stdout) as { n: number; p: number };
    assert.equal(typeof row.n, 'number');
    assert.ok(row.n > 0 && row.p > row.n);
    const bad = cli('report', a, '--sql', 'SELECT nope FROM connections');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^teardown: --sql: .*nope/);
  });

  it('an older schema version, a missing file or a corrupt Parquet: one line naming the file, exit 2', async () => {
    const good = join(tmp, 'good');
    await analyzeTo(db, 'fixtures/rst-linger0.pcap', good);
    const variant = (name: string, damage: (dir: string) => void): string => {
      const dir = join(tmp, name);
      cpSync(good, dir, { recursive: true });
      damage(dir);
      return dir;
    };
    const old = variant('old', (d) => {
      const run = JSON.parse(readFileSync(join(d, 'run.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(d, 'run.json'), JSON.stringify({ ...run, schema: 0 }));
    });
    const missing = variant('missing', (d) => rmSync(join(d, 'findings.parquet')));
    const corrupt = variant('corrupt', (d) => truncateSync(join(d, 'connections.parquet'), 100));
    const garbage = variant('garbage', (d) => writeFileSync(join(d, 'findings.parquet'), 'PAR1 not really'));
    const noRun = variant('norun', (d) => rmSync(join(d, 'run.json')));
    const cases: [string, string, RegExp][] = [
      [old, join(old, 'run.json'), /schema version 0/],
      [missing, join(missing, 'findings.parquet'), /missing/],
      [corrupt, join(corrupt, 'connections.parquet'), /not a readable Parquet file/],
      [garbage, join(garbage, 'findings.parquet'), /not a readable Parquet file/],
      [noRun, join(noRun, 'run.json'), /missing/],
    ];
    for (const [dir, file, why] of cases) {
      const r = cli('report', good, dir);
      assert.equal(r.status, 2, `${dir}: ${r.stderr}`);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0]!.startsWith(`teardown: ${file}: `), r.stderr);
      assert.match(lines[0]!, why);
      assert.equal(r.stdout, '');
    }
  });
});
