import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Conversation, kinds } from '../helpers/conversation.js';

describe('rst-teardown classes (rules §6.2)', () => {
  test('abort from a live socket: RST,ACK seq = SND.NXT, unread data likely', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 200 }).s('.'); // server received the request and never answered
    cv.s('R.');
    const r = cv.report();
    const f = kinds(r, 'rst-teardown')[0]!;
    assert.equal(f.details.class, 'abort');
    assert.equal(f.details.by, 'server');
    assert.equal(f.details.origin, 'live-socket');
    assert.equal(f.details.unreadDataPossible, true);
    const c = r.connections[0]!;
    assert.equal(c.teardown, 'rst');
    assert.equal(c.closer, 'server');
    assert.deepEqual(c.states, { client: 'RESET', server: 'CLOSED' });
  });

  test('RST out of window is not a teardown: rst-ignored, connection goes on', () => {
    const cv = new Conversation().handshake();
    cv.c('R', { seq: cv.client.nxt + 1_000_000 });
    cv.c('P.', { len: 10 }).s('.');
    const r = cv.report();
    assert.equal(kinds(r, 'rst-teardown').length, 0);
    assert.equal(kinds(r, 'rst-ignored').length, 1);
    assert.equal(r.connections[0]!.teardown, 'open');
  });

  test('RST in window but not at RCV.NXT expects a challenge ACK', () => {
    const cv = new Conversation().handshake();
    cv.c('R', { seq: cv.client.nxt + 100 });
    const f = kinds(cv.report(), 'rst-ignored')[0]!;
    assert.equal(f.details.verdict, 'challenge-expected');
  });

  test('data after close() answered by a bare RST (seq = that data\'s ack): reply-to-data-after-close', () => {
    const cv = new Conversation().handshake();
    cv.s('F.').c('.').c('P.', { len: 300 });
    cv.s('R', { seq: cv.server.nxt });
    const f = kinds(cv.report(), 'rst-teardown')[0]!;
    assert.equal(f.details.class, 'reply-to-data-after-close');
    assert.equal(f.details.lostBytes, 300);
    assert.equal(f.details.by, 'server');
  });

  test('late FIN after FIN_WAIT_2 expired answered by RST: instead-of-final-ack', () => {
    const cv = new Conversation().handshake();
    cv.c('F.').s('.').s('F.', { dt: 4 });
    cv.c('R', { seq: cv.client.nxt });
    const r = cv.report();
    const f = kinds(r, 'rst-teardown')[0]!;
    assert.equal(f.details.class, 'instead-of-final-ack');
    assert.equal(f.details.finWait2Expired, true);
    assert.equal(r.connections[0]!.closer, 'client');
  });

  test('FIN then RST from the same side with no peer data: after-fin', () => {
    const cv = new Conversation().handshake();
    cv.c('F.').s('.').c('R.', { dt: 0.2 });
    const f = kinds(cv.report(), 'rst-teardown')[0]!;
    assert.equal(f.details.class, 'after-fin');
  });

  test('Linux accepts rcv_nxt-1 after a FIN (macOS-style RST with the FIN\'s sequence)', () => {
    const cv = new Conversation().handshake();
    const finSeq = cv.client.nxt;
    cv.c('F.').s('.').c('R', { seq: finSeq });
    assert.equal(kinds(cv.report(), 'rst-teardown')[0]!.details.class, 'after-fin');
  });

  test('RST with a TTL unlike its sender\'s: possibly-injected-rst', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 10 }).s('.').s('R.', { ttl: 250 });
    assert.equal(kinds(cv.report(), 'possibly-injected-rst').length, 1);
  });
});

describe('RSTs that did not take effect (RFC 9293 §3.10.7, RFC 5961, Linux tcp_inbound_md5_hash)', () => {
  // The field case: an RST carrying a TCP-MD5 option right after the handshake of a connection whose segments carry
  // none; the server ignores it, acknowledges the next request, answers, and both sides close with FIN.
  function md5RstThenFins(md5: boolean) {
    const cv = new Conversation().handshake();
    cv.c('R.', { md5 });
    cv.c('P.', { len: 120 }).s('.').s('P.', { len: 400 }).c('.');
    cv.c('F.').s('F.').c('.');
    return cv.report();
  }

  test('an RST with an unexpected TCP-MD5 option: teardown fin, rst-ignored and possibly-injected-rst with why', () => {
    const r = md5RstThenFins(true);
    const c = r.connections[0]!;
    assert.equal(c.teardown, 'fin');
    assert.equal(c.closer, 'client');
    assert.equal(kinds(r, 'rst-teardown').length, 0);
    const ig = kinds(r, 'rst-ignored')[0]!;
    assert.equal(ig.details.verdict, 'ignored');
    assert.match(String(ig.details.reason), /TCP-MD5/);
    const inj = kinds(r, 'possibly-injected-rst')[0]!;
    assert.equal(inj.details.authMismatch, true);
    assert.equal(inj.evidence[0]?.frame, 4);
  });

  test('an RST at RCV.NXT the receiver never acted on: the inference is revised, visibly', () => {
    const r = md5RstThenFins(false);
    const c = r.connections[0]!;
    assert.equal(c.teardown, 'fin');
    assert.equal(c.closer, 'client');
    assert.equal(kinds(r, 'rst-teardown').length, 0);
    assert.deepEqual(c.revisions.map((v) => [v.what, v.frame, v.revisedBy]), [['rst-not-effective', 4, 6]]);
    const ig = kinds(r, 'rst-ignored')[0]!;
    assert.equal(ig.details.verdict, 'no-effect');
    assert.equal(ig.details.revisedBy, 6);
    assert.deepEqual(ig.evidence.map((e) => e.frame), [4, 6]);
  });
});

describe('RST classes fit the timing and the packets (rules §6.2)', () => {
  test('server FIN; 64 ms later the client still sends data and its FIN; server RST: reply-to-data-after-close with the data frames', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 100 }).s('P.', { len: 300 }).c('.');
    cv.s('F.').c('.', { dt: 0.0001 });
    cv.c('P.', { len: 50, dt: 0.064 }).c('F.', { dt: 0.0001 });
    cv.s('R', { seq: cv.server.nxt, dt: 0.0001 });
    const r = cv.report();
    const f = kinds(r, 'rst-teardown')[0]!;
    assert.equal(f.details.class, 'reply-to-data-after-close');
    assert.deepEqual(f.details.dataFrames, [9]);
    assert.equal(f.details.lostBytes, 50);
    assert.ok(f.evidence.some((e) => e.frame === 9), 'the data frame is evidence');
    assert.doesNotMatch(f.summary, /FIN_WAIT_2/);
    assert.equal(r.connections[0]!.closer, 'server');
  });

  test('a late FIN answered by RST 64 ms after the closer\'s FIN was acknowledged is not a FIN_WAIT_2 expiry', () => {
    const cv = new Conversation().handshake();
    cv.c('F.').s('.').s('F.', { dt: 0.064 });
    cv.c('R', { seq: cv.client.nxt });
    const f = kinds(cv.report(), 'rst-teardown')[0]!;
    assert.equal(f.details.class, 'instead-of-final-ack');
    assert.equal(f.details.finWait2Expired, false);
    assert.equal(f.details.finWait2GoneEarly, true);
    assert.doesNotMatch(f.summary, /had expired/);
  });
});

describe('an RST at RCV.NXT − 1 is accepted by Linux only; a receiver that goes on overrules it', () => {
  test('server FIN, client ACK, server RST at the FIN\'s seq, client FIN after it, server RST: the second RST is the teardown', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 24 }).s('P.', { len: 49 }).c('P.', { len: 2 });
    const finSeq = cv.server.nxt;
    cv.s('F.', { ack: cv.client.nxt - 2 }).c('.');
    cv.s('R', { seq: finSeq });            // RCV.NXT − 1 at the client
    cv.c('FP.');                           // the client (not Linux) goes on: it did not take the RST
    cv.s('R', { seq: finSeq + 1 });
    const r = cv.report();
    const c = r.connections[0]!;
    assert.equal(c.teardown, 'rst');
    assert.equal(c.closer, 'server');
    const t = kinds(r, 'rst-teardown')[0]!;
    assert.equal(t.details.rstFrame, 11);
    assert.equal(t.details.receiverStateBefore, 'LAST_ACK');
    const ig = kinds(r, 'rst-ignored')[0]!;
    assert.equal(ig.evidence[0]!.frame, 9);
    assert.match(String(ig.details.reason), /RCV\.NXT − 1/);
    assert.deepEqual(c.revisions.map((v) => [v.what, v.frame, v.revisedBy]), [['rst-not-effective', 9, 10]]);
  });
});

describe('reply-to-data-after-close when the peer also closed', () => {
  test('client FIN; server sends 27 bytes, its FIN, then ACKs the client FIN; client RST at the data\'s ack: reply-to-data-after-close', () => {
    const cv = new Conversation().handshake();
    cv.c('P.', { len: 100 }).s('P.', { len: 400 }).c('.');
    const cFin = cv.client.nxt;
    cv.c('F.');
    cv.s('P.', { len: 27, ack: cFin, dt: 0.04 }).s('F.', { ack: cFin }).s('.', { ack: cFin + 1 });
    cv.c('R', { seq: cFin });
    const r = cv.report();
    const f = kinds(r, 'rst-teardown')[0]!;
    assert.equal(f.details.class, 'reply-to-data-after-close');
    assert.equal(f.details.lostBytes, 27);
    assert.equal(f.severity, 'warn');
  });
});
