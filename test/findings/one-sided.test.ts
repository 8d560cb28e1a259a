import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CATALOG } from '../../src/findings/catalog.js';
import { Conversation, kinds } from '../helpers/conversation.js';

/** A complete exchange with a long pause before the end of the capture: FINs both ways, data both ways. */
function exchange(): Conversation {
  const cv = new Conversation().handshake();
  cv.c('P.', { len: 100 }).s('P.', { len: 400 }).c('.');
  cv.c('F.').s('.').s('F.', { dt: 0.2 }).c('.');
  cv.sibling({ cport: 40001 }).handshake().c('P.', { len: 10 }).s('.').c('F.', { dt: 5 });
  return cv;
}

describe('one-sided captures (only one direction captured)', () => {
  test('client→server only: every connection is one-sided, counted, and no warn/error needs the missing side', () => {
    const r = exchange().reportOneWay('client');
    assert.equal(r.connections.length, 2);
    for (const c of r.connections) {
      assert.equal(c.capture, 'one-sided');
      assert.equal(c.missingSide, 'server');
    }
    assert.equal(r.summary.oneSided, 2);
    assert.equal(kinds(r, 'fin-unacknowledged').length, 0);
    for (const f of r.findings) assert.ok(f.severity === 'info' || !CATALOG[f.kind].needsBothDirections, `${f.kind} ${f.severity}`);
  });

  test('server→client only: one-sided too (its SYN-ACK acknowledges the client SYN)', () => {
    const r = exchange().reportOneWay('server');
    assert.equal(r.summary.oneSided, 2);
    assert.ok(r.connections.every((c) => c.missingSide === 'client'));
    for (const f of r.findings) assert.ok(f.severity === 'info' || !CATALOG[f.kind].needsBothDirections, `${f.kind} ${f.severity}`);
  });

  test('both directions: two-sided, and the same unanswered (retransmitted) FIN is a warning', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 10 }).s('.').c('F.', { dt: 5 }).c('F.', { seq: cv.client.nxt - 1, dt: 1 }).c('.', { dt: 4 });
    const r = cv.report();
    assert.equal(r.connections[0]!.capture, 'two-sided');
    assert.equal(r.summary.oneSided, 0);
    assert.equal(kinds(r, 'fin-unacknowledged')[0]?.severity, 'warn');
  });

  test('a SYN nobody answered is not one-sided (nothing shows the peer sent anything)', () => {
    const cv = new Conversation().c('S').c('S', { seq: 1000, dt: 1 });
    assert.equal(cv.report().connections[0]!.capture, 'two-sided');
  });
});

describe('the rest of one-sided and lone-packet captures', () => {
  test('a lone RST,ACK (its receiver never captured) is the teardown, accepted unverifiable', () => {
    const cv = new Conversation();
    cv.c('R.', { seq: 5000, ack: 9000 });
    const r = cv.report();
    assert.equal(r.connections[0]!.teardown, 'rst');
    assert.equal(kinds(r, 'rst-teardown')[0]!.details.accepted, 'unverifiable');
  });

  test('an RST teardown on a one-sided capture keeps its severity (the RST is captured), saying what cannot be checked', () => {
    // tcpdump tcp_rst_data, tcp_rst_diag_payload, mptcp-tcprst: a lone RST,ACK; ndpi tls_1.2_unidirectional_client: data, then RST,ACK.
    const lone = new Conversation();
    lone.s('R.', { seq: 1617159969, ack: 1936660873, len: 58 });
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 30 }).s('P.', { len: 100 }).c('.').c('R.', { dt: 2 });
    for (const r of [lone.report(), cv.reportOneWay('client')]) {
      const c = r.connections[0]!;
      assert.equal(c.capture, 'one-sided');
      const f = kinds(r, 'rst-teardown')[0]!;
      assert.equal(f.severity, 'warn');
      assert.equal(f.details.accepted, 'unverifiable');
      assert.equal(f.details.oneSided, true);
      assert.match(f.summary, /whether this RST reached it, and any cause in its packets, cannot be checked/);
      assert.doesNotMatch(f.why, /so it was accepted/);
    }
    // Two-sided, the same abort is a warning too: dropping the receiver's direction does not change it.
    assert.equal(kinds(cv.report(), 'rst-teardown')[0]!.severity, 'warn');
  });

  test('client-only capture: SYN, then ACKs of the uncaptured SYN-ACK: established and open, not "never established"', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 30 }).s('P.', { len: 100 }).c('.');
    const r = cv.reportOneWay('client');
    const c = r.connections[0]!;
    assert.equal(c.teardown, 'open');
    assert.equal(c.states.client, 'ESTABLISHED');
    assert.equal(c.capture, 'one-sided');
  });
});

describe('the peer\'s FIN inferred on a one-sided capture (tcpdump/ipoib frames 9,10,22,23)', () => {
  /** Client-only capture (frames renumbered: 1 SYN, 2 ACK, 3 data, 4 ACK, 5 FIN, 6 ACK of the server's FIN): SYN and its ACK 2 ms apart (the round trip), data, the client's FIN, then the server's FIN (not captured) acknowledged. */
  function closedBy(ackDelay: number): Conversation {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 26 }).s('P.', { len: 22 }).c('.');
    cv.c('F.', { dt: 1 }).s('F.', { dt: ackDelay / 2 }).c('.', { dt: ackDelay / 2 });
    return cv;
  }

  test('an ACK advancing by exactly one after the client\'s FIN, a round trip later: fin, closer client, the inference shown', () => {
    const r = closedBy(0.0032).reportOneWay('client');
    const c = r.connections[0]!;
    assert.equal(c.capture, 'one-sided');
    assert.deepEqual([c.teardown, c.closer, c.ending], ['fin', 'client', 'graceful-peer-fin-inferred']);
    assert.deepEqual(c.states, { client: 'TIME_WAIT', server: 'CLOSED' });
    assert.equal(c.inferences?.length, 1);
    assert.deepEqual([c.inferences![0]!.frame, c.inferences![0]!.what, c.inferences![0]!.side], [6, 'fin-not-captured', 'server']);
    assert.match(c.inferences![0]!.why, /advanced by exactly one/);
    assert.equal(kinds(r, 'fin-unacknowledged').length, 0);
    assert.equal(c.ladder.find((p) => p.frame === 6)?.note?.startsWith('ACK of the server\'s FIN (not captured'), true);
  });

  test('sooner than a round trip after the client\'s FIN the FINs may have crossed: nothing is inferred', () => {
    const c = closedBy(0.001).reportOneWay('client').connections[0]!;
    assert.equal(c.teardown, 'half-close');
    assert.equal(c.inferences, undefined);
  });

  test('both directions captured: the FIN is seen, never inferred', () => {
    const c = closedBy(0.0032).report().connections[0]!;
    assert.equal(c.ending, 'graceful-3way');
    assert.equal(c.inferences, undefined);
  });

  test('a later ACK advancing further shows the byte was data: the inference is taken back as a revision', () => {
    const cv = closedBy(0.0032);
    cv.s('P.', { len: 10, dt: 0.001 }).c('.', { dt: 0.001 });
    const c = cv.reportOneWay('client').connections[0]!;
    assert.equal(c.teardown, 'half-close');
    assert.equal(c.inferences, undefined);
    assert.deepEqual(c.revisions.map((v) => [v.frame, v.revisedBy, v.what]), [[6, 7, 'fin-not-sent']]);
    assert.equal(c.states.client, 'FIN_WAIT_1');
  });

  test('no ACK advancing by exactly one: a half-close as before', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 26 }).s('P.', { len: 22 }).c('.').c('F.', { dt: 1 }).c('.', { dt: 0.01 });
    const c = cv.reportOneWay('client').connections[0]!;
    assert.equal(c.teardown, 'half-close');
    assert.equal(c.inferences, undefined);
  });
});
