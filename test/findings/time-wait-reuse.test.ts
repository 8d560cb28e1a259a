import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Conversation, kinds, runFrames } from '../helpers/conversation.js';

/** Server closes first (so the server holds TIME_WAIT), then the client reconnects from the same port. */
function reuse(o: { newIsn: (lastSeq: number) => number; answer: 'syn-ack' | 'ack-rst-retry' | 'none'; after?: number; ts?: boolean; clientFirst?: boolean }) {
  const cv = new Conversation().handshake({ ts: o.ts });
  cv.c('P.', { len: 1000 }).s('.');
  if (o.clientFirst) cv.c('F.').s('.').s('F.').c('.');
  else cv.s('F.').c('.').c('F.').s('.');
  const lastClientSeq = cv.client.nxt;
  const lastServerSeq = cv.server.nxt;
  const isn = o.newIsn(lastClientSeq) >>> 0;
  cv.wait(o.after ?? 1);
  cv.c('S', { seq: isn, ...(o.ts ? { ts: [90, 0] as [number, number] } : {}) });
  if (o.answer === 'syn-ack') cv.s('S.', { seq: lastServerSeq + 65537, ack: isn + 1 }).c('.', { seq: isn + 1 });
  if (o.answer === 'ack-rst-retry') {
    cv.s('.', { seq: lastServerSeq, ack: lastClientSeq });
    cv.c('R', { seq: lastClientSeq });
    cv.c('S', { seq: isn, dt: 1 });
    cv.s('S.', { seq: 123456, ack: isn + 1 }).c('.', { seq: isn + 1 });
  }
  return cv.report();
}

describe('time-wait-reuse (rules §6.4)', () => {
  test('higher ISN accepted by the TIME_WAIT holder', () => {
    const r = reuse({ newIsn: (s) => s + 50_000, answer: 'syn-ack' });
    assert.equal(r.connections.length, 2);
    const f = kinds(r, 'time-wait-reuse');
    assert.equal(f.length, 1);
    const d = f[0]!.details;
    assert.equal(d.holder, 'server');
    assert.equal(d.isn, 'higher');
    assert.equal(d.timestamps, 'absent');
    assert.equal(d.outcome, 'accepted');
    assert.equal(d.previous, 'c1');
    assert.equal(d.serverTimeWaitIsnFingerprint, true);
    assert.deepEqual((d.expected as { linux: boolean }).linux, true);
    assert.equal(f[0]!.severity, 'info');
    assert.equal(r.connections[1]!.incarnation, 1);
    assert.equal(r.connections[1]!.previous, 'c1');
    assert.equal(r.connections[0]!.next, 'c2');
    assert.ok(f[0]!.evidence.some((e) => e.note?.startsWith('c1:')), 'previous close packets are evidence');
  });

  test('lower ISN without timestamps rejected: old ACK, client RST, SYN retry — not a teardown of the new connection', () => {
    const r = reuse({ newIsn: (s) => s - 10_000_000, answer: 'ack-rst-retry' });
    const f = kinds(r, 'time-wait-reuse')[0]!;
    assert.equal(f.details.isn, 'lower');
    assert.equal(f.details.outcome, 'rejected');
    assert.equal(f.details.eventuallyAccepted, true);
    assert.ok(Math.abs((f.details.addedLatencySeconds as number) - 1.003) < 1e-4, String(f.details.addedLatencySeconds));
    assert.equal((f.details.expected as { linux: boolean }).linux, false);
    assert.equal(f.severity, 'warn');
    assert.equal(r.connections.length, 2);
    const n = r.connections[1]!;
    assert.equal(n.teardown, 'open');
    assert.equal(n.handshake, 'complete');
    assert.equal(kinds(r, 'rst-teardown').length, 0);
    const mine = f.evidence.filter((e) => !e.note?.startsWith('c1:'));
    assert.deepEqual(mine.map((e) => e.flags), ['SYN', 'ACK', 'RST', 'SYN', 'SYN,ACK']);
    // The TIME_WAIT ACK and the client's RST carry c1's numbers: shown relative to c1's ISNs (1000 and 5000).
    const oldAck = mine[1]!;
    assert.equal(oldAck.relAck, (oldAck.ack! - 1000) >>> 0);
    assert.equal(oldAck.relSeq, (oldAck.seq - 5000) >>> 0);
    assert.ok(oldAck.relSeq < 10_000 && oldAck.relAck! < 10_000);
  });

  test('lower ISN but newer timestamp: Linux would accept', () => {
    const r = reuse({ newIsn: (s) => s - 10_000_000, answer: 'syn-ack', ts: true });
    const d = kinds(r, 'time-wait-reuse')[0]!.details;
    assert.equal(d.timestamps, 'older');
  });

  test('beyond the TIME_WAIT window it is ordinary port reuse, not a finding; --time-wait windows widens it', () => {
    const r = reuse({ newIsn: (s) => s + 1, answer: 'syn-ack', after: 100 });
    assert.equal(kinds(r, 'time-wait-reuse').length, 0);
    assert.equal(r.connections.length, 2);
    const cv = reuse({ newIsn: (s) => s + 1, answer: 'syn-ack', after: 100 });
    assert.equal(cv.findings.filter((f) => f.kind === 'time-wait-reuse').length, 0);
  });

  test('client held TIME_WAIT (closed first) and reused it with the Linux tw_reuse ISN', () => {
    const r = reuse({ newIsn: (s) => s + 65537, answer: 'syn-ack', clientFirst: true });
    const d = kinds(r, 'time-wait-reuse')[0]!.details;
    assert.equal(d.holder, 'client');
    assert.equal(d.clientTwReuseFingerprint, true);
  });

  test('a SYN retransmission (same ISN) on an open handshake is not a new incarnation', () => {
    const cv = new Conversation();
    cv.c('S').c('S', { seq: 1000, dt: 1 }).s('S.').c('.');
    const r = cv.report();
    assert.equal(r.connections.length, 1);
    assert.equal(r.connections[0]!.handshake, 'complete');
  });

  test('a SYN with a new ISN on an established tuple: syn-on-live-tuple on that connection, no new connection', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 10 }).s('.').c('S', { seq: 777_777, dt: 5 });
    const r = cv.report();
    assert.equal(r.connections.length, 1);
    const f = kinds(r, 'syn-on-live-tuple');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.details.count, 1);
  });

  test('a burst of spoofed different-ISN SYNs on a live tuple: one finding with a count, one connection', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 10 }).s('P.', { len: 20 }).c('.');
    for (let i = 0; i < 21; i++) cv.c('S', { seq: 1_000_000 + i * 7919, win: 512, dt: 0.01, ttl: 240 }).s('.', { dt: 0.0001 });
    cv.c('P.', { len: 10, dt: 0.1 }).s('.').c('F.').s('F.').c('.');
    const r = cv.report();
    assert.equal(r.connections.length, 1);
    assert.equal(r.connections[0]!.teardown, 'fin');
    assert.deepEqual(r.connections[0]!.bytes, { c2s: 20, s2c: 20 });
    const f = kinds(r, 'syn-on-live-tuple');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.details.count, 21);
    assert.equal(r.aggregates.pairs[0]!.exhaustionRatio, null);
  });

  test('half-open recovery: SYN, challenge ACK, client RST, SYN again, SYN-ACK: the old connection reset, the new one separate', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 10 }).s('.');
    cv.c('S', { seq: 777_777, dt: 5 }).s('.'); // challenge ACK with the old numbers
    cv.c('R', { seq: 1011 });
    const cv2 = cv.sibling({ cIsn: 777_777, sIsn: 90_000 });
    cv2.c('S', { dt: 1 }).s('S.').c('.');
    const r = cv.report();
    assert.equal(r.connections.length, 2);
    assert.equal(r.connections[0]!.teardown, 'rst');
    assert.equal(kinds(r, 'syn-on-live-tuple').length, 1);
    assert.equal(kinds(r, 'syn-on-live-tuple')[0]!.connection, r.connections[0]!.id);
    assert.equal(kinds(r, 'time-wait-reuse').length, 0);
    assert.equal(r.connections[1]!.handshake, 'complete');
  });

  test('a server that lost the old connection answers the new-ISN SYN with a SYN-ACK: new connection from that SYN', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 10 }).s('.');
    const cv2 = cv.sibling({ cIsn: 777_777, sIsn: 90_000 });
    cv2.c('S', { dt: 5 });
    const synT = cv2.t;
    cv2.s('S.').c('.');
    const r = cv.report();
    assert.equal(r.connections.length, 2);
    assert.equal(r.connections[1]!.handshake, 'complete');
    assert.equal(r.connections[1]!.firstFrame, 6);
    // The SYN recorded on the old connection is replayed into the new one with its own time (read before the old
    // connection's pooled row was given back).
    assert.equal(r.connections[1]!.start, synT);
    assert.equal(kinds(r, 'syn-on-live-tuple')[0]!.details.newConnectionAccepted, true);
  });
});

describe('retried handshakes are one attempt; RST-closed tuples hold no TIME_WAIT', () => {
  test('a SYN sent three times with the same ISN, each refused by RST,ACK: one refused connection, no reuse', () => {
    const cv = new Conversation();
    cv.c('S').s('R.', { seq: 0 });
    cv.c('S', { seq: 1000, dt: 0.5 }).s('R.', { seq: 0 });
    cv.c('S', { seq: 1000, dt: 0.5 }).s('R.', { seq: 0 });
    const r = cv.report();
    assert.equal(r.connections.length, 1);
    assert.equal(r.connections[0]!.teardown, 'refused');
    assert.deepEqual(r.connections[0]!.retries, { syn: 2, synAck: 0 });
    const f = kinds(r, 'refused');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.details.attempts, 3);
    assert.equal(f[0]!.details.refusals, 3);
    assert.deepEqual(f[0]!.evidence.map((e) => e.frame), [1, 2, 3, 4, 5, 6]);
    assert.equal(kinds(r, 'time-wait-reuse').length, 0);
  });

  test('the same retries after the refusal was judged (past the linger) still join the attempt', () => {
    const cv = new Conversation();
    cv.c('S').s('R.', { seq: 0 });
    cv.c('S', { seq: 1000, dt: 6 }).s('R.', { seq: 0 });
    const r = cv.report();
    assert.equal(r.connections.length, 1);
    assert.equal(kinds(r, 'refused')[0]!.details.attempts, 2);
  });

  test('SYN-ACK retransmissions are counted, not new connections', () => {
    const cv = new Conversation();
    cv.c('S').s('S.').s('S.', { seq: 5000, dt: 1 }).c('.');
    const r = cv.report();
    assert.equal(r.connections.length, 1);
    assert.deepEqual(r.connections[0]!.retries, { syn: 0, synAck: 1 });
  });

  test('a new SYN on a tuple closed by RST: no time-wait-reuse (nobody holds TIME_WAIT after an RST)', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 10 }).s('.').s('R.');
    cv.c('S', { seq: 900_000, dt: 1 }).s('S.', { seq: 70_000 }).c('.');
    const r = cv.report();
    assert.equal(r.connections.length, 2);
    assert.equal(kinds(r, 'time-wait-reuse').length, 0);
  });
});

describe('a refused connect retried with its ISN and then accepted is one connection', () => {
  test('SYN, RST,ACK, the same SYN 0.5 s later, SYN-ACK: one established connection, no refused, no reuse', () => {
    const cv = new Conversation();
    cv.c('S').s('R.', { seq: 0 });
    cv.c('S', { seq: 1000, dt: 0.5 }).s('S.').c('.');
    cv.c('P.', { len: 10 }).s('.').s('R.', { dt: 1 });
    const r = cv.report();
    assert.equal(r.connections.length, 1);
    const c = r.connections[0]!;
    assert.equal(c.handshake, 'complete');
    assert.equal(c.teardown, 'rst');
    assert.equal(c.closer, 'server');
    assert.deepEqual(c.retries, { syn: 1, synAck: 0 });
    assert.equal(kinds(r, 'refused').length, 0);
    assert.equal(kinds(r, 'time-wait-reuse').length, 0);
  });
});

describe('a SYN-ACK missing from the capture is not a TIME_WAIT rejection', () => {
  test('SYN, (SYN-ACK not captured), client data, server ACK of that data: the ACK belongs to this connection', () => {
    const cv = new Conversation();
    cv.c('S');
    cv.server.nxt += 1; // the server's SYN-ACK took one sequence number, but it is not in the capture
    cv.c('.').c('P.', { len: 413 }).s('.').s('P.', { len: 200 }).c('.');
    const r = cv.report();
    assert.equal(r.connections.length, 1);
    assert.equal(r.connections[0]!.teardown, 'open');
    assert.ok(!r.connections[0]!.ladder.some((p) => p.note?.includes('old connection')));
  });
});

describe('time-wait-reuse after the previous incarnation was swept out of the table', () => {
  // Big captures sweep the table (every 65 536 packets, or on a live clock): a connection closed and quiet for the
  // linger is judged and leaves only its tombstone. A SYN on that tuple later must still be judged as a reuse.
  function sweptReuse(sweep: boolean): ReturnType<typeof runFrames> {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 1000 }).s('.');
    cv.s('F.').c('.').c('F.').s('.');
    const lastClientSeq = cv.client.nxt;
    const beforeSyn = cv.rawFrames().length;
    cv.wait(20);
    cv.c('S', { seq: lastClientSeq + 50_000 }).s('S.', { seq: 77_777, ack: lastClientSeq + 50_001 }).c('.', { seq: lastClientSeq + 50_001 });
    // Before the reusing SYN: a sweep 15 s after the close (past the 5 s linger, inside TIME_WAIT).
    return runFrames(cv.rawFrames(), {}, (s, f, i) => { if (sweep && i === beforeSyn) s.tick(f.tsSec + f.tsNsec * 1e-9 - 5); });
  }

  test('a sweep between the close and the SYN changes nothing: the reuse is judged against the tombstone', () => {
    const plain = sweptReuse(false);
    const swept = sweptReuse(true);
    assert.equal(kinds(plain, 'time-wait-reuse').length, 1);
    const f = kinds(swept, 'time-wait-reuse');
    assert.equal(f.length, 1, 'the reuse must not be lost after a sweep');
    assert.equal(f[0]!.details.previous, 'c1');
    assert.equal(f[0]!.details.holder, 'server');
    assert.equal(swept.connections[1]!.previous, 'c1');
  });
});
