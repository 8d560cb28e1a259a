import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_RTO } from '../../src/findings/closing.js';
import { Conversation, kinds } from '../helpers/conversation.js';
import { endpointText } from '../../src/model/endpoint.js';

describe('who closed first (rules §4)', () => {
  test('normal 4-way close, client first: client active, both FINs acked, client holds TIME_WAIT', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 100 }).s('.').c('F.').s('.').s('F.', { dt: 0.05 }).c('.');
    const r = cv.report();
    const c = r.connections[0]!;
    assert.equal(r.connections.length, 1);
    assert.equal(c.teardown, 'fin');
    assert.equal(c.closer, 'client');
    assert.equal(c.ending, 'graceful-4way');
    assert.deepEqual(c.states, { client: 'TIME_WAIT', server: 'CLOSED' });
    assert.equal(c.handshake, 'complete');
    assert.ok(c.times.timeWaitUntil !== null && c.times.closed !== null);
    assert.equal(r.findings.filter((f) => f.severity !== 'info').length, 0);
  });

  test('3-way close (FIN carries the ACK of the peer FIN)', () => {
    const cv = new Conversation().handshake();
    cv.s('F.').c('F.').s('.');
    const c = cv.report().connections[0]!;
    assert.equal(c.closer, 'server');
    assert.equal(c.ending, 'graceful-3way');
    assert.deepEqual(c.states, { client: 'CLOSED', server: 'TIME_WAIT' });
  });

  test('the passive FIN captured before the active one (merged captures) still names the active closer', () => {
    const cv = new Conversation().handshake();
    // Server's FIN acknowledges the client's FIN (ack = client FIN + 1) but is captured first.
    const clientFinSeq = cv.client.nxt;
    cv.s('F.', { ack: clientFinSeq + 1 });
    cv.c('F.', { ack: cv.server.nxt - 1 });
    cv.c('.', { seq: clientFinSeq + 1 });
    const c = cv.report().connections[0]!;
    assert.equal(c.closer, 'client');
  });

  test('simultaneous close: neither FIN acks the other; both CLOSING then TIME_WAIT; capture order does not matter', () => {
    for (const serverFirst of [false, true]) {
      const cv = new Conversation().handshake();
      const cFin = cv.client.nxt;
      const sFin = cv.server.nxt;
      if (serverFirst) { cv.s('F.'); cv.c('F.', { ack: sFin }); } else { cv.c('F.'); cv.s('F.', { ack: cFin }); }
      cv.c('.', { seq: cFin + 1, ack: sFin + 1 }).s('.', { seq: sFin + 1, ack: cFin + 1 });
      const r = cv.report();
      const c = r.connections[0]!;
      assert.equal(c.closer, 'both', `serverFirst=${serverFirst}`);
      assert.equal(c.ending, 'graceful-simultaneous');
      assert.deepEqual(c.states, { client: 'TIME_WAIT', server: 'TIME_WAIT' });
      const f = kinds(r, 'simultaneous-close');
      assert.equal(f.length, 1);
      assert.equal(f[0]!.details.wiresharkFinActiveFrame, serverFirst ? 4 : 4);
    }
  });

  test('refused: SYN answered by RST,ACK ack=ISN+1', () => {
    const cv = new Conversation();
    cv.c('S').s('R.', { seq: 0, ack: cv.client.nxt });
    const r = cv.report();
    assert.equal(r.connections[0]!.teardown, 'refused');
    assert.equal(kinds(r, 'refused').length, 1);
    assert.equal(kinds(r, 'rst-teardown').length, 0);
  });

  test('an RST that does not acknowledge the SYN does not refuse it', () => {
    const cv = new Conversation();
    cv.c('S').s('R.', { seq: 0, ack: cv.client.nxt + 77 });
    assert.notEqual(cv.report().connections[0]!.teardown, 'refused');
  });

  test('a SYN nobody answers is teardown none, syn-unanswered', () => {
    const cv = new Conversation();
    cv.c('S').c('S', { seq: 1000, dt: 1 });
    const c = cv.report().connections[0]!;
    assert.equal(c.teardown, 'none');
    assert.equal(c.ending, 'syn-unanswered');
  });

  test('midstream capture: closer still decided from FIN/ACK arithmetic, client guessed from ports', () => {
    const cv = new Conversation({ cIsn: 77777, sIsn: 99999 });
    cv.c('P.', { len: 10 }).s('.').s('F.').c('.').c('F.').s('.');
    const c = cv.report().connections[0]!;
    assert.equal(c.handshake, 'midstream');
    assert.equal(c.clientGuessed, true);
    assert.equal(endpointText(c.client), '10.0.0.1:40000');
    assert.equal(c.closer, 'server');
  });

  test('fin-unacknowledged when the peer never answers a FIN', () => {
    const cv = new Conversation().handshake();
    cv.c('F.').c('F.', { seq: cv.client.nxt - 1, dt: 0.3 }).c('F.', { seq: cv.client.nxt - 1, dt: 0.6 }).wait(2);
    const other = cv.sibling({ cport: 40001 });
    other.t = cv.t + 2;
    other.handshake();
    const r = cv.report();
    const f = kinds(r, 'fin-unacknowledged');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.details.retransmissions, 2);
    assert.equal(kinds(r, 'fin-retransmitted').length, 1);
  });
});

describe('an unacknowledged FIN that was never retransmitted (rules §6.5 "no ACK, no retransmission")', () => {
  // ndpi/syslog frames 80-82: the server's SYN-ACK is its last captured packet; the client's data (frame 81) and FIN
  // (frame 82, 185 s later) are never acknowledged in the capture and never retransmitted; the file then jumps 324 days.
  function syslogLike(): Conversation {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 136, dt: 0.25 }).c('F.', { dt: 185 });
    cv.sibling({ cport: 40001 }).c('S', { at: cv.t + 44 }).c('S', { at: cv.t + 28_000_000, seq: 1000 });
    return cv;
  }
  test('is info: the ACK was sent out of view (a sender without it retransmits within the RTO wait)', () => {
    const f = kinds(syslogLike().report(), 'fin-unacknowledged');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.severity, 'info');
    assert.equal(f[0]!.details.ackOutOfView, true);
    assert.equal(f[0]!.details.peerLastFrame, 2);
    assert.match(f[0]!.summary, /no packet from the server was captured after frame 2/);
  });
  test('the wait it states is bounded by the last time the FIN was sent plus the longest RTO, not the file\'s end', () => {
    const f = kinds(syslogLike().report(), 'fin-unacknowledged')[0]!;
    assert.equal(f.details.waitedSeconds, MAX_RTO);
    assert.doesNotMatch(f.why, /28000000|2800\d{4}/);
  });
  test('a retransmitted FIN still unanswered is a warning whose wait runs from its last retransmission', () => {
    const cv = new Conversation().handshake();
    cv.c('F.', { dt: 1 }).c('F.', { seq: cv.client.nxt - 1, dt: 0.3 });
    cv.sibling({ cport: 40001 }).c('S', { at: cv.t + 10_000 });
    const f = kinds(cv.report(), 'fin-unacknowledged')[0]!;
    assert.equal(f.severity, 'warn');
    assert.ok(Math.abs((f.details.waitedSeconds as number) - (0.3 + MAX_RTO)) < 1e-6);
  });
});

describe('per-connection counters', () => {
  test('retransmissions, keepalives and dropped capture duplicates are counted per direction', () => {
    const cv = new Conversation().handshake();
    const seq = cv.client.nxt;
    cv.c('P.', { len: 100, ipId: 7 });
    cv.c('P.', { len: 100, seq, ipId: 7, dt: 0.0002 }); // the same packet seen twice (same IP ID): a capture duplicate
    cv.c('P.', { len: 100, seq, ipId: 8, dt: 0.3 }); // sent again with a new IP ID: a retransmission
    cv.s('.');
    cv.s('.', { seq: cv.server.nxt - 1, noAdvance: true, dt: 10 }).c('.'); // server keepalive, client answers
    const c = cv.report().connections[0]!;
    assert.equal(c.duplicates, 1);
    assert.deepEqual(c.retransmissions, { c2s: 1, s2c: 0 });
    assert.deepEqual(c.keepalives, { c2s: 0, s2c: 1 });
    assert.equal(c.bytes.c2s, 100);
  });
});

describe('closer after a reset (rules §4)', () => {
  test('client FIN, then the server in CLOSE_WAIT aborts with RST: closer client, the server aborted', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 50 }).s('.');
    cv.c('F.').s('.').s('R.', { dt: 0.01 });
    const r = cv.report();
    const c = r.connections[0]!;
    assert.equal(c.teardown, 'rst');
    assert.equal(c.closer, 'client');
    const f = kinds(r, 'rst-teardown')[0]!;
    assert.equal(f.details.by, 'server');
    assert.equal(f.details.class, 'abort');
  });

  test('a client FIN whose ACK covers uncaptured server segments (perhaps its FIN), then a server RST: closer server', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 50 }).s('.');
    cv.c('F.', { ack: cv.server.nxt + 84 }).s('R', { seq: cv.server.nxt + 84 });
    const c = cv.report().connections[0]!;
    assert.equal(c.teardown, 'rst');
    assert.equal(c.closer, 'server');
  });

  test('an RST with no FIN before it: the RST sender is the closer', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 50 }).s('.').s('R.');
    assert.equal(cv.report().connections[0]!.closer, 'server');
  });
});

describe('fin-retransmitted (rules §6.5)', () => {
  test('simultaneous close where each FIN is sent again 50 µs later as the ACK of the other: no fin-retransmitted', () => {
    const cv = new Conversation().handshake();
    const cFin = cv.client.nxt;
    const sFin = cv.server.nxt;
    cv.c('F.').s('F.', { ack: cFin, dt: 0.00001 });
    // BSD-style: the ACK of the crossing FIN carries the FIN bit again (same FIN sequence number).
    cv.c('F.', { seq: cFin, ack: sFin + 1, dt: 0.00005 }).s('F.', { seq: sFin, ack: cFin + 1, dt: 0.00001 });
    const r = cv.report();
    assert.equal(r.connections[0]!.ending, 'graceful-simultaneous');
    assert.equal(kinds(r, 'fin-retransmitted').length, 0);
    assert.deepEqual(r.connections[0]!.states, { client: 'TIME_WAIT', server: 'TIME_WAIT' });
  });

  test('nine retransmissions of the active closer\'s FIN are all listed', () => {
    const cv = new Conversation().handshake();
    const fin = cv.client.nxt;
    cv.c('F.');
    for (let i = 0; i < 9; i++) cv.c('F.', { seq: fin, dt: 0.2 * 2 ** i });
    cv.s('.', { ack: fin + 1 });
    const f = kinds(cv.report(), 'fin-retransmitted')[0]!;
    assert.equal(f.details.retransmissions, 9);
    assert.equal((f.details.retransmissionFrames as number[]).length, 9);
    assert.equal(f.evidence.filter((e) => e.flags === 'FIN,ACK').length, 10);
  });
});

describe('fin-retransmitted: a re-ACK whose crossing FIN is captured after it', () => {
  test('server FIN, the same FIN 11 µs later acknowledging the client FIN captured after both: no fin-retransmitted', () => {
    const cv = new Conversation().handshake();
    const cFin = cv.client.nxt;
    const sFin = cv.server.nxt;
    cv.s('F.', { ack: cFin });
    cv.s('F.', { seq: sFin, ack: cFin + 1, dt: 0.000011 });
    cv.c('F.', { ack: sFin, dt: 0.000006 }).c('F.', { seq: cFin, ack: sFin + 1, dt: 0.000006 });
    cv.c('.', { seq: cFin + 1, ack: sFin + 1, dt: 0.0001 });
    const r = cv.report();
    assert.equal(kinds(r, 'fin-retransmitted').length, 0);
    assert.equal(r.connections[0]!.teardown, 'fin');
  });
});
