/**
 * No way to die with a stack trace: output that fails (ENOSPC on stdout, a reader that closes the pipe), a bug in
 * the analysis, the heap nearing its limit. Each ends with one line on stderr and exit 2, and whatever report can
 * still be written is written.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { manyConnections, writeBigCapture } from '../helpers/big-capture.js';
import { toPcap } from '../helpers/rewrite.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'td-failures-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const FIXTURE = 'fixtures/port-reuse-narrow-range.pcap';

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${stderr}`);
  assert.doesNotMatch(lines[0]!, /^\s+at |node:internal|\.ts:\d+/);
  return lines[0]!;
}

test('a full disk on stdout (ENOSPC, /dev/full): one line, exit 2, for --json, --text and --ndjson', () => {
  for (const mode of ['--json', '--text', '--ndjson']) {
    const fd = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'analyze', FIXTURE, mode],
        { cwd: ROOT, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 2, `${mode}: ${r.stderr}`);
      assert.match(oneLine(r.stderr), /^teardown: stdout: ENOSPC: no space left on device/);
    } finally {
      closeSync(fd);
    }
  }
});

/** Why the full-temporary-directory test cannot run here (it mounts a small tmpfs in a private mount namespace), or null. */
function noTmpfs(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (a tmpfs mounted in a private mount namespace): run as root, as CI does';
  const r = spawnSync('unshare', ['--mount', 'true']);
  return r.status === 0 ? null : `unshare --mount does not work here (${r.error?.message ?? r.stderr.toString().trim()})`;
}

test('a full temporary directory (ENOSPC): one line naming it and TMPDIR, exit 2, no report, nothing left in it', { skip: noTmpfs() ?? false, timeout: 180_000 }, async () => {
  const big = join(dir, 'spill.pcap');
  await writeBigCapture(big, 300); // 90,000 packets, 9,000 connections: ~20 MB of connection JSON to spill
  // 14,000 copies of a real connection on ports of their own, 5 ms apart: --text spills no JSON, but the analysis
  // threads' stores of judged connections (kept 120 s of capture time) outgrow their 1 MiB in memory.
  const copies = join(dir, 'copies.pcap');
  writeFileSync(copies, toPcap(await manyConnections(14_000, 5_000_000n)));
  const tmp = join(dir, 'tmpfs');
  mkdirSync(tmp);
  // A 64 KiB tmpfs as TMPDIR, in a mount namespace of the child's own; what is left in it is listed on stderr after
  // the run. tsx's cache is off (it would write to TMPDIR too).
  const script = 'mount -t tmpfs -o size=64k tmpfs "$0" || exit 99; TMPDIR="$0" "$@"; rc=$?; echo "left: $(ls -A "$0" | tr "\\n" " ")" >&2; exit $rc';
  const runs: [string, string[]][] = [[big, ['--json']], [big, ['--json', '--threads', '1']], [big, ['--json', '--threads', '3']],
    [copies, ['--text']], [copies, ['--text', '--threads', '1']], [copies, ['--text', '--threads', '3']]];
  for (const [capture, mode] of runs) {
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, tmp,
      process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'analyze', capture, ...mode],
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28, env: { ...process.env, TSX_DISABLE_CACHE: '1' } });
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.pop(), 'left: ', `${mode.join(' ')}: the temporary files are removed\n${r.stderr}`);
    assert.equal(r.status, 2, `${mode.join(' ')}: ${r.stderr}`);
    const line = oneLine(lines.join('\n'));
    assert.ok(line.startsWith(`teardown: ${capture}: the temporary directory ${tmp} is full (ENOSPC): set TMPDIR to a directory with more free space`), `${mode.join(' ')}: ${line}`);
    // How much room: the --json spool holds the report's JSON, which can be several times the capture (ladders).
    assert.ok(line.includes('(--json needs about its report\'s size there, often more than the capture\'s; --text about a tenth of the capture\'s)'), line);
    // One thread knows the frame and its place in the file; the analysis threads' stores (--text) the frame.
    if (mode[2] === '1') assert.match(line, /; reading stopped at frame \d+ \(at byte \d+\)$/);
    else if (mode[0] === '--text') assert.match(line, /; reading stopped at frame \d+$/);
    // A spill that could not be written lost a record: no report of a part of it.
    assert.equal(r.stdout, '', mode.join(' '));
  }
});

test('a temporary directory that is missing or not a directory: one line saying so and what TMPDIR should be, exit 2, no report', { timeout: 180_000 }, async () => {
  const big = join(dir, 'spill-missing.pcap');
  await writeBigCapture(big, 300); // its --json spills: a temporary directory is needed
  const cases: [string, RegExp][] = [
    [join(dir, 'no-such-dir'), /the temporary directory \S+no-such-dir does not exist \(ENOENT\): set TMPDIR to a directory that does/],
    [big, /the temporary directory \S+spill-missing\.pcap is not a directory \(ENOTDIR\): set TMPDIR to a directory/],
  ];
  for (const [tmp, want] of cases) {
    for (const threads of ['1', '2']) {
      // (tsx's cache is off: it would use TMPDIR too)
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'analyze', big, '--json', '--threads', threads],
        { cwd: ROOT, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28, env: { ...process.env, TMPDIR: tmp, TSX_DISABLE_CACHE: '1' } });
      assert.equal(r.status, 2, `--threads ${threads}: ${r.stderr}`);
      assert.match(oneLine(r.stderr), want, `--threads ${threads}`);
      assert.equal(r.stdout, '', `--threads ${threads}`);
    }
  }
});

test('a temporary directory that fills while the JSON is written: the line names the capture and says what stdout holds, exit 2', () => {
  const helper = fileURLToPath(new URL('../helpers/full-temp-at-output.ts', import.meta.url));
  const tmp = join(dir, 'output-tmp');
  mkdirSync(tmp, { recursive: true });
  for (const [at, holds] of [['handoff', 'no report was written'], ['thread', 'the JSON on stdout stops short of its end']]) {
    // Two threads: the aggregates are folded aside (the helper fails that hand-off, or the thread's result).
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', helper, 'src/cli/main.ts', 'analyze', FIXTURE, '--json', '--threads', '2'],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, TD_FULL_AT: at, TMPDIR: tmp, TSX_DISABLE_CACHE: '1' } });
    assert.equal(r.status, 2, `${at}: ${r.stderr}`);
    assert.equal(oneLine(r.stderr), `teardown: ${FIXTURE}: the temporary directory ${tmp} is full (ENOSPC): set TMPDIR to a directory with more free space`
      + ` (--json needs about its report's size there, often more than the capture's; --text about a tenth of the capture's); ${holds}`, at);
    if (at === 'handoff') assert.equal(r.stdout, '');
    else {
      // The head, the connections and the findings went out; the aggregates did not.
      assert.match(r.stdout, /^\{\n  "version": 1,/);
      assert.match(r.stdout, /\n  "findings": \[/);
      assert.doesNotMatch(r.stdout, /"aggregates"/);
    }
  }
});

test('a reader that closes the pipe early (EPIPE) during --ndjson: one line, exit 2', { timeout: 120_000 }, async () => {
  const big = join(dir, 'epipe.pcap');
  await writeBigCapture(big, 300);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'analyze', big, '--ndjson'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  // Read the first chunk, then go away (as `| head -1` does).
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 2, err);
  assert.equal(oneLine(err), 'teardown: stdout: the reader closed the pipe (EPIPE); stopped');
});

test('the analysis failing on a frame (a bug): one line naming the frame, exit 2, the report of the frames before', () => {
  const helper = fileURLToPath(new URL('../helpers/throwing-detector.ts', import.meta.url));
  for (const mode of ['--json', '--ndjson', '--text']) {
    // The helper patches this thread's session: one analysis thread (--threads N workers are not patched).
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', helper, 'src/cli/main.ts', 'analyze', FIXTURE, mode, ...(mode === '--ndjson' ? [] : ['--threads', '1'])],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, TD_THROW_AT: '150' } });
    assert.equal(r.status, 2, `${mode}: ${r.stderr}`);
    assert.match(oneLine(r.stderr), /^teardown: fixtures\/port-reuse-narrow-range\.pcap: the analysis failed on frame 150: TypeError: Cannot read properties of undefined \(reading 'seq'\) \(at byte \d+\) — reporting the 149 packets before it$/);
    if (mode === '--text') {
      assert.match(r.stdout, /^  149 packets \(149 TCP\)/m);
      assert.match(r.stdout, /reading stopped, analysis covers what came before/);
    } else {
      const capture = mode === '--json' ? JSON.parse(r.stdout).capture : JSON.parse(r.stdout.trim().split('\n').at(-1)!).capture;
      assert.equal(capture.packets, 149);
      assert.equal(capture.truncated, true);
      assert.match(capture.error, /the analysis failed on frame 150/);
    }
  }
});

test('judged connections stream out: 300,000 packets and 30,000 connections fit a 64 MiB heap (the whole report did not)', { timeout: 180_000 }, async () => {
  const big = join(dir, 'heap.pcap');
  const total = await writeBigCapture(big, 1000); // 300,000 packets, 30,000 connections
  const r = spawnSync(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', 'src/cli/main.ts', 'analyze', big, '--json'],
    { cwd: ROOT, encoding: 'utf8', timeout: 170_000, maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, r.stderr.slice(0, 2000));
  assert.equal(r.stderr, '');
  const report = JSON.parse(r.stdout);
  assert.equal(report.capture.packets, total);
  assert.equal(report.capture.truncated, false);
  assert.equal(report.connections.length, 30_000);
  assert.equal(report.summary.connections, 30_000);
});
