/**
 * `teardown live` end to end, as root inside a private network namespace: real client/server scenarios on that
 * namespace's loopback (test/live/scenarios.ts), the NDJSON stream, SIGINT, and the -w file re-analyzed offline.
 */
import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeFile } from '../../src/analyze/analyze.js';
import { PcapParser } from '../../src/capture/pcap.js';
import { readFileSync } from 'node:fs';
import { createNetns, exitWithin, MAIN, ndjson, netnsUnavailable, nodeArgs, start } from './netns.js';
import { connectionJson } from '../../src/model/json.js';

const skip = netnsUnavailable();

test('live on a namespace loopback: stuck half-close on the clock, linger-0 abort, TIME_WAIT reuse; -w re-analyzed offline agrees', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const ns = createNetns();
  const pcap = join(tmpdir(), `td-live-${process.pid}.pcap`);
  const live = start(ns.exec(nodeArgs(MAIN, ['live', '-i', 'lo', '-f', 'tcp', '-w', pcap, '--half-close-timeout', '1'])));
  let scen: ReturnType<typeof start> | null = null;
  try {
    await live.waitFor('stderr', /capturing on lo/, 15_000);
    scen = start(ns.exec(nodeArgs('test/live/scenarios.ts', ['stuck', 'pause', 'abort', 'reuse', 'bulk'])), { stdin: 'pipe' });
    // The half-close must be announced by the clock alone: the scenarios pause (no packets) until it is.
    await scen.waitFor('stdout', /@@paused/, 15_000);
    await live.waitFor('stdout', /"kind":"stuck-half-close"/, 15_000);
    scen.child.stdin?.write('go\n');
    await scen.waitFor('stdout', /@@done/, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    live.kill('SIGINT');
    const code = await exitWithin(live, 15_000);
    assert.equal(code, 0, live.stderr);
  } finally {
    live.kill('SIGKILL');
    scen?.kill('SIGKILL');
    ns.delete();
  }
  try {
    const played = ndjson(scen.stdout.replace(/@@\w+/g, ''));
    const serverOf = (name: string): string => played.find((p) => p.scenario === name)?.server as string;
    const lines = ndjson(live.stdout);
    const types = lines.map((l) => l.type);
    assert.equal(types.at(-1), 'summary', 'the summary line comes last');
    assert.equal(types.filter((t) => t === 'summary').length, 1);
    const conns = lines.filter((l) => l.type === 'connection');
    const findings = lines.filter((l) => l.type === 'finding');
    const connOf = (id: string) => conns.find((c) => c.id === id);
    const on = (kind: string, server: string) => findings.filter((f) => f.kind === kind && connOf(f.connection)?.server === server);

    // Stuck half-close: announced on the clock (provisional: the connection was still open), not repeated later.
    const stuck = on('stuck-half-close', serverOf('stuck'));
    assert.equal(stuck.length, 1, JSON.stringify(findings.map((f) => [f.kind, f.connection, f.final])));
    assert.equal(stuck[0]!.final, false);
    assert.equal(stuck[0]!.details.stuck, true);
    assert.equal(stuck[0]!.details.stuckSide, 'server');
    const stuckConn = conns.find((c) => c.server === serverOf('stuck'))!;
    assert.deepEqual(stuckConn.states, { client: 'FIN_WAIT_2', server: 'CLOSE_WAIT' });
    assert.ok(stuckConn.findings.includes('stuck-half-close'));

    // Linger-0 abort: RST from a live socket, class abort.
    const rst = on('rst-teardown', serverOf('abort'));
    assert.equal(rst.length, 1);
    assert.equal(rst[0]!.details.class, 'abort');
    assert.equal(rst[0]!.details.by, 'client');
    assert.equal(rst[0]!.final, true);

    // TIME_WAIT reuse: the server closed first and holds TIME_WAIT; the SYN from the same port was accepted.
    const reuse = on('time-wait-reuse', serverOf('reuse'));
    assert.equal(reuse.length, 1);
    assert.equal(reuse[0]!.details.holder, 'server');
    assert.equal(reuse[0]!.details.outcome, 'accepted');
    const reusePort = (played.find((p) => p.scenario === 'reuse')?.clientPorts as number[])[0];
    assert.equal(conns.filter((c) => c.server === serverOf('reuse') && c.client === `127.0.0.1:${reusePort}`).length, 2);

    // Bulk: segments longer than the snaplen were cut but every payload byte is counted (IP lengths).
    const bulk = conns.find((c) => c.server === serverOf('bulk'))!;
    assert.equal(bulk.bytes.c2s, 1024 * 1024);
    assert.equal(bulk.teardown, 'fin');

    const summary = lines.at(-1)!;
    assert.equal(summary.capture.format, 'live');
    assert.equal(summary.live.stoppedBy, 'SIGINT');
    assert.equal(summary.live.timestamps, 'kernel');
    // Drop accounting from libpcap's counters and the ring: nothing lost at this rate; every frame libpcap handed
    // over was analyzed (the packets count has the end marker on top).
    assert.equal(summary.capture.drops, 0);
    assert.equal(summary.live.dropCounters.source, 'libpcap');
    assert.equal(summary.live.dropCounters.ring, 0);
    assert.equal(summary.live.dropCounters.kernel, 0);
    assert.equal(summary.live.dropCounters.delivered, summary.capture.packets - 1);
    // Loopback shows each packet leaving and arriving; only the arriving copy is taken (the kernel is asked not to
    // copy the other), so `received` counts each packet once and the balance holds on lo too.
    assert.equal(summary.live.dropCounters.received, summary.live.dropCounters.delivered);
    const sidecar = JSON.parse(readFileSync(`${pcap}.drops.json`, 'utf8')) as Record<string, any>;
    assert.equal(sidecar.drops, 0);
    assert.deepEqual(sidecar.dropCounters, summary.live.dropCounters);
    assert.equal(sidecar.frames, summary.live.pcapFrames);
    assert.equal(summary.live.pcapFrames, summary.capture.packets);
    assert.equal(summary.summary.connections, conns.length);

    // The -w file: a valid pcap holding every captured packet, giving the same verdicts offline.
    const parser = new PcapParser(pcap);
    let frames = 0;
    let badCut = 0;
    // Whether loopback emits a full 64 KiB segment during the transfer depends on timing (autocorking), so cut
    // frames may or may not occur; any that do must be cut exactly at the snaplen with the original length kept.
    parser.push(readFileSync(pcap), (f) => { frames++; if (f.wireLength > f.capLength && f.capLength !== 65535) badCut++; });
    parser.end();
    assert.equal(parser.error, null);
    assert.equal(frames, summary.capture.packets);
    assert.equal(badCut, 0, 'frames longer than the snaplen are cut at 65535 and keep their original length');
    const { report, result } = await analyzeFile(pcap, { settings: { halfCloseTimeout: 1 } });
    assert.equal(result.error, null);
    assert.equal(report.capture.packets, summary.capture.packets);
    assert.deepEqual(report.summary, summary.summary);
    const verdict = (c: Record<string, any>) => [c.id, c.client, c.server, c.incarnation, c.teardown, c.ending, c.closer, c.states, [...c.findings].sort(), c.bytes];
    assert.deepEqual(report.connections.map((c) => verdict(connectionJson(c))), [...conns].sort((a, b) => a.firstFrame - b.firstFrame).map(verdict));
    // The marker frame at the stop time ages the still-open half-close to the stop, offline too: it stays stuck.
    const offlineStuck = report.findings.find((f) => f.kind === 'stuck-half-close');
    assert.equal(offlineStuck?.details.stuck, true);
    assert.equal(offlineStuck?.severity, 'error');
    const finalLive = new Map(findings.filter((f) => f.final).map((f) => [`${f.kind} ${f.connection}`, f.severity]));
    for (const [k, sev] of finalLive) assert.equal(report.findings.find((f) => `${f.kind} ${f.connection}` === k)?.severity, sev, k);
    assert.ok(statSync(pcap).size > 1024 * 1024 / 2);
  } finally {
    rmSync(pcap, { force: true });
    rmSync(`${pcap}.drops.json`, { force: true });
  }
});

test('live stops by itself after --count packets and after --duration; SIGTERM; --max-connections evictions are counted', { skip: skip ?? false, timeout: 30_000 }, async () => {
  const ns = createNetns();
  try {
    const counted = start(ns.exec(nodeArgs(MAIN, ['live', '-i', 'lo', '--count', '6'])));
    await counted.waitFor('stderr', /capturing on lo/, 15_000);
    const scen = start(ns.exec(nodeArgs('test/live/scenarios.ts', ['abort'])), { stdin: 'pipe' });
    try {
      assert.equal(await exitWithin(counted, 15_000), 0, counted.stderr);
    } finally {
      scen.kill('SIGKILL');
    }
    const sum = ndjson(counted.stdout).at(-1)!;
    assert.equal(sum.type, 'summary');
    // 6 captured packets plus the end-of-capture marker frame (non-TCP, at the stop time; also written with -w).
    assert.equal(sum.capture.packets, 7);
    assert.equal(sum.capture.tcpPackets, 6);
    assert.equal(sum.capture.undecodable['not-tcp'], 1);
    assert.equal(sum.live.stoppedBy, 'count');

    const timed = start(ns.exec(nodeArgs(MAIN, ['live', '-i', 'lo', '--duration', '1'])));
    assert.equal(await exitWithin(timed, 15_000), 0, timed.stderr);
    const s2 = ndjson(timed.stdout);
    assert.equal(s2.length, 1);
    assert.equal(s2[0]!.live.stoppedBy, 'duration');
    assert.ok(s2[0]!.live.seconds >= 1 && s2[0]!.live.seconds < 5, String(s2[0]!.live.seconds));

    // --max-connections: the table is bounded, evictions are counted in the summary line (one analysis thread: with
    // N, each holds ⌈max ÷ N⌉ connections).
    const bounded = start(ns.exec(nodeArgs(MAIN, ['live', '-i', 'lo', '--max-connections', '1', '--threads', '1'])));
    await bounded.waitFor('stderr', /capturing on lo/, 15_000);
    const played = start(ns.exec(nodeArgs('test/live/scenarios.ts', ['abort', 'reuse'])), { stdin: 'pipe' });
    try {
      await played.waitFor('stdout', /@@done/, 15_000);
      await new Promise((r) => setTimeout(r, 200));
      bounded.kill('SIGTERM');
      assert.equal(await exitWithin(bounded, 15_000), 0, bounded.stderr);
    } finally {
      played.kill('SIGKILL');
      bounded.kill('SIGKILL');
    }
    const s3 = ndjson(bounded.stdout).at(-1)!;
    assert.equal(s3.live.stoppedBy, 'SIGTERM');
    assert.ok(s3.evicted >= 1, JSON.stringify(s3.evicted));
    assert.equal(s3.summary.connections, 3);
  } finally {
    ns.delete();
  }
});

test('-w on a full disk (/dev/full): the capture stops with one line and exit 2; the report still comes', { skip: skip ?? false, timeout: 30_000 }, async () => {
  const ns = createNetns();
  const live = start(ns.exec(nodeArgs(MAIN, ['live', '-i', 'lo', '-f', 'tcp', '-w', '/dev/full'])));
  try {
    await live.waitFor('stderr', /capturing on lo/, 15_000);
    const scen = start(ns.exec(nodeArgs('test/live/scenarios.ts', ['abort'])), { stdin: 'pipe' });
    try {
      assert.equal(await exitWithin(live, 15_000), 2, live.stderr);
    } finally {
      scen.kill('SIGKILL');
    }
  } finally {
    live.kill('SIGKILL');
    ns.delete();
  }
  const lines = live.stderr.split('\n').filter((l) => l !== '' && !/capturing on lo/.test(l));
  assert.equal(lines.length, 1, live.stderr);
  assert.match(lines[0]!, /^teardown: \/dev\/full: cannot write: ENOSPC: no space left on device, write; capture stopped after \d+ packets \(the report covers them\)$/);
  const sum = ndjson(live.stdout).at(-1)!;
  assert.equal(sum.type, 'summary');
  assert.equal(sum.live.stoppedBy, '-w failed');
});
