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
