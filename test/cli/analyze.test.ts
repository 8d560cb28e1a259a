import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { analysisThreads } from '../../src/cli/commands/analyze.js';
import { writeBigCapture } from '../helpers/big-capture.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('td-cli-');
function run(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('teardown analyze (CLI)', () => {
  test('--json on a real capture: one object with the verdict, exit 0', () => {
    const r = run(['analyze', 'fixtures/rst-linger0.pcap', '--json']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.version, 1);
    assert.equal(j.capture.format, 'pcap');
    assert.equal(j.connections[0].teardown, 'rst');
    assert.equal(j.findings[0].kind, 'rst-teardown');
    assert.ok(j.findings[0].evidence.length > 0);
  });

  test('--text shows findings with evidence and a Wireshark filter', () => {
    const r = run(['analyze', 'fixtures/lost-final-ack-captured.pcap', '--text']);
    assert.equal(r.code, 0);
    assert.match(r.out, /\[warn\] lost-final-ack/);
    assert.match(r.out, /FIN retransmission \(the captured ACK did not reach it\)/);
    assert.match(r.out, /wireshark: ip\.addr==127\.0\.0\.1/);
  });

  test('--fail-on warn exits 1 when a warn finding exists, 0 when none', () => {
    assert.equal(run(['analyze', 'fixtures/rst-linger0.pcap', '--text', '--fail-on', 'warn']).code, 1);
    assert.equal(run(['analyze', 'fixtures/fin-client-first.pcap', '--text', '--fail-on', 'warn']).code, 0);
    assert.equal(run(['analyze', 'fixtures/close-wait-stuck.pcap', '--text', '--fail-on', 'error']).code, 1);
  });

  test('--half-close-timeout and --time-wait change verdicts', () => {
    const j = JSON.parse(run(['analyze', 'fixtures/close-wait-short.pcap', '--json', '--half-close-timeout', '2']).out);
    assert.equal(j.findings[0].details.stuck, true);
    const w = JSON.parse(run(['analyze', 'fixtures/tw-reuse-higher-isn.pcap', '--json', '--time-wait', 'windows']).out);
    assert.equal(w.settings.timeWait, 240);
    const none = JSON.parse(run(['analyze', 'fixtures/tw-reuse-higher-isn.pcap', '--json', '--time-wait', '0.5']).out);
    assert.equal(none.findings.filter((f: { kind: string }) => f.kind === 'time-wait-reuse').length, 0);
  });

  test('a missing file: one line naming it, exit 2, no stack trace', () => {
    const r = run(['analyze', join(dir, 'nope.pcap'), '--text']);
    assert.equal(r.code, 2);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, /^teardown: .*nope\.pcap: .*no such file/i);
    assert.doesNotMatch(r.err, /\n\s+at /);
  });

  test('not a capture: one line with the byte offset, exit 2', () => {
    const p = join(dir, 'page.html');
    writeFileSync(p, '<html><body>not a capture</body></html>');
    const r = run(['analyze', p, '--text']);
    assert.equal(r.code, 2);
    assert.match(r.err, /page\.html: .*\(at byte 0\)/);
    assert.equal(r.err.trim().split('\n').length, 1);
  });

  test('a truncated capture: findings before the damage are reported, with a warning naming the offset, exit 2', () => {
    const whole = readFileSync('fixtures/rst-linger0.pcap');
    const p = join(dir, 'cut.pcap');
    writeFileSync(p, whole.subarray(0, whole.length - 10));
    const r = run(['analyze', p, '--json']);
    assert.equal(r.code, 2);
    assert.match(r.err, /cut\.pcap: .*\(at byte \d+\)/);
    const j = JSON.parse(r.out);
    assert.equal(j.capture.truncated, true);
    assert.ok(j.capture.packets >= 7);
  });

  test('gzip and standard input give the same verdicts as the file', () => {
    const whole = readFileSync('fixtures/tw-reuse-lower-isn.pcap');
    const base = JSON.parse(run(['analyze', 'fixtures/tw-reuse-lower-isn.pcap', '--json']).out);
    const gz = join(dir, 'x.pcap.gz');
    writeFileSync(gz, gzipSync(whole));
    const fromGz = JSON.parse(run(['analyze', gz, '--json']).out);
    const fromStdin = JSON.parse(run(['analyze', '-', '--json'], whole).out);
    for (const j of [fromGz, fromStdin]) {
      assert.deepEqual(j.findings.map((f: { kind: string; details: unknown }) => [f.kind, f.details]), base.findings.map((f: { kind: string; details: unknown }) => [f.kind, f.details]));
    }
    assert.equal(fromGz.capture.compressed, true);
  });

  test('--text caps findings per kind (worst first) and says how many it left out', () => {
    const r = run(['analyze', 'fixtures/port-reuse-narrow-range.pcap', '--text', '--max-per-kind', '3']);
    assert.equal((r.out.match(/^\[info\] time-wait-reuse/gm) ?? []).length, 3);
    assert.match(r.out, /19 more time-wait-reuse not shown/);
    const all = run(['analyze', 'fixtures/port-reuse-narrow-range.pcap', '--text', '--max-per-kind', '0']);
    assert.equal((all.out.match(/^\[info\] time-wait-reuse/gm) ?? []).length, 22);
  });

  test('--threads: the machine\'s cores by default for --json/--text, one for --ndjson; more than one with --ndjson is a usage error', () => {
    assert.equal(analysisThreads(undefined, true, 8), 8);
    assert.equal(analysisThreads(3, true, 8), 3);
    assert.equal(analysisThreads(undefined, false, 8), 1);
    const one = run(['analyze', 'fixtures/refused.pcap', '--ndjson', '--threads', '1']);
    assert.equal(one.code, 0, one.err);
    assert.match(one.out, /"type":"summary"/);
    const two = run(['analyze', 'fixtures/refused.pcap', '--ndjson', '--threads', '2']);
    assert.equal(two.code, 2);
    assert.match(two.err, /--threads applies to --json and --text only/);
  });

  test('--json with threads on a capture of 30,000 connections (aggregates folded on another thread): the same bytes as one thread', { timeout: 180_000 }, async () => {
    const big = join(dir, 'pairs-aside.pcap');
    await writeBigCapture(big, 1000); // its pair records outgrow the 4 MiB a pair spill holds in memory
    const args = (threads: string) => [process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'analyze', big, '--json', '--threads', threads]] as const;
    const one = spawnSync(...args('1'), { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28 });
    const two = spawnSync(...args('2'), { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28 });
    assert.equal(one.status, 0, one.stderr);
    assert.equal(two.status, 0, two.stderr);
    assert.equal(two.stdout, one.stdout);
    const j = JSON.parse(two.stdout) as { aggregates: { pairs: unknown[]; servers: unknown[] }; summary: { connections: number } };
    assert.equal(j.summary.connections, 30_000);
    assert.ok(j.aggregates.pairs.length > 0 && j.aggregates.servers.length > 0);
  });

  test('usage errors exit 2', () => {
    assert.equal(run(['analyze']).code, 2);
    assert.equal(run(['analyze', 'fixtures/refused.pcap', '--fail-on', 'loud']).code, 2);
    assert.equal(run(['frobnicate']).code, 2);
    assert.equal(run(['analyze', 'fixtures/refused.pcap', '--max-per-kind', '-1']).code, 2);
  });
});
