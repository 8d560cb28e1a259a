/**
 * A reader that stalls must not make teardown's memory grow without bound: `analyze --ndjson` into a pipe nobody
 * reads waits for the pipe instead of buffering the rest of its output. Measured from outside: the process's peak
 * resident memory (VmHWM) once it has stopped using CPU, against generous bounds; no timing is asserted.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeBigCapture } from '../helpers/big-capture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'td-backpressure-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

test('NDJSON into a stalled pipe: the output waits (bounded memory), then everything arrives once read', { timeout: 300_000 }, async () => {
  const big = join(dir, 'big.pcap');
  const total = await writeBigCapture(big, 1000); // 300,000 packets, 30,000 connections: ~60 MB of NDJSON
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'analyze', big, '--ndjson'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdout.pause(); // the reader stalls: nothing is read until the writer has stopped
  let exitedEarly = false;
  void exited.then(() => { exitedEarly = true; });
  // Wait until the process no longer uses CPU (blocked on the full pipe, or done and holding its output).
  let last = -1;
  let still = 0;
  let peak = 0;
  while (still < 8 && !exitedEarly) {
    await new Promise((r) => setTimeout(r, 250));
    const t = cpuTicks(child.pid!);
    peak = peakRssMiB(child.pid!);
    still = t === last ? still + 1 : 0;
    last = t;
  }
  assert.equal(exitedEarly, false, 'it cannot finish while its output is not read');
  // The analysis of 300,000 packets with all of its output held in memory peaks far above this (several hundred
  // MiB); waiting for the pipe keeps it near the start-up footprint.
  assert.ok(peak < 250, `peak RSS ${peak.toFixed(0)} MiB while the reader stalled`);
  // Now read everything: the run completes with the full report.
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stdout.resume();
  assert.equal(await exited, 0, err);
  const summary = JSON.parse(out.trim().split('\n').at(-1)!);
  assert.equal(summary.type, 'summary');
  assert.equal(summary.capture.packets, total);
  assert.equal(summary.summary.connections, 30_000);
});
