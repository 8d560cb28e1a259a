/**
 * SIGINT/SIGTERM during `teardown analyze --json/--text/--ndjson`, from a file (a named pipe, so the run is still
 * reading when the signal comes, without timing) and from standard input: one line on stderr, the report of what
 * was read marked interrupted with the frame count, exit 130 (SIGINT) or 143 (SIGTERM).
 *
 * The input is written in two parts; the signal is sent once the first part has been consumed (the pipe accepted
 * more than its capacity beyond it), while the tool waits for the rest.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bigCapture } from '../helpers/big-capture.js';
import { tempDir } from '../helpers/temp-dir.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = tempDir('td-interrupt-');
after(() => rmSync(dir, { recursive: true, force: true }));

const PIPE_SLACK = 1 << 20; // more than a pipe (64 KiB) plus a read chunk (1 MiB) can hold unread

async function writeAll(w: Writable, b: Buffer): Promise<void> {
  if (!w.write(b)) await once(w, 'drain');
}

let capture: Buffer | null = null;
async function input(): Promise<Buffer> {
  capture ??= await bigCapture(200); // 60,000 packets, ~6 MB
  return capture;
}

for (const mode of ['--json', '--text', '--ndjson'] as const) {
  for (const from of ['file', 'stdin'] as const) {
    const sig = mode === '--text' ? 'SIGTERM' : 'SIGINT';
    test(`${sig} during analyze ${mode} from ${from}: one line, the report of what was read marked interrupted, exit ${sig === "SIGINT" ? 130 : 143}`, { timeout: 180_000 }, async () => {
      const cap = await input();
      const fifo = join(dir, `in-${mode.slice(2)}-${from}.pcap`);
      if (from === 'file') spawnSync('mkfifo', [fifo]);
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'analyze', from === 'file' ? fifo : '-', mode],
        { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const sink: Writable = from === 'file' ? createWriteStream(fifo) : child.stdin;
      sink.on('error', () => undefined);
      // First part: the file header and the first half of the records; the tool reads and analyzes it. Then enough
      // more that the first part must have been consumed for these writes to be accepted. (A tool that exited
      // meanwhile fails the test with what it said.)
      const half = Math.floor(cap.length / 2);
      const early = exited.then((c) => { throw new Error(`exited early (${c}): ${err}`); });
      await Promise.race([(async () => {
        await writeAll(sink, cap.subarray(0, half));
        await writeAll(sink, cap.subarray(half, half + PIPE_SLACK));
      })(), early]);
      early.catch(() => undefined);
      child.kill(sig);
      const code = await exited;
      sink.destroy();
      assert.equal(code, sig === 'SIGINT' ? 130 : 143, err);
      const lines = err.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, err);
      const m = /^teardown: interrupted by (SIGINT|SIGTERM) after (\d+) packets: the report covers what was read$/.exec(lines[0]!);
      assert.ok(m, lines[0]);
      assert.equal(m[1], sig);
      const frames = Number(m[2]);
      // At least the first part was read (records are ~100 bytes: tens of thousands of packets), not all of it.
      assert.ok(frames > 20_000 && frames < 60_000, `${frames} packets`);
      if (mode === '--text') {
        assert.match(out, new RegExp(`^  INTERRUPTED after ${frames} packets: the report covers what was read$`, "m"));
        assert.match(out, new RegExp(`^  ${frames} packets \\(`, 'm'));
      } else {
        const capture = mode === '--json' ? JSON.parse(out).capture : JSON.parse(out.trim().split('\n').at(-1)!).capture;
        assert.equal(capture.interrupted, true);
        assert.equal(capture.truncated, true);
        assert.equal(capture.packets, frames);
      }
    });
  }
}

/** Bytes the process has read so far (all files), from /proc/PID/io. */
function bytesRead(pid: number): number {
  return Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
}

test('SIGTERM while a named pipe\'s writer stays open and silent: the tool exits at once, not when the writer closes', { timeout: 180_000 }, async () => {
  const cap = await input();
  const fifo = join(dir, 'in-silent-writer.pcap');
  spawnSync('mkfifo', [fifo]);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'analyze', fifo, '--json'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stdout.resume();
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const sink = createWriteStream(fifo);
  sink.on('error', () => undefined);
  try {
    // Part of the capture, then nothing more while the pipe stays open: once the tool has read all of it, its next
    // read waits for data that does not come.
    await writeAll(sink, cap.subarray(0, Math.floor(cap.length / 2)));
    let last = -1;
    for (let now = bytesRead(child.pid!); now !== last; now = bytesRead(child.pid!)) {
      last = now;
      await new Promise((r) => setTimeout(r, 1000));
    }
    child.kill('SIGTERM');
    // The writer stays open for as long as the test allows: a tool whose exit waits for a read of the pipe to return
    // never ends within it.
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running 60 s after SIGTERM'), 60_000))]);
    assert.equal(code, 143, `${code} ${err}`);
    assert.match(err, /^teardown: interrupted by SIGTERM after \d+ packets: the report covers what was read\n$/);
  } finally {
    sink.destroy();
    child.kill('SIGKILL');
  }
});
