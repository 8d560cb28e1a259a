/**
 * No input makes the analysis quadratic: CPU time at 8× the input stays far below 64× (what quadratic work would
 * take). The bound is generous (20×) and each size takes the best of three runs, so load on the machine does not
 * decide the outcome; per-connection state that grows with packets is checked by count where it can be.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AnalysisSession } from '../../src/analyze/session.js';
import type { RawFrame } from '../../src/capture/types.js';
import { Conversation } from '../helpers/conversation.js';

function cpuOf(frames: RawFrame[]): { ms: number; findings: number; connections: number } {
  let best = Infinity;
  let out = { findings: 0, connections: 0 };
  for (let i = 0; i < 3; i++) {
    const s = new AnalysisSession();
    const t0 = process.cpuUsage();
    for (const f of frames) s.ingest(f);
    const r = s.finish({
      path: 'x', format: 'pcap', compressed: false, linkTypes: [1], packets: s.counters.packets, tcpPackets: s.counters.tcpPackets,
      undecodable: {}, firstTime: s.counters.firstTime, lastTime: s.counters.lastTime, truncated: false, error: null, warnings: [], drops: null, interrupted: false,
    });
    const d = process.cpuUsage(t0);
    best = Math.min(best, (d.user + d.system) / 1000);
    out = { findings: r.findings.length, connections: r.connections.length };
  }
  return { ms: best, ...out };
}

function linear(name: string, build: (n: number) => RawFrame[], n: number, check?: (small: ReturnType<typeof cpuOf>, large: ReturnType<typeof cpuOf>) => void) {
  test(name, () => {
    cpuOf(build(n / 4)); // warm up the JIT
    const small = cpuOf(build(n));
    const large = cpuOf(build(8 * n));
    const ratio = large.ms / Math.max(small.ms, 1);
    assert.ok(ratio < 20, `8× the input took ${ratio.toFixed(1)}× the CPU time (${small.ms.toFixed(0)} → ${large.ms.toFixed(0)} ms)`);
    check?.(small, large);
  });
}

describe('time linear in input size', () => {
  linear('many packets on one tuple (data both ways, retransmissions, keepalives)', (n) => {
    const cv = new Conversation();
    cv.handshake();
    for (let i = 0; i < n; i++) {
      if (i % 7 === 3) cv.c('P.', { len: 100, seq: cv.client.nxt - 100 }); // a retransmission
      else cv.c('P.', { len: 100 });
      if (i % 2 === 0) cv.s('.');
      if (i % 50 === 0) cv.c('.', { seq: cv.client.nxt - 1, noAdvance: true, dt: 75 }); // keepalive
    }
    cv.c('F.'); cv.s('F.'); cv.c('.');
    return cv.rawFrames();
  }, 3000, (s, l) => { assert.equal(s.connections, 1); assert.equal(l.connections, 1); });

  linear('many incarnations on one tuple (TIME_WAIT reuse after TIME_WAIT reuse)', (n) => {
    const first = new Conversation();
    let t = first.t;
    for (let i = 0; i < n; i++) {
      const cv = i === 0 ? first : first.sibling({ cIsn: (1000 + i * 100_000) >>> 0, sIsn: (5000 + i * 77_777) >>> 0, t0: t + 0.5 });
      cv.handshake(); cv.c('P.', { len: 10 }); cv.s('.'); cv.c('F.'); cv.s('F.'); cv.c('.');
      t = cv.t;
    }
    return first.rawFrames();
  }, 400, (s, l) => { assert.equal(s.connections, 400); assert.equal(l.connections, 3200); });

  linear('many findings on one connection (ignored RSTs, FIN retransmissions): bounded per connection', (n) => {
    const cv = new Conversation();
    cv.handshake();
    for (let i = 0; i < n; i++) {
      cv.s('R', { seq: (cv.server.nxt + 1_000_000 + i) >>> 0 }); // out of window: ignored
      cv.c('P.', { len: 10 });
      cv.s('.');
    }
    cv.c('F.');
    for (let i = 0; i < 10; i++) cv.c('F.', { seq: cv.client.nxt - 1, dt: 0.2 * 2 ** i });
    return cv.rawFrames();
  }, 2000, (s, l) => { assert.ok(l.findings <= s.findings + 2, `findings grow with packets: ${s.findings} → ${l.findings}`); });
});
