/**
 * The endpoint state machine, one section per RFC 9293 state (as smoltcp's socket tests are organised): each
 * section starts from a builder that puts the client in that state, feeds one segment and checks both inferred
 * states. The pure transition table is checked beside it, arm by arm.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { transition } from '../../src/tcp/transitions.js';
import { inState, Pair } from './builders.js';

describe('builders reach the state they name', () => {
  for (const s of ['SYN_SENT', 'ESTABLISHED', 'MIDSTREAM', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSING', 'TIME_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED'] as const) {
    test(s, () => assert.equal(inState(s).client, s));
  }
  test('SYN_RECEIVED (server)', () => assert.equal(inState('SYN_RECEIVED').server, 'SYN_RECEIVED'));
});

describe('CLOSED / LISTEN (no connection yet)', () => {
  test('FIN, NULL and Xmas probes (no ACK bit) change no state; the closed port\'s RST,ACK is not a teardown', () => {
    for (const flags of ['F', '', 'FPU']) {
      const p = new Pair().c(flags).s('R.', { seq: 0, ack: 1001 });
      assert.equal(p.client, 'UNKNOWN');
      assert.notEqual(p.server, 'MIDSTREAM');
      assert.equal(p.conn.acceptedRst, null);
      assert.equal(p.conn.ep[0].fin, null);
    }
  });
  test('a SYN puts its sender in SYN_SENT and its receiver in LISTEN', () => {
    const p = new Pair().c('S');
    assert.deepEqual([p.client, p.server], ['SYN_SENT', 'LISTEN']);
  });
  test('a first segment that is not a SYN: both sides MIDSTREAM once seen', () => {
    const p = new Pair().c('.', { len: 10 });
    assert.equal(p.client, 'MIDSTREAM');
    p.s('.');
    assert.equal(p.server, 'MIDSTREAM');
  });
  test('table: LISTEN stays LISTEN on another SYN to it', () => {
    assert.equal(transition('LISTEN', { kind: 'peer-syn' }).state, 'LISTEN');
  });
});

describe('SYN_SENT', () => {
  test('SYN-ACK acknowledging the SYN → ESTABLISHED (RFC 9293 §3.10.7.3)', () => {
    const p = inState('SYN_SENT').s('S.');
    assert.deepEqual([p.client, p.server], ['ESTABLISHED', 'SYN_RECEIVED']);
  });
  test('SYN-ACK acknowledging something else → stays SYN_SENT', () => {
    const p = inState('SYN_SENT').s('S.', { ack: 77 });
    assert.equal(p.client, 'SYN_SENT');
  });
  test('RST,ACK acknowledging the SYN → CLOSED (refused)', () => {
    const p = inState('SYN_SENT').s('R.', { seq: 0 });
    assert.equal(p.client, 'CLOSED');
    assert.equal(p.conn.refused, true);
  });
  test('RST,ACK not acknowledging the SYN → ignored, stays SYN_SENT (RFC 9293 §3.10.7.3)', () => {
    const p = inState('SYN_SENT').s('R.', { seq: 0, ack: 12345 });
    assert.equal(p.client, 'SYN_SENT');
    assert.equal(p.conn.acceptedRst, null);
  });
  test('a FIN,ACK with ack 0 from SYN_SENT (no SYN-ACK) is no close: no state changes, no FIN recorded (RFC 9293 §3.10.4)', () => {
    // tcpdump tfo-5c1fa7f9ae91 frames 13,14: a SYN with data never answered, 10 s later FIN,ACK ack=0.
    const p = inState('SYN_SENT').c('F.', { seq: 1005, ack: 0, dt: 10 });
    assert.deepEqual([p.client, p.server], ['SYN_SENT', 'LISTEN']);
    assert.equal(p.conn.ep[0].fin, null);
    assert.equal(p.conn.established, false);
    assert.equal(p.conn.ep[0].unsyncDropped, 1);
  });
  test('an ACK-bearing segment with a nonzero ack from SYN_SENT still shows an uncaptured SYN-ACK', () => {
    const p = inState('SYN_SENT').c('F.', { ack: 5001 });
    assert.equal(p.conn.established, true);
    assert.equal(p.client, 'FIN_WAIT_1');
  });
  test('the SYN sent again with the same ISN stays one attempt in SYN_SENT', () => {
    const p = inState('SYN_SENT').c('S', { seq: 1000, dt: 1 });
    assert.equal(p.client, 'SYN_SENT');
    assert.equal(p.conn.ep[0].synRetx, 1);
  });
});

describe('SYN_RECEIVED', () => {
  test('ACK of the SYN-ACK → ESTABLISHED (RFC 9293 §3.10.7.4 fifth step)', () => {
    const p = inState('SYN_RECEIVED').c('.');
    assert.deepEqual([p.client, p.server], ['ESTABLISHED', 'ESTABLISHED']);
    assert.equal(p.conn.established, true);
  });
  test('a FIN with the handshake ACK → CLOSE_WAIT', () => {
    const p = inState('SYN_RECEIVED').c('F.');
    assert.equal(p.server, 'CLOSE_WAIT');
  });
});

describe('ESTABLISHED', () => {
  test('sending FIN → FIN_WAIT_1, the receiver → CLOSE_WAIT', () => {
    const p = inState('ESTABLISHED').c('F.');
    assert.deepEqual([p.client, p.server], ['FIN_WAIT_1', 'CLOSE_WAIT']);
  });
  test('receiving FIN → CLOSE_WAIT (RFC 9293 §3.10.7.4 eighth step)', () => {
    const p = inState('ESTABLISHED').s('F.');
    assert.deepEqual([p.client, p.server], ['CLOSE_WAIT', 'FIN_WAIT_1']);
  });
  test('RST at RCV.NXT → RESET, its sender CLOSED', () => {
    const p = inState('ESTABLISHED').s('R.');
    assert.deepEqual([p.client, p.server], ['RESET', 'CLOSED']);
  });
  test('RST in window, not at RCV.NXT → stays (RFC 5961 §3.2 challenge ACK)', () => {
    const p = inState('ESTABLISHED').s('R', { seq: 5000 + 1 + 100 });
    assert.equal(p.client, 'ESTABLISHED');
    assert.equal(p.conn.ep[1].rsts[0]?.verdict, 'challenge-expected');
  });
  test('RST out of window → stays, ignored', () => {
    const p = inState('ESTABLISHED').s('R', { seq: 5000 + 1 + 1_000_000 });
    assert.equal(p.client, 'ESTABLISHED');
    assert.equal(p.conn.ep[1].rsts[0]?.verdict, 'ignored');
  });
  test('an RST at RCV.NXT with an unexpected TCP-MD5 option is dropped before validation: stays (Linux tcp_inbound_md5_hash)', () => {
    const p = inState('ESTABLISHED').s('R.', { md5: true });
    assert.equal(p.client, 'ESTABLISHED');
    assert.equal(p.conn.acceptedRst, null);
    assert.match(p.conn.ep[1].rsts[0]?.reason ?? '', /TCP-MD5/);
  });
  test('on a TCP-MD5 connection, a FIN without the option is dropped: no CLOSE_WAIT', () => {
    const p = new Pair().c('S', { md5: true }).s('S.', { md5: true }).c('.', { md5: true }).s('F.');
    assert.equal(p.client, 'ESTABLISHED');
    assert.equal(p.conn.ep[1].fin, null);
  });
  test('an RST at RCV.NXT is taken back when the receiver later acknowledges data sent after it', () => {
    const p = inState('ESTABLISHED').c('R.');
    assert.equal(p.server, 'RESET');
    p.c('P.', { len: 100 }).s('.');
    assert.deepEqual([p.client, p.server], ['ESTABLISHED', 'ESTABLISHED']);
    assert.equal(p.conn.acceptedRst, null);
    assert.equal(p.conn.revisions[0]?.what, 'rst-not-effective');
    assert.equal(p.conn.revisions[0]?.frame, 4);
    assert.equal(p.conn.revisions[0]?.revisedBy, 6);
  });
  test('a FIN far beyond the receiver\'s window is dropped: no CLOSE_WAIT (RFC 9293 §3.10.7.4, Linux tcp_sequence)', () => {
    const p = inState('ESTABLISHED').s('F.', { seq: 5001 + 10_000_000, win: 1000 });
    assert.equal(p.client, 'ESTABLISHED');
    assert.equal(p.conn.ep[1].fin, null);
    p.s('F.').c('.');
    assert.deepEqual([p.client, p.server], ['CLOSE_WAIT', 'FIN_WAIT_2']);
  });
  test('data both ways stays ESTABLISHED', () => {
    const p = inState('ESTABLISHED').c('P.', { len: 100 }).s('P.', { len: 50 }).c('.');
    assert.deepEqual([p.client, p.server], ['ESTABLISHED', 'ESTABLISHED']);
  });
});

describe('MIDSTREAM (observer: handshake not captured)', () => {
  test('an RST to a receiver never seen (one-sided) is unverifiable and taken as a reset', () => {
    const p = new Pair().c('.', { len: 10 }).c('R');
    assert.equal(p.conn.ep[0].rsts[0]?.verdict, 'unverifiable');
    assert.equal(p.client, 'CLOSED');
  });
  test('FIN → FIN_WAIT_1 like ESTABLISHED', () => {
    const p = inState('MIDSTREAM').c('F.');
    assert.deepEqual([p.client, p.server], ['FIN_WAIT_1', 'CLOSE_WAIT']);
  });
});

describe('FIN_WAIT_1', () => {
  test('ACK of the FIN → FIN_WAIT_2 (RFC 9293 §3.10.7.4)', () => {
    assert.equal(inState('FIN_WAIT_1').s('.').client, 'FIN_WAIT_2');
  });
  test('a FIN that also acknowledges ours → TIME_WAIT (three-way close)', () => {
    const p = inState('FIN_WAIT_1').s('F.');
    assert.deepEqual([p.client, p.server], ['TIME_WAIT', 'LAST_ACK']);
  });
  test('a FIN that does not acknowledge ours → CLOSING (simultaneous close)', () => {
    assert.equal(inState('FIN_WAIT_1').s('F.', { ack: 1001 }).client, 'CLOSING');
  });
  test('an ACK below the FIN (data only) → stays FIN_WAIT_1', () => {
    assert.equal(inState('FIN_WAIT_1').s('.', { ack: 1001 }).client, 'FIN_WAIT_1');
  });
});

describe('FIN_WAIT_2', () => {
  test('the peer FIN → TIME_WAIT', () => {
    const p = inState('FIN_WAIT_2').s('F.');
    assert.deepEqual([p.client, p.server], ['TIME_WAIT', 'LAST_ACK']);
  });
  test('data from the peer (half-close) → stays FIN_WAIT_2', () => {
    assert.equal(inState('FIN_WAIT_2').s('P.', { len: 300 }).c('.').client, 'FIN_WAIT_2');
  });
  test('its FIN sent again proves it never got the ACK → back to FIN_WAIT_1', () => {
    assert.equal(inState('FIN_WAIT_2').c('F.', { seq: 1001 }).client, 'FIN_WAIT_1');
  });
});

describe('CLOSING', () => {
  test('ACK of our FIN → TIME_WAIT', () => {
    assert.equal(inState('CLOSING').s('.', { ack: 1002 }).client, 'TIME_WAIT');
  });
  test('both sides end in TIME_WAIT after crossing FINs', () => {
    const p = inState('CLOSING').c('.').s('.', { ack: 1002 });
    assert.deepEqual([p.client, p.server], ['TIME_WAIT', 'TIME_WAIT']);
  });
});

describe('TIME_WAIT', () => {
  test('a retransmitted peer FIN leaves it in TIME_WAIT', () => {
    assert.equal(inState('TIME_WAIT').s('F.', { seq: 5001 }).client, 'TIME_WAIT');
  });
  test('an RST at RCV.NXT closes it (Linux tcp_rfc1337=0)', () => {
    assert.equal(inState('TIME_WAIT').s('R', { seq: 5002 }).client, 'CLOSED');
  });
});

describe('CLOSE_WAIT', () => {
  test('app close → LAST_ACK (RFC 9293 §3.10.4)', () => {
    assert.equal(inState('CLOSE_WAIT').c('F.').client, 'LAST_ACK');
  });
  test('sending data keeps CLOSE_WAIT', () => {
    assert.equal(inState('CLOSE_WAIT').c('P.', { len: 10 }).client, 'CLOSE_WAIT');
  });
  test('a retransmitted peer FIN keeps CLOSE_WAIT', () => {
    assert.equal(inState('CLOSE_WAIT').s('F.', { seq: 5001 }).client, 'CLOSE_WAIT');
  });
});

describe('LAST_ACK', () => {
  test('ACK of the FIN → CLOSED', () => {
    const p = inState('LAST_ACK').s('.');
    assert.deepEqual([p.client, p.server], ['CLOSED', 'TIME_WAIT']);
  });
  test('no ACK: a FIN retransmission keeps LAST_ACK', () => {
    assert.equal(inState('LAST_ACK').c('F.', { seq: 1001, dt: 0.2 }).client, 'LAST_ACK');
  });
});

describe('CLOSED', () => {
  test('refused, then the same SYN again (same ISN) → SYN_SENT, the same attempt; its RST refuses it again', () => {
    const p = inState('SYN_SENT').s('R.', { seq: 0 }).c('S', { seq: 1000, dt: 0.5 });
    assert.equal(p.client, 'SYN_SENT');
    p.s('R.', { seq: 0 });
    assert.equal(p.client, 'CLOSED');
    assert.equal(p.conn.refusals, 2);
    assert.equal(p.conn.ep[0].synRetx, 1);
  });
  test('a FIN retransmission after the captured final ACK → back to LAST_ACK (the ACK was lost)', () => {
    assert.equal(inState('CLOSED').c('F.', { seq: 1001, dt: 0.2 }).client, 'LAST_ACK');
  });
});

describe('transition table arms', () => {
  test('recv-rst: synchronized → RESET, SYN_SENT/TIME_WAIT/CLOSED → CLOSED', () => {
    assert.equal(transition('ESTABLISHED', { kind: 'recv-rst' }).state, 'RESET');
    assert.equal(transition('CLOSE_WAIT', { kind: 'recv-rst' }).state, 'RESET');
    assert.equal(transition('SYN_SENT', { kind: 'recv-rst' }).state, 'CLOSED');
    assert.equal(transition('TIME_WAIT', { kind: 'recv-rst' }).state, 'CLOSED');
  });
  test('every change cites a rule; no-ops cite none', () => {
    const t = transition('FIN_WAIT_1', { kind: 'recv-ack-of-fin' });
    assert.equal(t.state, 'FIN_WAIT_2');
    assert.match(t.rule, /RFC 9293/);
    assert.equal(transition('ESTABLISHED', { kind: 'recv-ack-of-fin' }).rule, '');
  });
  test('recv-fin in CLOSING, LAST_ACK, TIME_WAIT stays', () => {
    for (const s of ['CLOSING', 'LAST_ACK', 'TIME_WAIT'] as const) assert.equal(transition(s, { kind: 'recv-fin', acksOwnFin: false }).state, s);
  });
});
