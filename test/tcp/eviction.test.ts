import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACK, FIN, SYN } from '../../src/decode/packet.js';
import { FlowTable } from '../../src/tcp/flow-table.js';
import { AnalysisSession } from '../../src/analyze/session.js';
import { Conversation } from '../helpers/conversation.js';
import { checkReport } from '../fuzz/invariants.js';
import { pkt } from '../helpers/table-segments.js';

const SERVER = 0x0a0000ff;

/** A SYN flood into a table bounded to `cap`: n SYNs from distinct ports, no replies. */
function flood(cap: number, n: number) {
  const judged: string[] = [];
  const dropped: string[] = [];
  const t = new FlowTable({ idleSplit: 300, closedLinger: 5, tombstoneLife: 240, maxConnections: cap },
    (c) => { judged.push(c.id); return []; }, (c) => { dropped.push(c.id); });
  for (let i = 0; i < n; i++) t.ingest(pkt(0x0a420000 + (i >>> 16), i & 0xffff, SERVER, 80, SYN, i * 7919), i + 1, i * 1e-4);
  return { t, judged, dropped };
}

describe('flow table bound', () => {
  test('eviction is O(1): bookkeeping per packet does not grow with the bound or the input', () => {
    // A scan for the least recently active connection (the former evictOldest) visits the whole table per eviction:
    // ~cap visits per packet once full. Recency lists take one.
    const small = flood(1000, 5000).t;
    const large = flood(1000, 40_000).t;
    const wide = flood(8000, 40_000).t;
    assert.ok(small.visits <= 2 * 5000, `${small.visits} visits for 5000 packets`);
    assert.ok(large.visits <= 2 * 40_000, `${large.visits} visits for 40000 packets`);
    assert.ok(wide.visits <= 2 * 40_000, `${wide.visits} visits for 40000 packets with a bound of 8000`);
    assert.equal(large.active, 1000);
    assert.equal(large.evictions.handshakeOnly, 39_000);
  });

  test('handshake-only connections go first, least recently active first; counted exactly; nothing of them stays', () => {
    const { t, dropped, judged } = flood(10, 1000);
    assert.equal(dropped.length, 990);
    assert.deepEqual(dropped.slice(0, 3), ['c1', 'c2', 'c3']); // oldest first
    assert.equal(judged.length, 0);
    assert.equal(t.evicted, 990);
    assert.deepEqual(t.evictions, { handshakeOnly: 990, judgedEarly: 0, tombstones: 0 });
    assert.equal(t.entries, 10); // dropped tuples leave no entry behind
    t.flushAll(1);
    assert.equal(judged.length, 10);
  });

  test('a connection that matters survives a flood: an established half-close is not evicted while SYN-only ones remain', () => {
    const judged: { id: string; atEnd: boolean }[] = [];
    const t = new FlowTable({ idleSplit: 300, closedLinger: 5, tombstoneLife: 240, maxConnections: 5 },
      (c, _e, _now, atEnd) => { judged.push({ id: c.id, atEnd }); return []; });
    // The oldest connection: handshake, data, the client's FIN acknowledged (a half-close in the making).
    const cl = 0x0a000001;
    t.ingest(pkt(cl, 40000, SERVER, 80, SYN, 100), 1, 0);
    t.ingest(pkt(SERVER, 80, cl, 40000, SYN | ACK, 500, 101), 2, 0);
    t.ingest(pkt(cl, 40000, SERVER, 80, ACK, 101, 501), 3, 0);
    t.ingest(pkt(cl, 40000, SERVER, 80, FIN | ACK, 101, 501), 4, 0.1);
    t.ingest(pkt(SERVER, 80, cl, 40000, ACK, 501, 102), 5, 0.1);
    for (let i = 0; i < 500; i++) t.ingest(pkt(0x0a420001, 1024 + i, SERVER, 80, SYN, i), 6 + i, 1 + i * 1e-3);
    assert.equal(t.evictions.handshakeOnly, 500 - 4);
    assert.equal(t.evictions.judgedEarly, 0);
    assert.deepEqual(judged, []);
    assert.ok([...t.current()].some(({ c }) => c.id === 'c1'), 'the half-closed connection is still held');
  });

  test('without handshake-only connections the least recently active one is judged early (counted), the rest stay', () => {
    const judged: { id: string; atEnd: boolean }[] = [];
    const t = new FlowTable({ idleSplit: 300, closedLinger: 5, tombstoneLife: 240, maxConnections: 2 },
      (c, _e, _now, atEnd) => { judged.push({ id: c.id, atEnd }); return []; });
    let frame = 0;
    const est = (cl: number, at: number) => {
      t.ingest(pkt(cl, 40000, SERVER, 80, SYN, 100), ++frame, at);
      t.ingest(pkt(SERVER, 80, cl, 40000, SYN | ACK, 500, 101), ++frame, at);
      t.ingest(pkt(cl, 40000, SERVER, 80, ACK, 101, 501), ++frame, at);
    };
    est(1, 0); est(2, 1);
    t.ingest(pkt(1, 40000, SERVER, 80, ACK, 101, 501), ++frame, 2); // c1 active again: c2 is now the idlest
    t.ingest(pkt(3, 40000, SERVER, 80, ACK, 101, 501, 100), ++frame, 3); // data on a third tuple (midstream)
    assert.deepEqual(judged, [{ id: 'c2', atEnd: true }]);
    // A new handshake-only connection in a table full of others is what goes (a flood does not flush them out).
    t.ingest(pkt(4, 40000, SERVER, 80, SYN, 100), ++frame, 4);
    assert.deepEqual(judged, [{ id: 'c2', atEnd: true }]);
    assert.equal(t.evictions.handshakeOnly, 1);
    t.ingest(pkt(4, 40001, SERVER, 80, SYN, 100), ++frame, 4);
    assert.equal(t.evictions.handshakeOnly, 2);
    assert.deepEqual(t.evictions, { handshakeOnly: 2, judgedEarly: 1, tombstones: 0 });
  });

  test('tuples kept only for their tombstone are bounded too (oldest forgotten, counted)', () => {
    const t = new FlowTable({ idleSplit: 300, closedLinger: 0, tombstoneLife: 240, maxConnections: 50 }, () => []);
    let frame = 0;
    for (let i = 0; i < 400; i++) {
      const cl = 0x0b000000 + i;
      const at = i * 0.01;
      t.ingest(pkt(cl, 40000, SERVER, 80, SYN, 100), ++frame, at);
      t.ingest(pkt(SERVER, 80, cl, 40000, SYN | ACK, 500, 101), ++frame, at);
      t.ingest(pkt(cl, 40000, SERVER, 80, FIN | ACK, 101, 501), ++frame, at);
      t.ingest(pkt(SERVER, 80, cl, 40000, FIN | ACK, 501, 102), ++frame, at);
      t.ingest(pkt(cl, 40000, SERVER, 80, ACK, 102, 502), ++frame, at);
      t.sweep(at); // closed and past the linger: judged, its tombstone stays
      assert.ok(t.entries <= 2 * 50 + 1, `${t.entries} entries`);
    }
    assert.ok(t.evictions.tombstones >= 400 - 2 * 50, JSON.stringify(t.evictions));
  });

  test('the report says what was evicted, and the stuck half-close found under a flood is still reported', () => {
    const cv = new Conversation({ client: '10.0.0.1', server: '10.0.0.2' });
    cv.handshake(); cv.c('P.', { len: 100 }); cv.s('.'); cv.c('F.'); cv.s('.');
    for (let i = 0; i < 300; i++) cv.sibling({ client: '10.66.0.1', server: '10.0.0.2', cport: 1024 + i, t0: cv.t + 0.001 * i }).c('S');
    cv.wait(120).c('.', { noAdvance: true }); // the capture goes on: the half-close becomes stuck
    const s = new AnalysisSession({}, {}, { maxConnections: 20 });
    const frames = cv.rawFrames();
    for (const f of frames) s.ingest(f);
    const r = s.finish({
      path: 'test', format: 'pcap', compressed: false, linkTypes: [1], packets: s.counters.packets, tcpPackets: s.counters.tcpPackets,
      undecodable: {}, firstTime: s.counters.firstTime, lastTime: s.counters.lastTime, truncated: false, error: null, warnings: [], drops: null, interrupted: false,
    });
    checkReport(r, { maxConnections: 20 });
    assert.deepEqual(r.summary.evicted, { maxConnections: 20, total: 281, handshakeOnly: 281, judgedEarly: 0, tombstones: 0 });
    assert.equal(r.connections.length, 20);
    assert.equal(r.findings.filter((f) => f.kind === 'stuck-half-close').length, 1);
  });
});
