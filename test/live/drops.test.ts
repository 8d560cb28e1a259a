/**
 * Live drop accounting, as root inside a private network namespace: a real capture replayed with tcpreplay onto
 * one end of a veth pair, `teardown live` on the other end (a veth counts each packet once, unlike loopback).
 *
 * Kernel drops: teardown is stopped (SIGSTOP: neither its capture thread nor its analysis runs) while 20,000
 * packets are replayed into a 1 MiB libpcap buffer, so nearly all of them are lost in the kernel; after SIGCONT and
 * SIGINT the summary must show libpcap's own counters: a drop figure of the right order (the buffer holds a few
 * hundred frames at most) and an exact balance, received = kernel drops + delivered, delivered = analyzed + ring.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createNetns, exitWithin, MAIN, ndjson, netnsUnavailable, nodeArgs, replay, start, vethPair } from './netns.js';

function tcpreplayUnavailable(): string | null {
  const r = spawnSync('tcpreplay', ['-V'], { encoding: 'utf8' });
  return r.error === undefined ? null : 'tcpreplay is not installed: apt-get install tcpreplay';
}
const skip = netnsUnavailable() ?? tcpreplayUnavailable();

test('kernel drops while teardown cannot keep up: libpcap counters, right order of magnitude, exact balance', { skip: skip ?? false, timeout: 120_000 }, async () => {
  const ns = createNetns();
  const live = start(ns.exec(nodeArgs(MAIN, ['live', '-i', 'td1', '-f', 'tcp', '--buffer-size', '1'])));
  try {
    vethPair(ns);
    await live.waitFor('stderr', /capturing on td1/, 15_000);
    live.kill('SIGSTOP');
    const sent = replay(ns, 20_000, 20_000);
    assert.equal(sent, 20_000);
    live.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 1000));
    live.kill('SIGINT');
    assert.equal(await exitWithin(live, 30_000), 0, live.stderr);
  } finally {
    live.kill('SIGCONT');
    live.kill('SIGKILL');
    ns.delete();
  }
  const sum = ndjson(live.stdout).at(-1)!;
  assert.equal(sum.type, 'summary');
  const d = sum.live.dropCounters as { source: string; received: number; kernel: number; interface: number; ring: number; delivered: number };
  const analyzed = sum.capture.tcpPackets as number;
  assert.equal(d.source, 'libpcap');
  // Every replayed packet reached libpcap's counter (a veth counts it once; the filter passes only TCP).
  assert.equal(d.received, 20_000, JSON.stringify(d));
  // Order of magnitude: a 1 MiB buffer holds hundreds of frames, not thousands: almost everything was dropped.
  assert.ok(d.kernel >= 15_000 && d.kernel < 20_000, JSON.stringify(d));
  assert.ok(analyzed > 0 && analyzed <= 5_000, `${analyzed} analyzed`);
  // Exact balance.
  // received = kernel drops + delivered + frames still in libpcap's buffer when the capture stopped (neither dropped
  // nor read: at most what the buffer held at that instant).
  const inBufferAtStop = d.received - d.kernel - d.delivered;
  assert.ok(inBufferAtStop >= 0 && inBufferAtStop <= 5_000, JSON.stringify(d));
  assert.equal(d.delivered, analyzed + d.ring, JSON.stringify(d));
  assert.equal(sum.capture.drops, d.kernel + d.interface + d.ring);
  assert.equal(sum.live.drops, sum.capture.drops);
  // Connections open when frames were lost say so, in their report and in their findings.
  const lines = ndjson(live.stdout);
  const lossy = lines.filter((l) => l.type === 'connection' && l.captureLoss > 0);
  assert.ok(lossy.length > 0, 'connections open during the loss are marked');
  for (const f of lines.filter((l) => l.type === 'finding' && lossy.some((c) => c.id === l.connection))) {
    assert.ok(f.details.captureLoss > 0);
    assert.match(f.why, /The capture dropped \d+ packets? while this connection was open/);
  }
  // Said on stderr too, with the figure.
  assert.match(live.stderr, new RegExp(`stopped \\(SIGINT\\) after .*; ${sum.capture.drops} packets dropped \\(${d.kernel} by the kernel buffer`));
});

test('a stalled reader of the NDJSON output: the analysis waits, the capture thread goes on, the ring drops are counted', { skip: skip ?? false, timeout: 120_000 }, async () => {
  const ns = createNetns();
  // A 1 MiB ring; every connection line carries its ladder and --max-connections 1 ends connections at once, so the
  // output fills the pipe within the first packets. One analysis thread: with more, the frames first wait in the
  // analysis threads' rings (LIVE_THREAD_RING each, more than these 40,000 frames) before the capture ring fills.
  const live = start(ns.exec(nodeArgs(MAIN, ['live', '-i', 'td1', '-f', 'tcp', '--buffer-size', '16', '--ring-size', '1', '--max-connections', '1', '--ladders', 'all', '--threads', '1'])));
  let peak = 0;
  try {
    vethPair(ns);
    await live.waitFor('stderr', /capturing on td1/, 15_000);
    live.child.stdout!.pause();
    const sent = replay(ns, 20_000, 40_000);
    assert.equal(sent, 40_000);
    peak = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${live.child.pid}/status`, 'utf8'))![1]) / 1024;
    live.child.stdout!.resume();
    live.kill('SIGINT');
    assert.equal(await exitWithin(live, 60_000), 0, live.stderr);
  } finally {
    live.kill('SIGKILL');
    ns.delete();
  }
  const sum = ndjson(live.stdout).at(-1)!;
  const d = sum.live.dropCounters as { received: number; kernel: number; interface: number; ring: number; delivered: number };
  const analyzed = sum.capture.tcpPackets as number;
  assert.equal(d.received, 40_000, JSON.stringify(d));
  // The ring holds ~9,000 of these frames, the pipe a few hundred lines' worth: the capture thread kept reading after
  // the ring filled, so the ring dropped frames. How many it dropped rather than the kernel depends on how much CPU
  // the capture thread got while the machine was loaded, so only the direction is asserted, not a share.
  assert.ok(d.ring > 0 && d.ring < 40_000, JSON.stringify(d));
  // Analyzed: the frames read before the gate closed (the chunks up to the first whose lines the socket would not take:
  // at most about one ring, ~9,000 frames, after a short first one) plus the ring's content, drained once the reader
  // resumed (~9,000): about 20,000 on a loaded machine. Without the wait the loop would read on, nearly all 40,000.
  assert.ok(analyzed < 30_000, `${analyzed} analyzed`);
  // received = kernel drops + delivered + frames still in libpcap's buffer when the capture stopped (neither dropped
  // nor read: at most what the buffer held at that instant).
  const inBufferAtStop = d.received - d.kernel - d.delivered;
  assert.ok(inBufferAtStop >= 0 && inBufferAtStop <= 5_000, JSON.stringify(d));
  assert.equal(d.delivered, analyzed + d.ring, JSON.stringify(d));
  assert.equal(sum.capture.drops, d.kernel + d.interface + d.ring);
  // Memory stayed bounded while the reader stalled (the output waited in the pipe, not in the process; libpcap's
  // 16 MiB buffer is mapped into it).
  assert.ok(peak < 300, `peak RSS ${peak.toFixed(0)} MiB`);
});
